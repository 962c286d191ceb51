import Synchronization

/// Owns the lock of one watch channel: decide under it (a `WatchState` transition), resume after it.
@usableFromInline
final class WatchStorage<Value: Sendable>: Sendable {
  @usableFromInline let state: Lock<WatchState<Value>>
  @usableFromInline let waiterIDs = WaiterIDs()

  @inlinable func makeWaiterID() -> UInt64 { waiterIDs.make() }

  init(_ initial: Value) { state = Lock(WatchState(initial)) }

  /// Runs `body` under the lock. `body` must not resume continuations.
  @inlinable
  func withState<T: Sendable>(_ body: (inout WatchState<Value>) -> T) -> T { state.withLock { body(&$0) } }

  func removeSender() {
    for continuation in state.withLock({ $0.removeSender() }) {
      continuation.resume(throwing: WatchReceiveError.closed)
    }
  }

  func removeReceiver() { state.withLock { $0.removeReceiver() }.resume() }

  /// Stores through `body` and, when it returns true, bumps the version and wakes every `changed()`.
  @inlinable
  func update(_ body: (inout WatchState<Value>) -> Bool) -> Bool {
    let (notified, woken) = state.withLock { state -> (Bool, [WatchState<Value>.ChangeContinuation]) in
      guard body(&state) else { return (false, []) }
      return (true, state.notify())
    }
    for continuation in woken { continuation.resume() }
    return notified
  }

  /// Waits until the receiver has an unseen value: parks it, unless one came since its fast path.
  @inlinable
  func waitForChange(_ receiver: WatchSeen) async throws {
    let waiter = makeWaiterID()
    let wait = WaitReporting.observer?.begin(
      "watch changed()", detail: { [self] in changeWaitDetail() },
      unwind: { [self] in cancelChanged(waiter) })
    defer { wait?.end() }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        if let now = state.withLock({ $0.changedOrWait(receiver, waiter: waiter, continuation) }) {
          continuation.resume(with: now)
        }
      }
    } onCancel: {
      cancelChanged(waiter)
    }
  }

  /// "1 sender alive, current value seen": what a deadlock report says about a waiting `changed()`.
  @usableFromInline
  func changeWaitDetail() -> String {
    plural(withState { $0.senderCount }, "sender") + " alive, current value seen"
  }

  @usableFromInline
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
