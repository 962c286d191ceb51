/// Every state and transition of one watch channel. `WatchStorage` keeps it under a `Lock` and
/// resumes the continuations a transition hands back after unlocking.
///
/// The value has a version, bumped by every notifying send. Each receiver has a seen version, kept
/// in its own ``WatchSeen`` (as Tokio keeps it in the `Receiver`): equal to the channel's means
/// "seen"; `nil` means "marked changed" (``Watch/Receiver/markChanged()``), which is unseen whatever
/// the version.
@usableFromInline
struct WatchState<Value: Sendable> {
  @usableFromInline typealias ChangeContinuation = CheckedContinuation<Void, any Error>

  @usableFromInline typealias ChangeWaiter = WatchChangeWaiter

  @usableFromInline var value: Value
  @usableFromInline var version: UInt64 = 0
  @usableFromInline var senderCount = 1
  @usableFromInline var receiverCount = 0
  /// Waiting `changed()` calls, oldest first (FIFO wake-up).
  @usableFromInline var changeWaiters: [ChangeWaiter] = []
  /// Waiting `closed()` calls, released when the last receiver goes.
  private var closedWaiters = WaiterList()

  init(_ value: Value) { self.value = value }

  @inlinable var isClosed: Bool { senderCount == 0 }
  var waitingReceivers: Int { changeWaiters.count }
  /// Every parked continuation: waiting `changed()` and `closed()` calls.
  var waiterCount: Int { changeWaiters.count + closedWaiters.count }

  @inlinable func hasUnseen(_ receiver: WatchSeen) -> Bool { receiver.version != version }

  // MARK: transitions

  /// A new receiver, whose seen version is `version` (nil: marked changed).
  mutating func addReceiver(seen version: UInt64?) -> WatchSeen {
    receiverCount += 1
    return WatchSeen(version: version)
  }

  mutating func addSender() { senderCount += 1 }

  @inlinable func markSeen(_ receiver: WatchSeen) { receiver.version = version }
  @inlinable func markChanged(_ receiver: WatchSeen) { receiver.version = nil }

  /// A notifying send stored a new value: bump the version; every waiting `changed()` returns, and
  /// its receiver has now seen the new version (as Tokio's `changed()` marks it).
  @inlinable
  mutating func notify() -> [ChangeContinuation] {
    version += 1
    for waiter in changeWaiters { waiter.seen.version = version }
    defer { changeWaiters = [] }
    return changeWaiters.map { $0.continuation }
  }

  /// The last sender gone: waiting `changed()` calls throw `.closed` (they had seen the value).
  mutating func removeSender() -> [ChangeContinuation] {
    senderCount -= 1
    guard senderCount == 0 else { return [] }
    defer { changeWaiters = [] }
    return changeWaiters.map { $0.continuation }
  }

  /// A receiver object gone; the last one wakes `closed()` waiters.
  mutating func removeReceiver() -> WaiterList.Released {
    receiverCount -= 1
    return receiverCount == 0 ? closedWaiters.releaseAll() : .none
  }

  /// What `changed()` does now: `.success` when the value is unseen (and marks it seen), `.closed`
  /// when seen and every sender is gone, `nil` to wait.
  @inlinable
  func checkChanged(_ receiver: WatchSeen) -> Result<Void, WatchReceiveError>? {
    if hasUnseen(receiver) {
      markSeen(receiver)
      return .success(())
    }
    return isClosed ? .failure(.closed) : nil
  }

  /// `changed()` found nothing: check again, then answer now (returns the result) or park.
  /// A cancelled task is not parked (see `TokenNode.addWaiter` for the race this closes).
  @inlinable
  mutating func changedOrWait(_ receiver: WatchSeen, waiter: UInt64, _ continuation: ChangeContinuation)
    -> Result<Void, any Error>?
  {
    if let now = checkChanged(receiver) { return now.mapError { $0 } }
    if Task.isCancelled { return .failure(CancellationError()) }
    changeWaiters.append(ChangeWaiter(id: waiter, seen: receiver, continuation: continuation))
    return nil
  }

  @usableFromInline
  mutating func cancelChanged(_ waiter: UInt64) -> ChangeContinuation? {
    guard let index = changeWaiters.firstIndex(where: { $0.id == waiter }) else { return nil }
    return changeWaiters.remove(at: index).continuation
  }

  /// `closed()` parks until the last receiver goes; hands the continuation back when none is left.
  mutating func parkClosed(_ waiter: UInt64, _ continuation: WaiterList.Continuation) -> WaiterList
    .Continuation?
  {
    closedWaiters.park(waiter, continuation, unless: receiverCount == 0)
  }

  /// A `closed()` call gives up (cancelled, or unwound); `nil` if it was already released.
  mutating func removeClosed(_ waiter: UInt64) -> WaiterList.Continuation? { closedWaiters.remove(waiter) }
}

/// One receiver's seen version: the version of the value it last saw, or `nil` when marked changed.
///
/// A class so the channel can mark a waiting receiver seen as it wakes it, and so a receiver needs no
/// lookup (a dictionary from receiver to version cost a hash per `changed()`). @unchecked Sendable:
/// `version` is read and written only under the channel's lock, which also makes every access
/// exclusive, so Swift's run-time exclusivity check is skipped.
@usableFromInline
final class WatchSeen: @unchecked Sendable {
  @usableFromInline @exclusivity(unchecked) var version: UInt64?

  @usableFromInline init(version: UInt64?) { self.version = version }
}

// The waiter lives outside the generic `WatchState`: nested in it, its type metadata would be
// generic too, and building it at run time showed up in W4's profile.

/// A waiting `changed()`: its id (for cancellation), its receiver's seen version, its continuation.
@usableFromInline
struct WatchChangeWaiter {
  @usableFromInline let id: UInt64
  @usableFromInline let seen: WatchSeen
  @usableFromInline let continuation: CheckedContinuation<Void, any Error>

  @inlinable
  init(id: UInt64, seen: WatchSeen, continuation: CheckedContinuation<Void, any Error>) {
    self.id = id
    self.seen = seen
    self.continuation = continuation
  }
}
