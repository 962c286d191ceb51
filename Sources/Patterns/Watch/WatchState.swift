/// Every state and transition of one watch channel. `WatchStorage` keeps it under a `Lock` and
/// resumes the continuations a transition hands back after unlocking.
///
/// The value has a version, bumped by every notifying send. Each receiver has a seen version: equal
/// to the channel's means "seen"; `nil` means "marked changed" (``Watch/Receiver/markChanged()``),
/// which is unseen whatever the version.
struct WatchState<Value: Sendable> {
  typealias ChangeContinuation = CheckedContinuation<Void, any Error>

  var value: Value
  private(set) var version: UInt64 = 0
  private(set) var senderCount = 1
  /// Receiver id → the version it has seen. Never iterated where order matters.
  private var seen: [UInt64: UInt64?] = [:]
  /// Waiting `changed()` calls, oldest first (FIFO wake-up).
  private var changeWaiters: [(id: UInt64, receiver: UInt64, continuation: ChangeContinuation)] = []
  private var closedWaiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
  private var nextID: UInt64 = 0

  init(_ value: Value) { self.value = value }

  var receiverCount: Int { seen.count }
  var isClosed: Bool { senderCount == 0 }
  var waitingReceivers: Int { changeWaiters.count }
  /// Every parked continuation: waiting `changed()` and `closed()` calls.
  var waiterCount: Int { changeWaiters.count + closedWaiters.count }

  mutating func makeID() -> UInt64 {
    defer { nextID += 1 }
    return nextID
  }

  func hasUnseen(_ receiver: UInt64) -> Bool { seen[receiver] != .some(version) }

  // MARK: transitions

  mutating func addReceiver(seen version: UInt64?) -> UInt64 {
    let id = makeID()
    seen[id] = .some(version)
    return id
  }

  func seenVersion(_ receiver: UInt64) -> UInt64? { seen[receiver] ?? nil }

  mutating func addSender() { senderCount += 1 }

  mutating func markSeen(_ receiver: UInt64) { seen[receiver] = .some(version) }
  mutating func markChanged(_ receiver: UInt64) { seen[receiver] = .some(nil) }

  /// A notifying send stored a new value: bump the version; every waiting `changed()` returns, and
  /// its receiver has now seen the new version (as Tokio's `changed()` marks it).
  mutating func notify() -> [ChangeContinuation] {
    version += 1
    for waiter in changeWaiters { seen[waiter.receiver] = .some(version) }
    defer { changeWaiters = [] }
    return changeWaiters.map(\.continuation)
  }

  /// The last sender gone: waiting `changed()` calls throw `.closed` (they had seen the value).
  mutating func removeSender() -> [ChangeContinuation] {
    senderCount -= 1
    guard senderCount == 0 else { return [] }
    defer { changeWaiters = [] }
    return changeWaiters.map(\.continuation)
  }

  /// A receiver object gone; the last one wakes `closed()` waiters.
  mutating func removeReceiver(_ receiver: UInt64) -> [CheckedContinuation<Void, Never>] {
    guard seen.removeValue(forKey: receiver) != nil, seen.isEmpty else { return [] }
    defer { closedWaiters = [] }
    return closedWaiters.map(\.continuation)
  }

  /// What `changed()` does now: `.success` when the value is unseen (and marks it seen), `.closed`
  /// when seen and every sender is gone, `nil` to wait.
  mutating func checkChanged(_ receiver: UInt64) -> Result<Void, WatchReceiveError>? {
    if hasUnseen(receiver) {
      markSeen(receiver)
      return .success(())
    }
    return isClosed ? .failure(.closed) : nil
  }

  /// `changed()` found nothing: check again, then answer now (returns the result) or park.
  /// A cancelled task is not parked (see `TokenNode.addWaiter` for the race this closes).
  mutating func changedOrWait(_ receiver: UInt64, waiter: UInt64, _ continuation: ChangeContinuation)
    -> Result<Void, any Error>?
  {
    if let now = checkChanged(receiver) { return now.mapError { $0 } }
    if Task.isCancelled { return .failure(CancellationError()) }
    changeWaiters.append((waiter, receiver, continuation))
    return nil
  }

  mutating func cancelChanged(_ waiter: UInt64) -> ChangeContinuation? {
    guard let index = changeWaiters.firstIndex(where: { $0.id == waiter }) else { return nil }
    return changeWaiters.remove(at: index).continuation
  }

  mutating func closedOrWait(_ waiter: UInt64, _ continuation: CheckedContinuation<Void, Never>) -> Bool {
    if receiverCount == 0 || Task.isCancelled { return true }
    closedWaiters.append((waiter, continuation))
    return false
  }

  mutating func cancelClosed(_ waiter: UInt64) -> CheckedContinuation<Void, Never>? {
    guard let index = closedWaiters.firstIndex(where: { $0.id == waiter }) else { return nil }
    return closedWaiters.remove(at: index).continuation
  }
}
