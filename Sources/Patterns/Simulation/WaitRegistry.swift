import Synchronization

/// The simulation's `WaitObserver`: every wait announced by a primitive, in the order it began.
final class WaitRegistry: WaitObserver {
  private struct State {
    var nextID: UInt64 = 0
    var waits: [UInt64: WaitRecord] = [:]
  }

  private let state = Lock(State())

  func waitBegan(_ wait: WaitRecord) -> ActiveWait {
    let id = state.withLock { state in
      let id = state.nextID
      state.nextID += 1
      state.waits[id] = wait
      return id
    }
    return ActiveWait { [self] in
      _ = state.withLock { $0.waits.removeValue(forKey: id) }
    }
  }

  /// The waits still in progress, oldest first.
  var current: [WaitRecord] {
    state.withLock { state in state.waits.sorted { $0.key < $1.key }.map(\.value) }
  }
}
