extension Broadcast {
  /// The sending half (Tokio's `broadcast::Sender`). Make more with ``clone()``; the channel closes
  /// for receivers when the last sender object is deinitialized.
  public final class Sender: Sendable {
    @usableFromInline let storage: BroadcastStorage<Element>

    init(storage: BroadcastStorage<Element>) { self.storage = storage }

    deinit { storage.removeSender() }

    /// Sends `value` to every receiver subscribed now, and returns how many that is.
    ///
    /// Never waits: when the ring is full the oldest message is overwritten, and receivers that had
    /// not read it will get ``BroadcastReceiveError/lagged(missed:)``.
    /// - Throws: ``Broadcast/SendError`` (with `value`) when there are no receivers; nothing is stored.
    @inlinable @discardableResult
    public func send(_ value: Element) throws(SendError) -> Int {
      guard let receivers = storage.send(value) else { throw SendError(value: value) }
      return receivers
    }

    /// A new receiver that sees only messages sent from now on.
    public func subscribe() -> Receiver { Receiver(storage: storage, cursor: storage.addReceiver()) }

    /// Another sender on the same channel.
    public func clone() -> Sender {
      storage.addSender()
      return Sender(storage: storage)
    }

    /// How many receiver objects are alive.
    @inlinable public var receiverCount: Int { storage.read { $0.receiverCount } }

    /// How many messages some receiver has still to read (Tokio's `len`).
    @inlinable public var count: Int { storage.read { $0.heldCount } }

    /// Whether every receiver has read every message.
    @inlinable public var isEmpty: Bool { count == 0 }

    /// Returns once there are no receivers (at once if there are none now), or once the calling
    /// task is cancelled.
    public func closed() async { await storage.closed() }
  }
}
