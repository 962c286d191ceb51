extension MPSC {
  /// The sending half of an unbounded channel: `send` never waits. Tokio: `mpsc::UnboundedSender`.
  ///
  /// Nothing pushes back on a producer faster than its consumer: the queue grows without limit.
  public final class UnboundedSender: Sendable {
    @usableFromInline let storage: Storage
    /// The task that created this sender, named in deadlock reports.
    let holder: String

    init(storage: Storage, holder: String) {
      self.storage = storage
      self.holder = holder
    }

    deinit { storage.senderDropped(heldBy: holder) }

    /// Sends `value` at once. Throws `SendError` (with the value) if the receiver is closed or gone.
    @inlinable
    public func send(_ value: Element) throws(SendError) {
      switch storage.trySend(value) {
      case .buffered, .handOff, .full: return  // an unbounded channel is never full
      case .closed: throw SendError(value: value)
      }
    }

    /// Another sender on the same channel, held by the calling task.
    public func clone() -> UnboundedSender {
      UnboundedSender(storage: storage, holder: storage.senderCreated())
    }

    /// A handle that can send only after `upgrade()`, and does not keep the channel open.
    public func downgrade() -> WeakUnboundedSender { WeakUnboundedSender(storage: storage) }

    /// Returns once the receiver has closed or is gone (or the calling task is cancelled).
    public func closed() async { await storage.closed() }

    /// Whether the receiver has closed or is gone: sends fail from now on.
    @inlinable public var isClosed: Bool { storage.read { $0.isClosed } }

    /// Sender objects keeping the channel open. Tokio: `strong_count`.
    @inlinable public var strongCount: Int { storage.strongCount }

    /// Weak senders alive. Tokio: `weak_count`.
    @inlinable public var weakCount: Int { storage.weakCount }

    /// Whether both senders send to the same channel. Tokio: `same_channel`.
    public func sameChannel(as other: UnboundedSender) -> Bool { storage === other.storage }
  }

  /// An unbounded sender that does not keep the channel open. Tokio: `mpsc::WeakUnboundedSender`.
  public final class WeakUnboundedSender: Sendable {
    @usableFromInline let storage: Storage

    init(storage: Storage) {
      self.storage = storage
      storage.weakCreated()
    }

    deinit { storage.weakDropped() }

    /// A sender, if any sender object is still alive; `nil` once the last is gone.
    public func upgrade() -> UnboundedSender? {
      storage.upgrade().map { UnboundedSender(storage: storage, holder: $0) }
    }

    /// Another weak sender on the same channel.
    public func clone() -> WeakUnboundedSender { WeakUnboundedSender(storage: storage) }

    /// Sender objects keeping the channel open.
    @inlinable public var strongCount: Int { storage.strongCount }

    /// Weak senders alive.
    @inlinable public var weakCount: Int { storage.weakCount }
  }
}
