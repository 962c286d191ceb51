extension Broadcast {
  /// The receiving half (Tokio's `broadcast::Receiver`): reads every message sent after it
  /// subscribed, in order, at its own pace. Meant for one consuming task at a time. When it is
  /// deinitialized its unread messages are released.
  public final class Receiver: Sendable {
    @usableFromInline let storage: BroadcastStorage<Element>
    /// The next position this receiver reads; read and written under the channel's lock.
    @usableFromInline let cursor: BroadcastCursor

    init(storage: BroadcastStorage<Element>, cursor: BroadcastCursor) {
      self.storage = storage
      self.cursor = cursor
    }

    deinit { storage.removeReceiver(cursor) }

    /// The next message, waiting for one if needed.
    ///
    /// Returns at once, without suspending, when a message is unread.
    /// - Throws: ``BroadcastReceiveError/lagged(missed:)`` once after this receiver lost messages
    ///   (call again to go on from the oldest message still held); ``BroadcastReceiveError/closed``
    ///   when every sender is gone and nothing is left to read; `CancellationError` when the calling
    ///   task is cancelled while waiting (no message is consumed).
    @inlinable
    public func receive() async throws -> Element {
      switch storage.tryReceive(cursor) {
      case .success(let value): return value
      case .failure(.closed): throw BroadcastReceiveError.closed
      case .failure(.lagged(let missed)): throw BroadcastReceiveError.lagged(missed: missed)
      case .failure(.empty): break
      }
      return try await storage.waitForMessage(cursor)
    }

    /// The next message if one is unread, without waiting.
    /// - Throws: ``BroadcastTryReceiveError/empty``, ``BroadcastTryReceiveError/closed`` or
    ///   ``BroadcastTryReceiveError/lagged(missed:)``.
    @inlinable
    public func tryReceive() throws(TryReceiveError) -> Element {
      try storage.tryReceive(cursor).get()
    }

    /// A new receiver on the same channel that starts at the tail: it sees none of this
    /// receiver's unread messages, only what is sent from now on.
    public func resubscribe() -> Receiver { Receiver(storage: storage, cursor: storage.addReceiver()) }

    /// Messages sent since this receiver's position, lost ones included (Tokio's `len`).
    @inlinable public var count: Int { storage.read { $0.unread(cursor) } }

    /// Whether nothing is unread.
    @inlinable public var isEmpty: Bool { count == 0 }

    /// Whether every sender is gone (messages may still be buffered for this receiver).
    @inlinable public var isClosed: Bool { storage.read { $0.isClosed } }
  }
}
