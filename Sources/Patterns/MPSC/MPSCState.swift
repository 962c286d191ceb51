extension MPSC {
  @usableFromInline typealias SendContinuation = UnsafeContinuation<Void, any Error>
  @usableFromInline typealias ReceiveContinuation = UnsafeContinuation<Element?, Never>

  /// A task waiting in `send` (with its value) or in `reserve` (value `nil`) for a free slot.
  @usableFromInline
  struct SendWaiter: Sendable {
    @usableFromInline var id: UInt64
    @usableFromInline var value: Element?
    @usableFromInline var continuation: SendContinuation

    @inlinable
    init(id: UInt64, value: Element?, continuation: SendContinuation) {
      self.id = id
      self.value = value
      self.continuation = continuation
    }

    /// Why a waiter that can no longer get a slot fails: the receiver closed.
    @inlinable
    var closedError: any Error {
      if let value { return SendError(value: value) }
      return ClosedError()
    }
  }

  /// The receiving task, parked because the buffer is empty and senders are still alive.
  @usableFromInline
  struct ReceiveWaiter: Sendable {
    @usableFromInline var id: UInt64
    @usableFromInline var continuation: ReceiveContinuation

    @inlinable
    init(id: UInt64, continuation: ReceiveContinuation) {
      self.id = id
      self.continuation = continuation
    }
  }

  /// What a send that may not wait found. The caller acts after unlocking.
  @usableFromInline
  enum SendAction: Sendable {
    /// The value is in the buffer.
    case buffered
    /// The receiver was waiting on an empty buffer: resume it with the value.
    case handOff(ReceiveContinuation)
    /// No free slot (or earlier senders are waiting for one): wait, or report `.full`.
    case full
    /// The receiver closed or is gone.
    case closed
  }

  /// What a reserve that may not wait found. The caller acts after unlocking.
  @usableFromInline
  enum ReserveAction: Sendable {
    /// A slot is taken for the new permit.
    case reserved
    /// No free slot (or earlier senders are waiting for one): wait.
    case full
    /// The receiver closed or is gone.
    case closed
  }

  /// What a receive that may not wait found. The caller acts after unlocking.
  @usableFromInline
  enum ReceiveAction: Sendable {
    /// A value; the slot it freed went to the waiting sender, if any, to be resumed.
    case value(Element, resume: SendContinuation?)
    /// Every sender and permit is gone (or the receiver closed) and the buffer is drained.
    case finished
    /// Nothing buffered yet, but a value may still come.
    case empty
  }

  /// Wake-ups collected under the lock, performed after it is released.
  @usableFromInline
  struct Wakeups: Sendable {
    @usableFromInline var senders: [SendContinuation] = []
    @usableFromInline var failedSenders: [(SendContinuation, any Error)] = []
    @usableFromInline var receiver: (ReceiveContinuation, Element?)?
    // The continuations, not a `WaiterList.Released`: W7a counted 54 instructions per round trip for
    // destroying that struct and calling its `resume()` when there was nobody to wake.
    @usableFromInline var closedWaiters: [WaiterList.Continuation] = []

    @inlinable init() {}

    /// Resumes everyone, in the order they began waiting within each group.
    @inlinable
    func perform() {
      if let (continuation, value) = receiver { continuation.resume(returning: value) }
      for continuation in senders { continuation.resume() }
      for (continuation, error) in failedSenders { continuation.resume(throwing: error) }
      for continuation in closedWaiters { continuation.resume() }
    }
  }

  /// Every state of one channel, and every transition. Lives inside the storage's `Lock`; each
  /// method is one transition and runs under the lock. None resumes a continuation: they return
  /// what to resume, and the storage does it after unlocking (a resumed task may run at once, on
  /// this thread, and must not find the lock held).
  ///
  /// Slots: a bounded channel has `maxCapacity` slots. A slot is taken by a buffered value or by an
  /// outstanding permit; a value handed straight to a waiting receiver takes none. Invariant: while
  /// senders wait, no slot is free (a freed slot goes to the oldest waiter at once, so nobody can
  /// overtake it with `trySend`).
  @usableFromInline
  struct State: Sendable {
    /// Where the channel is in its life. It only moves forward: open → closed → receiver gone, or
    /// open → receiver gone.
    @usableFromInline
    enum Lifecycle: Sendable {
      /// Sends and reservations are accepted.
      case open
      /// `close()` was called: nothing new gets in, but the receiver still drains what is buffered
      /// and what permits reserved before the close still send.
      case closed
      /// The receiver is gone: nothing new gets in, the buffer was released, and a permit's send
      /// drops its value.
      case receiverGone
    }

    @usableFromInline var buffer: RingBuffer<Element>
    @usableFromInline let maxCapacity: Int
    @usableFromInline let isBounded: Bool
    /// Sender objects alive (`Sender` or `UnboundedSender`).
    @usableFromInline var senders = 1
    /// Weak sender objects alive; they do not keep the channel open.
    @usableFromInline var weakSenders = 0
    /// Permits reserved and neither sent nor dropped. Each holds a slot and keeps the channel open.
    @usableFromInline var permits = 0
    @usableFromInline var lifecycle = Lifecycle.open
    @usableFromInline var receiveWaiter: ReceiveWaiter?
    @usableFromInline var sendWaiters = RingBuffer<SendWaiter>()
    /// Senders' `closed()` calls, released when the channel leaves `open`.
    @usableFromInline var closedWaiters = WaiterList()
    /// Timed sends whose deadline passed before they began waiting.
    @usableFromInline var expiredSends: Set<UInt64> = []
    /// How many live senders each task created, for deadlock reports ("held by main").
    @usableFromInline var holders: [String: Int]

    @inlinable
    init(maxCapacity: Int, isBounded: Bool, firstHolder: String) {
      self.maxCapacity = maxCapacity
      self.isBounded = isBounded
      buffer = RingBuffer(initialCapacity: Swift.min(maxCapacity, 16))
      holders = [firstHolder: 1]
    }

    /// `close()` was called or the receiver is gone: no new sends.
    @inlinable
    var isClosed: Bool {
      if case .open = lifecycle { return false }
      return true
    }

    /// Sender objects and permits: what keeps the channel open.
    @inlinable var strongCount: Int { senders + permits }

    /// Slots neither holding a value nor reserved by a permit.
    @inlinable var freeSlots: Int { isBounded ? maxCapacity - buffer.count - permits : Int.max }

    /// `receive()` returns `nil` from now on: nothing buffered, no permit that could still send, and
    /// either no sender left or the receiver closed.
    @inlinable
    var isFinished: Bool { buffer.isEmpty && permits == 0 && (senders == 0 || isClosed) }

    // MARK: sending

    /// A send that must not wait (`send`'s fast path, `trySend`, the unbounded `send`).
    @inlinable
    mutating func send(_ value: Element) -> SendAction {
      if isClosed { return .closed }
      if freeSlots <= 0 { return .full }  // also when senders wait: they hold no slot, so none is free
      if let waiter = receiveWaiter {
        receiveWaiter = nil
        return .handOff(waiter.continuation)
      }
      buffer.append(value)
      return .buffered
    }

    /// A reserve that must not wait: takes a slot for a permit.
    @inlinable
    mutating func reserve() -> ReserveAction {
      if isClosed { return .closed }
      if freeSlots <= 0 { return .full }
      permits += 1
      return .reserved
    }

    /// Queues a sender (value) or reserver (`nil`) that found no slot, unless things changed since
    /// its fast path: the receiver closed, a slot came free, its deadline passed, or its task was
    /// cancelled. Reading `Task.isCancelled` under the lock closes the race with the cancellation
    /// handler: either this sees the flag, or the handler finds the waiter queued.
    @inlinable
    mutating func enqueueSender(
      _ id: UInt64, _ value: Element?, _ continuation: SendContinuation, into wakeups: inout Wakeups
    ) {
      let waiter = SendWaiter(id: id, value: value, continuation: continuation)
      if isClosed {
        wakeups.failedSenders.append((continuation, waiter.closedError))
      } else if !expiredSends.isEmpty, expiredSends.remove(id) != nil {
        wakeups.failedSenders.append((continuation, SendTimeoutError.timeout(value!)))
      } else if sendWaiters.isEmpty, freeSlots > 0 {
        grant(waiter, into: &wakeups)
      } else if Task.isCancelled {
        wakeups.failedSenders.append((continuation, CancellationError()))
      } else {
        sendWaiters.append(waiter)
      }
    }

    /// Gives a free slot to `waiter`: its value goes to the waiting receiver or the buffer, or it
    /// becomes a permit.
    @inlinable
    mutating func grant(_ waiter: SendWaiter, into wakeups: inout Wakeups) {
      if let value = waiter.value {
        if let receiver = receiveWaiter {
          receiveWaiter = nil
          wakeups.receiver = (receiver.continuation, value)
        } else {
          buffer.append(value)
        }
      } else {
        permits += 1
      }
      wakeups.senders.append(waiter.continuation)
    }

    /// A slot came free: hand free slots to waiting senders, oldest first.
    @inlinable
    mutating func serveWaiters(into wakeups: inout Wakeups) {
      while freeSlots > 0, let waiter = sendWaiters.popFirst() { grant(waiter, into: &wakeups) }
    }

    /// Takes a waiting sender out of the queue (cancelled, timed out, or unwound). Its place goes to
    /// the next in line; it held no slot, so nothing else changes.
    @inlinable
    mutating func removeSender(_ id: UInt64) -> SendWaiter? {
      for offset in 0..<sendWaiters.count where sendWaiters[offset].id == id {
        return sendWaiters.remove(at: offset)
      }
      return nil
    }

    /// A permit sends: its slot now holds the value, or is freed if the receiver was waiting.
    /// After the receiver is gone the value is returned, to be released outside the lock.
    @inlinable
    mutating func permitSend(_ value: Element, into wakeups: inout Wakeups) -> Element? {
      permits -= 1
      if case .receiverGone = lifecycle { return value }
      if let receiver = receiveWaiter {
        receiveWaiter = nil
        wakeups.receiver = (receiver.continuation, value)
        serveWaiters(into: &wakeups)
      } else {
        buffer.append(value)
      }
      return nil
    }

    /// A permit is dropped unsent: its slot is free again, and it no longer keeps the channel open.
    @inlinable
    mutating func permitDropped(into wakeups: inout Wakeups) {
      permits -= 1
      if !isClosed { serveWaiters(into: &wakeups) }
      wakeReceiverIfFinished(into: &wakeups)
    }

    // MARK: receiving

    /// A receive that must not wait.
    @inlinable
    mutating func receive() -> ReceiveAction {
      if let value = buffer.popFirst() {
        // The freed slot goes to the oldest waiting sender; with the receiver busy here, its value
        // goes to the buffer. One slot, so at most one waiter.
        guard let waiter = sendWaiters.popFirst() else { return .value(value, resume: nil) }
        if let sent = waiter.value { buffer.append(sent) } else { permits += 1 }
        return .value(value, resume: waiter.continuation)
      }
      return isFinished ? .finished : .empty
    }

    /// Takes up to `limit` buffered values without waiting; freed slots go to waiting senders.
    @inlinable
    mutating func receive(into values: inout [Element], limit: Int, wakeups: inout Wakeups) -> Int {
      var taken = 0
      while taken < limit, let value = buffer.popFirst() {
        values.append(value)
        taken += 1
      }
      if taken > 0, !sendWaiters.isEmpty { serveWaiters(into: &wakeups) }
      return taken
    }

    /// Parks the receiver, unless a value arrived, the channel finished, or the task was cancelled
    /// since its fast path (then it is resumed at once: with the value, or with `nil`).
    @inlinable
    mutating func enqueueReceiver(
      _ id: UInt64, _ continuation: ReceiveContinuation, into wakeups: inout Wakeups
    ) {
      switch receive() {
      case .value(let value, let resume):
        wakeups.receiver = (continuation, value)
        if let resume { wakeups.senders.append(resume) }
      case .finished:
        wakeups.receiver = (continuation, nil)
      case .empty:
        if Task.isCancelled {
          wakeups.receiver = (continuation, nil)
        } else {
          precondition(
            receiveWaiter == nil,
            "MPSC.Receiver: two tasks are receiving at once; a receiver serves one consuming task at a time")
          receiveWaiter = ReceiveWaiter(id: id, continuation: continuation)
        }
      }
    }

    /// Ends the receiver's wait with `nil` (its task was cancelled, or a deadlock is being unwound).
    @inlinable
    mutating func removeReceiver(_ id: UInt64) -> ReceiveContinuation? {
      guard let waiter = receiveWaiter, waiter.id == id else { return nil }
      receiveWaiter = nil
      return waiter.continuation
    }

    /// The waiting receiver gets `nil` once nothing more can arrive.
    @inlinable
    mutating func wakeReceiverIfFinished(into wakeups: inout Wakeups) {
      guard isFinished, let waiter = receiveWaiter else { return }
      receiveWaiter = nil
      wakeups.receiver = (waiter.continuation, nil)
    }

    // MARK: closing and handles

    /// `close()`: no new sends or permits; waiting senders fail at once; `closed()` returns.
    /// Buffered values and outstanding permits still drain.
    @usableFromInline
    mutating func close(into wakeups: inout Wakeups) {
      if case .open = lifecycle {
        lifecycle = .closed
        while let waiter = sendWaiters.popFirst() {
          wakeups.failedSenders.append((waiter.continuation, waiter.closedError))
        }
        wakeups.closedWaiters = closedWaiters.releaseAll().continuations
      }
      wakeReceiverIfFinished(into: &wakeups)
    }

    /// The receiver is gone: close, and hand back the buffered values to be released outside the lock.
    @usableFromInline
    mutating func receiverDropped(into wakeups: inout Wakeups) -> [Element] {
      close(into: &wakeups)
      lifecycle = .receiverGone
      return buffer.removeAll()
    }

    /// A sender's `closed()` parks until the channel closes; hands the continuation back if it has.
    @usableFromInline
    mutating func parkClosed(_ id: UInt64, _ continuation: WaiterList.Continuation) -> WaiterList
      .Continuation?
    {
      closedWaiters.park(id, continuation, unless: isClosed)
    }

    /// A `closed()` call gives up (cancelled, or unwound); `nil` if it was already released.
    @usableFromInline
    mutating func removeClosed(_ id: UInt64) -> WaiterList.Continuation? { closedWaiters.remove(id) }

    /// A sender object was deinitialized; the last one (with no permit out) finishes the channel.
    @usableFromInline
    mutating func senderDropped(heldBy holder: String, into wakeups: inout Wakeups) {
      senders -= 1
      if let count = holders[holder], count > 1 { holders[holder] = count - 1 } else { holders[holder] = nil }
      wakeReceiverIfFinished(into: &wakeups)
    }

    /// A new sender object (a clone, or an upgraded weak sender).
    @usableFromInline
    mutating func senderCreated(heldBy holder: String) {
      senders += 1
      holders[holder, default: 0] += 1
    }

    /// "1 sender still alive, held by main": what the receive wait is waiting for.
    @usableFromInline
    var receiveWaitDetail: String {
      var parts: [String] = []
      if isClosed {
        parts.append("receiver closed")
      } else {
        let names = holders.sorted { $0.key < $1.key }.map {
          $0.value == 1 ? $0.key : "\($0.key) (\($0.value))"
        }
        parts.append(
          "\(plural(senders, "sender")) still alive"
            + (names.isEmpty ? "" : ", held by " + names.joined(separator: ", ")))
      }
      if permits > 0 { parts.append("\(plural(permits, "permit")) reserved, not yet sent") }
      return parts.joined(separator: "; ")
    }

    /// "channel full: 4 of 4 slots taken": what a waiting sender is waiting for.
    @usableFromInline
    var sendWaitDetail: String {
      var detail = "channel full: \(maxCapacity - freeSlots) of \(maxCapacity) slots taken"
      if permits > 0 { detail += " (\(permits) by permits)" }
      if sendWaiters.count > 1 { detail += "; \(sendWaiters.count) senders in line" }
      return detail
    }
  }
}
