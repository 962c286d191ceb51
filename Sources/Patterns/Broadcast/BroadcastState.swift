/// Every state and transition of one broadcast channel. Not thread-safe by itself: `BroadcastStorage`
/// keeps it under a `Lock` and resumes the continuations a transition hands back after unlocking.
///
/// Positions: every message sent gets the next position (`tail`, then `tail + 1`, …). The ring slot of
/// position `p` is `slots[p % capacity]`, so the channel holds positions `oldestHeld..<tail`. Each
/// receiver has a cursor, the next position it reads, kept in its own ``BroadcastCursor`` (as Tokio
/// keeps `next` in the `Receiver`). A slot stores the message and how many receivers
/// still have to read it; the message is released when that reaches zero (as Tokio's `rem`).
@usableFromInline
struct BroadcastState<Element: Sendable> {
  @usableFromInline typealias Continuation = CheckedContinuation<Element, any Error>
  @usableFromInline typealias Resumption = (continuation: Continuation, result: Result<Element, any Error>)

  @usableFromInline
  struct Slot {
    @usableFromInline var value: Element?
    /// Receivers that were subscribed when the value was sent and have not read it yet.
    @usableFromInline var remaining = 0

    @inlinable
    init(value: Element? = nil, remaining: Int = 0) {
      self.value = value
      self.remaining = remaining
    }
  }

  @usableFromInline
  struct ReceiveWaiter {
    @usableFromInline var id: UInt64
    @usableFromInline var receiver: BroadcastCursor
    @usableFromInline var continuation: Continuation

    @inlinable
    init(id: UInt64, receiver: BroadcastCursor, continuation: Continuation) {
      self.id = id
      self.receiver = receiver
      self.continuation = continuation
    }
  }

  @usableFromInline let capacity: Int
  @usableFromInline var slots: [Slot]
  /// The position the next message gets; also how many messages were ever sent.
  @usableFromInline var tail: UInt64 = 0
  @usableFromInline var senderCount = 1
  @usableFromInline var receiverCount = 0
  /// Waiting receives, oldest first (FIFO wake-up).
  @usableFromInline var receiveWaiters: [ReceiveWaiter] = []
  /// Waiting `closed()` calls, released when the last receiver goes.
  private var closedWaiters = WaiterList()
  /// Slots with `remaining > 0`, kept as slots change so `Sender.count` costs O(1), not O(capacity).
  @usableFromInline var heldCount = 0

  init(capacity: Int) {
    self.capacity = capacity
    slots = Array(repeating: Slot(), count: capacity)
  }

  @inlinable var isClosed: Bool { senderCount == 0 }
  /// The oldest position still in the ring.
  @inlinable var oldestHeld: UInt64 { tail > UInt64(capacity) ? tail - UInt64(capacity) : 0 }
  var waitingReceivers: Int { receiveWaiters.count }
  /// Every parked continuation: waiting receives and waiting `closed()` calls.
  var waiterCount: Int { receiveWaiters.count + closedWaiters.count }

  /// Unread messages for one receiver, lost ones included (Tokio's `Receiver::len`).
  @inlinable func unread(_ receiver: BroadcastCursor) -> Int { Int(tail - receiver.next) }

  // MARK: transitions

  /// A receiver joins at the tail: it reads only what is sent from now on.
  mutating func addReceiver() -> BroadcastCursor {
    receiverCount += 1
    return BroadcastCursor(next: tail)
  }

  /// A sender object is made (`clone()`).
  mutating func addSender() { senderCount += 1 }

  /// Stores `value` for every current receiver, overwriting the oldest slot when full, and hands the
  /// message to every waiting receive. Fails, storing nothing, when there are no receivers.
  @inlinable
  mutating func send(_ value: Element) -> (receivers: Int, resume: [Resumption])? {
    guard receiverCount > 0 else { return nil }
    // Overwriting a slot with `remaining > 0` is what makes a slow receiver lag: it finds out on its
    // next receive, by comparing its cursor with `oldestHeld`.
    let index = Int(tail % UInt64(capacity))
    if slots[index].remaining == 0 { heldCount += 1 }  // else an unread message is overwritten: still one
    slots[index] = Slot(value: value, remaining: receiverCount)
    tail += 1
    return (receiverCount, serveWaiters())
  }

  /// The last sender object is gone: waiting receives get `.closed` (they had read everything).
  mutating func removeSender() -> [Resumption] {
    senderCount -= 1
    return senderCount == 0 ? serveWaiters() : []
  }

  /// A receiver object is gone: release its unread messages; the last one wakes `closed()` waiters.
  mutating func removeReceiver(_ receiver: BroadcastCursor) -> WaiterList.Released {
    receiverCount -= 1
    for position in max(receiver.next, oldestHeld)..<tail { release(position) }
    return receiverCount == 0 ? closedWaiters.releaseAll() : .none
  }

  /// Reads the receiver's next message, or says why there is none. Lag moves the cursor to the
  /// oldest message still held and is reported once.
  @inlinable
  mutating func tryReceive(_ receiver: BroadcastCursor) -> Result<Element, BroadcastTryReceiveError> {
    let cursor = receiver.next
    if cursor == tail { return .failure(isClosed ? .closed : .empty) }
    if cursor < oldestHeld {
      receiver.next = oldestHeld
      return .failure(.lagged(missed: Int(oldestHeld - cursor)))
    }
    let value = slots[Int(cursor % UInt64(capacity))].value!
    release(cursor)
    receiver.next = cursor + 1
    return .success(value)
  }

  /// A receive that found nothing: read again (a send may have come in between) and either answer
  /// now or park the continuation. Parks nothing for a task already cancelled: it would never be
  /// removed, because its cancellation handler has already run (or runs before the flag is read).
  @inlinable
  mutating func receiveOrWait(_ receiver: BroadcastCursor, waiter: UInt64, _ continuation: Continuation)
    -> Resumption?
  {
    switch tryReceive(receiver) {
    case .success(let value): return (continuation, .success(value))
    case .failure(.closed): return (continuation, .failure(BroadcastReceiveError.closed))
    case .failure(.lagged(let missed)):
      return (continuation, .failure(BroadcastReceiveError.lagged(missed: missed)))
    case .failure(.empty):
      if Task.isCancelled { return (continuation, .failure(CancellationError())) }
      receiveWaiters.append(ReceiveWaiter(id: waiter, receiver: receiver, continuation: continuation))
      return nil
    }
  }

  /// Ends one waiting receive with `CancellationError` (its task was cancelled, or a deadlock is
  /// unwound). Nothing if it was already served.
  @usableFromInline
  mutating func cancelReceive(_ waiter: UInt64) -> Continuation? {
    guard let index = receiveWaiters.firstIndex(where: { $0.id == waiter }) else { return nil }
    return receiveWaiters.remove(at: index).continuation
  }

  /// `closed()` parks until the last receiver goes; hands the continuation back when none is left.
  mutating func parkClosed(_ waiter: UInt64, _ continuation: WaiterList.Continuation) -> WaiterList
    .Continuation?
  {
    closedWaiters.park(waiter, continuation, unless: receiverCount == 0)
  }

  /// A `closed()` call gives up (cancelled, or unwound); `nil` if it was already released.
  mutating func removeClosed(_ waiter: UInt64) -> WaiterList.Continuation? { closedWaiters.remove(waiter) }

  // MARK: helpers

  /// Answers every waiting receive that now has an answer, oldest first; the rest keep waiting.
  @inlinable
  mutating func serveWaiters() -> [Resumption] {
    var resume: [Resumption] = []
    var still: [ReceiveWaiter] = []
    for waiter in receiveWaiters {
      switch tryReceive(waiter.receiver) {
      case .success(let value): resume.append((waiter.continuation, .success(value)))
      case .failure(.closed): resume.append((waiter.continuation, .failure(BroadcastReceiveError.closed)))
      case .failure(.lagged(let missed)):
        resume.append((waiter.continuation, .failure(BroadcastReceiveError.lagged(missed: missed))))
      case .failure(.empty): still.append(waiter)  // two receives on one receiver: the second waits
      }
    }
    receiveWaiters = still
    return resume
  }

  /// One receiver is done with `position`; the last one releases the message.
  @inlinable
  mutating func release(_ position: UInt64) {
    let index = Int(position % UInt64(capacity))
    slots[index].remaining -= 1
    if slots[index].remaining == 0 {
      slots[index].value = nil
      heldCount -= 1
    }
  }
}

/// One receiver's cursor: the next position it reads.
///
/// A class so a receiver needs no lookup (a dictionary from receiver to position cost a hash per
/// message, a third of W3's instructions). @unchecked Sendable: `next` is read and written only under
/// the channel's lock, which also makes every access exclusive, so Swift's run-time exclusivity
/// check is skipped.
@usableFromInline
final class BroadcastCursor: @unchecked Sendable {
  @usableFromInline @exclusivity(unchecked) var next: UInt64

  @usableFromInline init(next: UInt64) { self.next = next }
}
