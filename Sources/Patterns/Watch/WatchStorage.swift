import Synchronization

/// Owns the lock of one watch channel: decide under it (a `WatchState` transition), resume after it.
final class WatchStorage<Value: Sendable>: Sendable {
  private let state: Lock<WatchState<Value>>
  private let waiterIDs = WaiterIDs()

  func makeWaiterID() -> UInt64 { waiterIDs.make() }

  init(_ initial: Value) { state = Lock(WatchState(initial)) }

  /// Runs `body` under the lock. `body` must not resume continuations.
  func withState<T: Sendable>(_ body: (inout WatchState<Value>) -> T) -> T { state.withLock { body(&$0) } }

  func removeSender() {
    for continuation in state.withLock({ $0.removeSender() }) {
      continuation.resume(throwing: WatchReceiveError.closed)
    }
  }

  func removeReceiver() { state.withLock { $0.removeReceiver() }.resume() }

  /// Stores through `body` and, when it returns true, bumps the version and wakes every `changed()`.
  func update(_ body: (inout WatchState<Value>) -> Bool) -> Bool {
    let (notified, woken) = state.withLock { state -> (Bool, [WatchState<Value>.ChangeContinuation]) in
      guard body(&state) else { return (false, []) }
      return (true, state.notify())
    }
    for continuation in woken { continuation.resume() }
    return notified
  }

  func changedOrWait(
    _ receiver: WatchSeen, waiter: UInt64, _ continuation: WatchState<Value>.ChangeContinuation
  ) {
    if let now = state.withLock({ $0.changedOrWait(receiver, waiter: waiter, continuation) }) {
      continuation.resume(with: now)
    }
  }

  func cancelChanged(_ waiter: UInt64) {
    state.withLock { $0.cancelChanged(waiter) }?.resume(throwing: CancellationError())
  }

  /// Returns once there are no receivers, or once the calling task is cancelled.
  func closed() async {
    if withState({ $0.receiverCount == 0 }) { return }
    let id = makeWaiterID()
    await WaiterList.wait(
      "watch closed()", id: id, owner: self,
      detail: { storage in plural(storage.withState { $0.receiverCount }, "receiver") + " alive" },
      park: { continuation in state.withLock { $0.parkClosed(id, continuation) } },
      remove: { storage, id in storage.state.withLock { $0.removeClosed(id) } })
  }
}
