import Synchronization

extension MPSC {
  /// One channel: the lock around its `State`, and every operation in two steps — decide under the
  /// lock, then resume whoever must wake, after unlocking. Senders, the receiver, permits and weak
  /// senders all point here.
  ///
  /// The fast paths (a value buffered, a slot free) take the lock once, allocate nothing, and never
  /// touch a task-local. Only a wait that really suspends announces itself through `WaitReporting`.
  @usableFromInline
  final class Storage: Sendable {
    @usableFromInline let state: Lock<State>
    @usableFromInline let waiterIDs = WaiterIDs()

    @usableFromInline
    init(maxCapacity: Int, isBounded: Bool, firstHolder: String) {
      state = Lock(State(maxCapacity: maxCapacity, isBounded: isBounded, firstHolder: firstHolder))
    }

    @inlinable
    func makeWaiterID() -> UInt64 { waiterIDs.make() }

    // MARK: sending

    /// Sends without waiting; resumes a waiting receiver directly with the value.
    @inlinable
    func trySend(_ value: Element) -> SendAction {
      let action = state.withLock { $0.send(value) }
      if case .handOff(let receiver) = action { receiver.resume(returning: value) }
      return action
    }

    /// Waits in line for a slot (FIFO), then sends `value`, or takes the slot as a permit when
    /// `value` is `nil`. Throws `SendError`/`ClosedError` if the receiver closes, `CancellationError`
    /// if the task is cancelled (the value is not delivered and the place in line is given up).
    @inlinable
    func waitForSlot(_ value: Element?, id: UInt64) async throws {
      let wait = WaitReporting.observer?.begin(
        value == nil ? "mpsc reserve" : "mpsc send",
        detail: { [self] in state.withLock { $0.sendWaitDetail } },
        unwind: { [self] in cancelSender(id) })
      defer { wait?.end() }
      try await withTaskCancellationHandler {
        try await withUnsafeThrowingContinuation { (continuation: SendContinuation) in
          var wakeups = Wakeups()
          state.withLock { $0.enqueueSender(id, value, continuation, into: &wakeups) }
          wakeups.perform()
        }
      } onCancel: {
        cancelSender(id)
      }
    }

    /// Ends a waiting send with `CancellationError`. Safe at any time, and more than once.
    @usableFromInline
    func cancelSender(_ id: UInt64) {
      let waiter = state.withLock { $0.removeSender(id) }
      waiter?.continuation.resume(throwing: CancellationError())
    }

    /// The deadline of a timed send passed: end its wait with `.timeout`, or remember that it passed
    /// if the send has not begun waiting yet.
    @usableFromInline
    func expireSender(_ id: UInt64) {
      let waiter = state.withLock { state -> SendWaiter? in
        if let waiter = state.removeSender(id) { return waiter }
        state.expiredSends.insert(id)
        return nil
      }
      guard let waiter, let value = waiter.value else { return }
      waiter.continuation.resume(throwing: SendTimeoutError.timeout(value))
    }

    @usableFromInline
    func forgetExpiry(_ id: UInt64) {
      state.withLock { _ = $0.expiredSends.remove(id) }
    }

    /// Takes a slot for a permit without waiting.
    @inlinable
    func tryReserve() -> ReserveAction { state.withLock { $0.reserve() } }

    @usableFromInline
    func permitSend(_ value: Element) {
      var wakeups = Wakeups()
      let unwanted = state.withLock { $0.permitSend(value, into: &wakeups) }
      wakeups.perform()
      _ = consume unwanted  // released here, outside the lock
    }

    @usableFromInline
    func permitDropped() {
      var wakeups = Wakeups()
      state.withLock { $0.permitDropped(into: &wakeups) }
      wakeups.perform()
    }

    // MARK: receiving

    /// Receives without waiting; wakes the sender that gets the freed slot.
    @inlinable
    func tryReceive() -> ReceiveAction {
      let action = state.withLock { $0.receive() }
      if case .value(_, let resume?) = action { resume.resume() }
      return action
    }

    /// Waits for a value. `nil` once the channel is finished, or when the task is cancelled.
    @inlinable
    func waitForValue() async -> Element? {
      let id = makeWaiterID()
      let wait = WaitReporting.observer?.begin(
        "mpsc receive",
        detail: { [self] in state.withLock { $0.receiveWaitDetail } },
        unwind: { [self] in cancelReceiver(id) })
      defer { wait?.end() }
      return await withTaskCancellationHandler {
        await withUnsafeContinuation { (continuation: ReceiveContinuation) in
          var wakeups = Wakeups()
          state.withLock { $0.enqueueReceiver(id, continuation, into: &wakeups) }
          wakeups.perform()
        }
      } onCancel: {
        cancelReceiver(id)
      }
    }

    /// Ends the receiver's wait with `nil`. Safe at any time, and more than once.
    @usableFromInline
    func cancelReceiver(_ id: UInt64) {
      let continuation = state.withLock { $0.removeReceiver(id) }
      continuation?.resume(returning: nil)
    }

    @inlinable
    func receiveAvailable(into values: inout [Element], limit: Int) -> Int {
      var wakeups = Wakeups()
      let taken = state.withLock { $0.receive(into: &values, limit: limit, wakeups: &wakeups) }
      wakeups.perform()
      return taken
    }

    // MARK: closing and handles

    @usableFromInline
    func close() {
      var wakeups = Wakeups()
      state.withLock { $0.close(into: &wakeups) }
      wakeups.perform()
    }

    @usableFromInline
    func receiverDropped() {
      var wakeups = Wakeups()
      let unreceived = state.withLock { $0.receiverDropped(into: &wakeups) }
      wakeups.perform()
      _ = consume unreceived  // released here, outside the lock
    }

    @usableFromInline
    func senderDropped(heldBy holder: String) {
      var wakeups = Wakeups()
      state.withLock { $0.senderDropped(heldBy: holder, into: &wakeups) }
      wakeups.perform()
    }

    /// Counts a new sender object (a clone) held by the calling task; returns the task's name.
    @usableFromInline
    func senderCreated() -> String {
      let holder = currentTaskName()
      state.withLock { $0.senderCreated(heldBy: holder) }
      return holder
    }

    /// Counts a new sender object for an upgrading weak sender, if any sender object or permit is
    /// still alive; returns the calling task's name, which holds it, or `nil`.
    @usableFromInline
    func upgrade() -> String? {
      let holder = currentTaskName()
      return state.withLock { state in
        guard state.strongCount > 0 else { return nil }
        state.senderCreated(heldBy: holder)
        return holder
      }
    }

    @usableFromInline
    func weakCreated() { state.withLock { $0.weakSenders += 1 } }

    @usableFromInline
    func weakDropped() { state.withLock { $0.weakSenders -= 1 } }

    /// Returns once the receiver has closed or is gone, or the calling task is cancelled.
    @usableFromInline
    func closed() async {
      if read({ $0.isClosed }) { return }
      let id = makeWaiterID()
      await WaiterList.wait(
        "mpsc closed()", id: id, owner: self,
        detail: { _ in "the receiver is still open" },
        park: { continuation in state.withLock { $0.parkClosed(id, continuation) } },
        remove: { storage, id in storage.state.withLock { $0.removeClosed(id) } })
    }

    // MARK: reading

    @inlinable
    func read<T: Sendable>(_ body: (borrowing State) -> T) -> T { state.withLock { body($0) } }

    /// Sender objects and permits keeping the channel open (an unbounded channel has no permits).
    @inlinable var strongCount: Int { read { $0.strongCount } }

    /// Weak senders alive.
    @inlinable var weakCount: Int { read { $0.weakSenders } }
  }
}

/// The name of the calling task, as deadlock reports show senders' holders.
@usableFromInline
func currentTaskName() -> String { Task.name ?? "unnamed task" }
