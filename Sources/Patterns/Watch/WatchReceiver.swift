extension Watch {
  /// The receiving half (Tokio's `watch::Receiver`): reads the latest value and waits for changes.
  /// Remembers which version it has seen. Meant for one consuming task at a time; ``clone()`` makes
  /// another with the same seen state.
  public final class Receiver: Sendable {
    @usableFromInline let storage: WatchStorage<Value>
    /// The version this receiver has seen; read and written under the channel's lock.
    @usableFromInline let seen: WatchSeen

    init(storage: WatchStorage<Value>, seen: WatchSeen) {
      self.storage = storage
      self.seen = seen
    }

    deinit { storage.removeReceiver() }

    /// The current value (a copy). Does **not** mark it seen: a following ``changed()`` returns at
    /// once if it was unseen. Use ``borrowAndUpdate()`` when you act on the value.
    @inlinable public func borrow() -> Value { storage.withState { $0.value } }

    /// The current value (a copy), marked seen: the next ``changed()`` waits for a newer one.
    @inlinable
    public func borrowAndUpdate() -> Value {
      storage.withState { state in
        state.markSeen(seen)
        return state.value
      }
    }

    /// Whether the current value is unseen.
    /// - Throws: ``WatchReceiveError/closed`` when every sender is gone, seen or not (as Tokio).
    @inlinable
    public func hasChanged() throws(ReceiveError) -> Bool {
      let (closed, unseen) = storage.withState { [seen] in ($0.isClosed, $0.hasUnseen(seen)) }
      if closed { throw .closed }
      return unseen
    }

    /// Marks the current value unseen, so the next ``changed()`` returns at once.
    @inlinable public func markChanged() { storage.withState { [seen] in $0.markChanged(seen) } }

    /// Marks the current value seen, without reading it.
    @inlinable public func markUnchanged() { storage.withState { [seen] in $0.markSeen(seen) } }

    /// Returns when there is a value this receiver has not seen, and marks it seen. Returns at once,
    /// without suspending, when the current value is unseen (also after the senders are gone).
    /// - Throws: ``WatchReceiveError/closed`` when every sender is gone and the current value was
    ///   seen; `CancellationError` when the calling task is cancelled while waiting.
    @inlinable
    public func changed() async throws {
      switch storage.withState({ [seen] in $0.checkChanged(seen) }) {
      case .success: return
      case .failure(let error): throw error
      case nil: break
      }
      try await storage.waitForChange(seen)
    }

    /// Returns the first value, starting with the current one, for which `predicate` is true, and
    /// marks it seen. The current value is checked whether seen or not, and returned if it matches
    /// even when every sender is gone.
    /// - Throws: ``WatchReceiveError/closed`` when every sender is gone and the latest value does not
    ///   match; `CancellationError` when the calling task is cancelled while waiting.
    @inlinable
    public func waitFor(_ predicate: (Value) -> Bool) async throws -> Value {
      var closed = false
      while true {
        let (value, wasUnseen) = storage.withState { state in
          let unseen = state.hasUnseen(seen)
          state.markSeen(seen)
          return (state.value, unseen)
        }
        // After `.closed`, only a value that arrived with the close is worth a last look.
        if !closed || wasUnseen, predicate(value) { return value }
        if closed { throw WatchReceiveError.closed }
        do {
          try await changed()
        } catch WatchReceiveError.closed {
          closed = true
        }
      }
    }

    /// Another receiver on the same channel, with this one's seen state.
    public func clone() -> Receiver {
      Receiver(storage: storage, seen: storage.withState { [seen] in $0.addReceiver(seen: seen.version) })
    }
  }
}
