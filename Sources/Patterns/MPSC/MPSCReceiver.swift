extension MPSC {
  /// The receiving half: one consuming task takes values in the order they were sent.
  ///
  /// `receive()` returns `nil` once nothing more can arrive — every sender object and permit is
  /// gone, or `close()` was called and the permits reserved before it are used or dropped — and the
  /// buffer is drained. Deinitializing the receiver releases whatever is still queued and makes
  /// senders' `closed()` return. Tokio: `mpsc::Receiver` / `UnboundedReceiver`.
  public final class Receiver: Sendable {
    @usableFromInline let storage: Storage

    init(storage: Storage) { self.storage = storage }

    deinit { storage.receiverDropped() }

    /// The next value, waiting for one if none is buffered.
    ///
    /// Returns `nil` when the channel is finished (see the type's documentation) — or when the
    /// calling task is cancelled while waiting, as `AsyncStream`'s iterator does. Does not suspend
    /// when a value is buffered.
    @inlinable
    public func receive() async -> Element? {
      switch storage.tryReceive() {
      case .value(let value, _): return value
      case .finished: return nil
      case .empty: return await storage.waitForValue()
      }
    }

    /// The next value if one is buffered; never waits.
    ///
    /// Throws `.empty` when nothing is buffered but more may come, `.disconnected` when nothing is
    /// buffered and nothing more can arrive.
    @inlinable
    public func tryReceive() throws(TryReceiveError) -> Element {
      switch storage.tryReceive() {
      case .value(let value, _): return value
      case .finished: throw .disconnected
      case .empty: throw .empty
      }
    }

    /// Appends up to `limit` values to `values`, waiting only if none is buffered; returns how
    /// many it appended.
    ///
    /// Returns 0 when `limit` is 0, when the channel is finished, or when the task is cancelled while
    /// waiting. Tokio: `recv_many`.
    @inlinable
    public func receiveMany(into values: inout [Element], limit: Int) async -> Int {
      guard limit > 0 else { return 0 }
      let taken = storage.receiveAvailable(into: &values, limit: limit)
      if taken > 0 { return taken }
      switch storage.tryReceive() {
      case .value(let value, _):
        values.append(value)
      case .finished:
        return 0
      case .empty:
        guard let value = await storage.waitForValue() else { return 0 }
        values.append(value)
      }
      return 1 + storage.receiveAvailable(into: &values, limit: limit - 1)
    }

    /// Stops new sends and reservations at once (they fail with `.closed`), and ends senders'
    /// `closed()` waits. Values already buffered, and values sent through permits reserved before,
    /// are still received: keep receiving until `nil` to drain them. Idempotent.
    public func close() { storage.close() }

    /// Whether nothing more can be sent: the receiver closed, or every sender object and permit is
    /// gone. Values may still be buffered.
    @inlinable public var isClosed: Bool { storage.read { $0.isClosed || $0.strongCount == 0 } }

    /// Whether no value is buffered now.
    @inlinable public var isEmpty: Bool { storage.read { $0.buffer.isEmpty } }

    /// Values buffered now. Tokio: `len`.
    @inlinable public var count: Int { storage.read { $0.buffer.count } }

    /// Sender objects and permits keeping the channel open. Tokio: `sender_strong_count`.
    @inlinable public var senderStrongCount: Int { storage.strongCount }

    /// Weak senders alive. Tokio: `sender_weak_count`.
    @inlinable public var senderWeakCount: Int { storage.weakCount }
  }
}

extension MPSC.Receiver: AsyncSequence {
  public typealias Failure = Never

  /// Iterates values until the channel is finished (or the iterating task is cancelled).
  public struct AsyncIterator: AsyncIteratorProtocol {
    @usableFromInline let receiver: MPSC.Receiver

    @usableFromInline init(receiver: MPSC.Receiver) { self.receiver = receiver }

    /// The next value, or `nil` at the end.
    @inlinable
    public mutating func next() async -> Element? { await receiver.receive() }

    /// The next value, or `nil` at the end.
    @inlinable
    public mutating func next(isolation actor: isolated (any Actor)?) async -> Element? {
      await receiver.receive()
    }
  }

  /// An iterator over the values received. One at a time: the receiver serves one consumer.
  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(receiver: self) }
}
