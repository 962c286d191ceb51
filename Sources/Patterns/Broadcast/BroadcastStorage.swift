import Synchronization

/// Owns the lock of one broadcast channel. Every method decides under the lock (a `BroadcastState`
/// transition) and resumes continuations only after releasing it.
@usableFromInline
final class BroadcastStorage<Element: Sendable>: Sendable {
  @usableFromInline let state: Lock<BroadcastState<Element>>
  @usableFromInline let waiterIDs = WaiterIDs()

  init(capacity: Int) { state = Lock(BroadcastState(capacity: capacity)) }

  @inlinable func makeID() -> UInt64 { waiterIDs.make() }
  func addReceiver() -> BroadcastCursor { state.withLock { $0.addReceiver() } }
  func addSender() { state.withLock { $0.addSender() } }

  @inlinable
  func send(_ value: Element) -> Int? {
    let outcome = state.withLock { $0.send(value) }
    guard let outcome else { return nil }
    resume(outcome.resume)
    return outcome.receivers
  }

  func removeSender() { resume(state.withLock { $0.removeSender() }) }

  func removeReceiver(_ cursor: BroadcastCursor) { state.withLock { $0.removeReceiver(cursor) }.resume() }

  @inlinable
  func tryReceive(_ cursor: BroadcastCursor) -> Result<Element, BroadcastTryReceiveError> {
    state.withLock { $0.tryReceive(cursor) }
  }

  /// Waits for the receiver's next message: parks it, unless one came since its fast path.
  @inlinable
  func waitForMessage(_ cursor: BroadcastCursor) async throws -> Element {
    let waiter = makeID()
    let wait = WaitReporting.observer?.begin(
      "broadcast receive", detail: { [self] in receiveWaitDetail() },
      unwind: { [self] in cancelReceive(waiter) })
    defer { wait?.end() }
    return try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        if let now = state.withLock({ $0.receiveOrWait(cursor, waiter: waiter, continuation) }) {
          continuation.resume(with: now.result)
        }
      }
    } onCancel: {
      cancelReceive(waiter)
    }
  }

  @usableFromInline
  func cancelReceive(_ waiter: UInt64) {
    state.withLock { $0.cancelReceive(waiter) }?.resume(throwing: CancellationError())
  }

  /// Returns once there are no receivers, or once the calling task is cancelled.
  func closed() async {
    if read({ $0.receiverCount == 0 }) { return }
    let id = makeID()
    await WaiterList.wait(
      "broadcast closed()", id: id, owner: self,
      detail: { storage in plural(storage.read { $0.receiverCount }, "receiver") + " alive" },
      park: { continuation in state.withLock { $0.parkClosed(id, continuation) } },
      remove: { storage, id in storage.state.withLock { $0.removeClosed(id) } })
  }

  @inlinable
  func read<T: Sendable>(_ body: (BroadcastState<Element>) -> T) -> T { state.withLock { body($0) } }

  /// "2 senders alive, nothing unread": what a deadlock report says about a waiting receive.
  @usableFromInline
  func receiveWaitDetail() -> String {
    plural(read { $0.senderCount }, "sender") + " alive, nothing unread"
  }

  @inlinable
  func resume(_ resumptions: [BroadcastState<Element>.Resumption]) {
    for (continuation, result) in resumptions { continuation.resume(with: result) }
  }
}
