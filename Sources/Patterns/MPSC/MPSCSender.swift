extension MPSC {
  /// The sending half of a bounded channel. Clone it to give each producer its own.
  ///
  /// The channel counts live `Sender` objects: when the last is deinitialized (and no `Permit` is
  /// outstanding), the receiver gets `nil` after the buffered values. Tokio: `mpsc::Sender`.
  public final class Sender: Sendable {
    @usableFromInline let storage: Storage
    /// The task that created this sender, named in deadlock reports ("held by main").
    let holder: String

    init(storage: Storage, holder: String) {
      self.storage = storage
      self.holder = holder
    }

    deinit { storage.senderDropped(heldBy: holder) }

    /// Sends `value`, waiting for a free slot if the channel is full (back-pressure).
    ///
    /// Waiting senders are served in the order they began waiting. Does not suspend when a slot is
    /// free. Throws `SendError` (with the value) if the receiver is closed or gone, also while
    /// waiting; throws `CancellationError` if the task is cancelled while waiting — the value is not
    /// delivered and the place in line is given up.
    @inlinable
    public func send(_ value: Element) async throws {
      switch storage.trySend(value) {
      case .buffered, .handOff: return
      case .closed: throw SendError(value: value)
      case .full: try await storage.waitForSlot(value, id: storage.makeWaiterID())
      }
    }

    /// Sends `value` now if a slot is free; never waits.
    ///
    /// Throws `.full(value)` when no slot is free (or other senders are waiting for one: they are
    /// not overtaken), `.closed(value)` when the receiver is closed or gone.
    @inlinable
    public func trySend(_ value: Element) throws(TrySendError) {
      switch storage.trySend(value) {
      case .buffered, .handOff: return
      case .full: throw .full(value)
      case .closed: throw .closed(value)
      }
    }

    /// Sends `value`, waiting at most `timeout` on `clock` for a free slot.
    ///
    /// Throws `SendTimeoutError.timeout(value)` when no slot came free in time, `.closed(value)` when
    /// the receiver is closed or gone, `CancellationError` when the task is cancelled.
    /// Tokio: `send_timeout`.
    public func send<C: Clock<Duration>>(_ value: Element, timeout: Duration, clock: C) async throws {
      switch storage.trySend(value) {
      case .buffered, .handOff: return
      case .closed: throw SendTimeoutError.closed(value)
      case .full: break
      }
      let id = storage.makeWaiterID()
      defer { storage.forgetExpiry(id) }
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { [storage] in
          try await clock.sleep(for: timeout)
          storage.expireSender(id)
        }
        defer { group.cancelAll() }
        do {
          try await storage.waitForSlot(value, id: id)
        } catch let error as SendError {
          throw SendTimeoutError.closed(error.value)
        }
      }
    }

    /// Waits for a free slot and reserves it: the returned `Permit` sends one value without waiting.
    ///
    /// Throws `ClosedError` if the receiver is closed or gone, `CancellationError` if the task is
    /// cancelled while waiting. Tokio: `reserve_owned`.
    public func reserve() async throws -> Permit {
      switch storage.tryReserve() {
      case .reserved: return Permit(storage: storage)
      case .closed: throw ClosedError()
      case .full:
        try await storage.waitForSlot(nil, id: storage.makeWaiterID())
        return Permit(storage: storage)
      }
    }

    /// Another sender on the same channel, held by the calling task.
    public func clone() -> Sender { Sender(storage: storage, holder: storage.senderCreated()) }

    /// A handle that can send only after `upgrade()`, and does not keep the channel open.
    public func downgrade() -> WeakSender { WeakSender(storage: storage) }

    /// Returns once the receiver has closed or is gone (or the calling task is cancelled).
    public func closed() async { await storage.closed() }

    /// Whether the receiver has closed or is gone: sends fail from now on.
    @inlinable public var isClosed: Bool { storage.read { $0.isClosed } }

    /// Free slots now: the channel's size less buffered values and outstanding permits.
    @inlinable public var capacity: Int { storage.read { Swift.max(0, $0.freeSlots) } }

    /// The channel's size, as created.
    @inlinable public var maxCapacity: Int { storage.read { $0.maxCapacity } }

    /// Sender objects and permits keeping the channel open. Tokio: `strong_count`.
    @inlinable public var strongCount: Int { storage.strongCount }

    /// Weak senders alive. Tokio: `weak_count`.
    @inlinable public var weakCount: Int { storage.weakCount }

    /// Whether both senders send to the same channel. Tokio: `same_channel`.
    public func sameChannel(as other: Sender) -> Bool { storage === other.storage }
  }

  /// A sender that does not keep the channel open. Tokio: `mpsc::WeakSender`.
  public final class WeakSender: Sendable {
    @usableFromInline let storage: Storage

    init(storage: Storage) {
      self.storage = storage
      storage.weakCreated()
    }

    deinit { storage.weakDropped() }

    /// A sender, if any sender object or outstanding permit is still alive; `nil` once the last
    /// is gone (the channel cannot be reopened).
    public func upgrade() -> Sender? { storage.upgrade().map { Sender(storage: storage, holder: $0) } }

    /// Another weak sender on the same channel.
    public func clone() -> WeakSender { WeakSender(storage: storage) }

    /// Sender objects and permits keeping the channel open.
    @inlinable public var strongCount: Int { storage.strongCount }

    /// Weak senders alive.
    @inlinable public var weakCount: Int { storage.weakCount }
  }
}
