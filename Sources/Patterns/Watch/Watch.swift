/// The latest value, observed: receivers see the newest state, and a slow observer *skips* the values
/// it was too slow for.
///
/// Swift's counterpart of `tokio::sync::watch`. The channel holds one value and a version that
/// every notifying send bumps. Each ``Receiver`` remembers the version it has *seen*;
/// ``Receiver/changed()`` waits until the channel's version differs from it. Use it for state that
/// every task should act on in its newest form: "we are shutting down", the current config.
///
/// ```swift
/// let (state, observer) = Watch<String>.channel("running")
/// // in a worker:
/// try await observer.waitFor { $0 == "draining" }   // checks the current value first
/// // in main, on SIGTERM:
/// state.sendReplace("draining")                     // stores even if nobody listens
/// ```
///
/// Sharp edges, as in Tokio:
/// - **The initial value counts as seen**: the first ``Receiver/changed()`` waits for the next send.
///   ``Sender/subscribe()`` also marks the current value seen; ``Receiver/clone()`` copies the seen
///   state.
/// - **Conflation**: ten sends between two looks are one change. An observer always gets the latest
///   value, never the ones in between (values 1…30 every 100 ms, read once a second: 1, 10, 20, 30).
/// - ``Receiver/borrow()`` does **not** mark the value seen; ``Receiver/borrowAndUpdate()`` and
///   ``Receiver/changed()`` do. After `borrow()` of an unseen value, `changed()` returns at once (once),
///   and ``Receiver/hasChanged()`` stays true: a loop that goes round again while `hasChanged()` is
///   true, reading with `borrow()`, never waits (a busy loop). Read with `borrowAndUpdate()` when
///   you act on the value.
/// - **Closing**: when the last ``Sender`` is gone, `changed()` still returns once for a value the
///   receiver has not seen, then throws ``WatchReceiveError/closed``. ``Receiver/hasChanged()``
///   throws as soon as the senders are gone, seen or not.
/// - ``Receiver/waitFor(_:)`` looks at the current value first (seen or not), marks it seen, and
///   returns it if the predicate holds, even when the channel is closed.
/// - ``Sender/send(_:)`` fails with no receivers and stores nothing; ``Sender/sendReplace(_:)``,
///   ``Sender/sendModify(_:)`` and ``Sender/sendIfModified(_:)`` always store.
///   `sendIfModified` notifies only when its closure returns true.
///
/// Swift and Tokio names: `channel(_:)` = `watch::channel`, ``Sender/send(_:)`` = `send`,
/// ``Sender/sendReplace(_:)`` = `send_replace`, ``Sender/sendModify(_:)`` = `send_modify`,
/// ``Sender/sendIfModified(_:)`` = `send_if_modified`, ``Sender/closed()`` = `closed`,
/// ``Sender/isClosed`` = `is_closed`, ``Sender/receiverCount`` = `receiver_count`,
/// ``Receiver/borrow()`` = `borrow`, ``Receiver/borrowAndUpdate()`` = `borrow_and_update`,
/// ``Receiver/hasChanged()`` = `has_changed`, ``Receiver/markChanged()`` = `mark_changed`,
/// ``Receiver/markUnchanged()`` = `mark_unchanged`, ``Receiver/changed()`` = `changed`,
/// ``Receiver/waitFor(_:)`` = `wait_for`.
///
/// Where we differ from Tokio:
/// - `borrow()` returns a *copy* of the value, not a guard holding a read lock; so no borrow can block
///   a sender. For large values, store a class reference or a copy-on-write type.
/// - The closures of `sendModify`, `sendIfModified` and `waitFor` must not touch the same channel:
///   `sendModify` runs under the channel's lock, as Tokio's runs under its write lock. (`waitFor`
///   runs its predicate on a copy, outside the lock.)
/// - A waiting `changed()`, `waitFor` or `closed()` also ends when the calling task is cancelled:
///   the throwing ones throw `CancellationError`, `closed()` returns. No waiter is left behind.
public enum Watch<Value: Sendable> {
  /// A channel holding `initial`, with one sender and one receiver that has seen it.
  public static func channel(_ initial: Value) -> (Sender, Receiver) {
    let storage = WatchStorage(initial)
    let seen = storage.withState { $0.addReceiver(seen: $0.version) }
    return (Sender(storage: storage), Receiver(storage: storage, seen: seen))
  }

  /// `send` found no receiver, so it stored nothing.
  public struct SendError: Error, CustomStringConvertible {
    /// The value, handed back.
    public var value: Value
    public var description: String { "watch send failed: no receivers" }

    @usableFromInline init(value: Value) { self.value = value }
  }

  /// Why `changed()`, `hasChanged()` or `waitFor` gave up.
  public typealias ReceiveError = WatchReceiveError
}

/// Why a watch receiver stopped waiting for a change (Tokio's `watch::error::RecvError`).
public enum WatchReceiveError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Every sender is gone (and, for `changed()`, the current value was already seen).
  case closed

  public var description: String { "channel closed" }
}

extension Watch.Receiver {
  /// Continuations parked on this channel now (waiting `changed()`/`waitFor` and `closed()` calls),
  /// for stress tests checking that no waiter is left behind.
  package var waiterCountForTesting: Int { storage.withState { $0.waiterCount } }
}
