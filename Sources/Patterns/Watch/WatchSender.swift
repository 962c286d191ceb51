extension Watch {
  /// The sending half (Tokio's `watch::Sender`). Make more with ``clone()``; when the last sender
  /// object is deinitialized, receivers' waits end with ``WatchReceiveError/closed``.
  public final class Sender: Sendable {
    @usableFromInline let storage: WatchStorage<Value>

    init(storage: WatchStorage<Value>) { self.storage = storage }

    deinit { storage.removeSender() }

    /// Stores `value` and wakes every waiting receiver.
    /// - Throws: ``Watch/SendError`` (with `value`) when there are no receivers; nothing is stored.
    @inlinable
    public func send(_ value: Value) throws(SendError) {
      // Decided under the lock: a receiver subscribing at the same time either counts or sees it.
      let stored = storage.update { state in
        guard state.receiverCount > 0 else { return false }
        state.value = value
        return true
      }
      if !stored { throw SendError(value: value) }
    }

    /// Stores `value` whether or not anyone listens, wakes every waiting receiver, and returns the
    /// value it replaced.
    @inlinable @discardableResult
    public func sendReplace(_ value: Value) -> Value {
      var old: Value?
      _ = storage.update { state in
        old = state.value
        state.value = value
        return true
      }
      return old!
    }

    /// Changes the value in place and wakes every waiting receiver, whether or not anyone listens.
    /// `body` runs under the channel's lock: it must not use this channel.
    @inlinable
    public func sendModify(_ body: (inout Value) -> Void) {
      _ = storage.update { state in
        body(&state.value)
        return true
      }
    }

    /// Changes the value in place; notifies receivers only if `body` returns true (the change is
    /// stored either way). Returns what `body` returned. `body` runs under the channel's lock.
    @inlinable @discardableResult
    public func sendIfModified(_ body: (inout Value) -> Bool) -> Bool {
      storage.update { body(&$0.value) }
    }

    /// The current value (a copy).
    @inlinable public func borrow() -> Value { storage.withState { $0.value } }

    /// A new receiver that has seen the current value: its first `changed()` waits for the next send.
    public func subscribe() -> Receiver {
      Receiver(storage: storage, seen: storage.withState { $0.addReceiver(seen: $0.version) })
    }

    /// Another sender on the same channel.
    public func clone() -> Sender {
      storage.withState { $0.addSender() }
      return Sender(storage: storage)
    }

    /// How many receiver objects are alive.
    @inlinable public var receiverCount: Int { storage.withState { $0.receiverCount } }

    /// Whether there are no receivers (``subscribe()`` opens it again).
    @inlinable public var isClosed: Bool { receiverCount == 0 }

    /// Returns once there are no receivers (at once if there are none now), or once the calling
    /// task is cancelled.
    public func closed() async { await storage.closed() }
  }
}
