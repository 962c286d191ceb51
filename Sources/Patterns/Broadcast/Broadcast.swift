/// One-to-many notification: every receiver gets every message, and a slow receiver *loses* messages.
///
/// Swift's counterpart of `tokio::sync::broadcast`. The channel holds the last `capacity` messages in
/// a ring. Every ``Receiver`` reads every message at its own pace; a message is released once every
/// receiver that was subscribed when it was sent has read it (or has gone). Use it to tell every
/// task "stop" (mini-redis does), or to fan out events that each task must see in order.
///
/// ```swift
/// let (shutdown, _) = Broadcast<Void>.channel(capacity: 1)
/// // for each worker:
/// let stop = shutdown.subscribe()
/// // in the worker: wait for the next job or the stop message, whichever comes first
/// _ = try? await stop.receive()
/// // in main, on SIGTERM:
/// try? shutdown.send(())
/// ```
///
/// Sharp edges, as in Tokio:
/// - **Lag.** When a receiver is `capacity` messages behind, the next ``Sender/send(_:)`` overwrites
///   the oldest message it has not read. Its next receive throws ``BroadcastReceiveError/lagged(missed:)``
///   with how many it lost, *once*; the receive after that returns the oldest message still held.
///   Lag is per receiver: a fast receiver never notices a slow one.
/// - **`while let value = try? await receiver.receive()` ends at the first lag**, not only at close.
///   Catch `.lagged` and go on; stop on `.closed`.
/// - **A new subscriber sees only what is sent after it subscribed.** A shutdown message sent before
///   ``Sender/subscribe()`` is never seen by that receiver: subscribe before you start the task.
/// - **`send` with no receivers fails** (``SendError``, the value handed back) and stores nothing.
/// - **Closing.** When the last ``Sender`` object is deinitialized, receivers first read what is still
///   buffered, then get ``BroadcastReceiveError/closed``. When the last ``Receiver`` goes,
///   ``Sender/closed()`` returns. A receiver's unread messages are released when it goes.
/// - ``Receiver/resubscribe()`` makes a receiver that starts at the *tail*: it sees none of the
///   messages the original has not read yet.
///
/// Swift and Tokio names: `channel(capacity:)` = `broadcast::channel`, ``Sender/send(_:)`` = `send`,
/// ``Sender/subscribe()`` = `subscribe`, ``Sender/clone()`` = `clone`, ``Sender/receiverCount`` =
/// `receiver_count`, ``Sender/count`` = `len`, ``Sender/closed()`` = `closed`, ``Receiver/receive()``
/// = `recv`, ``Receiver/tryReceive()`` = `try_recv`, ``Receiver/count`` = `len`,
/// ``Receiver/resubscribe()`` = `resubscribe`; `RecvError::Lagged(n)` = `.lagged(missed: n)`.
/// Dropping a handle is ARC releasing the object (`_ = consume sender` ends a local's life early).
///
/// Where we differ from Tokio:
/// - **Exact capacity.** Tokio rounds the capacity up to a power of two (so `channel(3)` holds 4
///   messages) to index its ring with a mask. We hold exactly `capacity`, so the lag a learner
///   computes from the number they passed is the lag they see. The cost, a modulo per message, does
///   not matter at this scale.
/// - A waiting ``Receiver/receive()`` also ends when the calling task is cancelled: it throws
///   `CancellationError`, leaves no waiter behind and consumes no message. (Tokio's future is
///   dropped instead.)
/// - Handles are objects counted by the channel, as Tokio's are; `Receiver` has no `clone()` (use
///   ``Sender/subscribe()`` or ``Receiver/resubscribe()``), as the design lists.
public enum Broadcast<Element: Sendable> {
  /// A channel holding at most `capacity` messages, with one sender and one receiver.
  ///
  /// - Precondition: `capacity > 0`. A broadcast channel with no room could deliver nothing.
  public static func channel(capacity: Int) -> (Sender, Receiver) {
    precondition(
      capacity > 0,
      "Broadcast.channel(capacity:) needs a capacity of at least 1 (got \(capacity)): "
        + "a broadcast channel keeps each message until every receiver has read it, so it needs room for one")
    let storage = BroadcastStorage<Element>(capacity: capacity)
    let cursor = storage.addReceiver()
    return (Sender(storage: storage), Receiver(storage: storage, cursor: cursor))
  }

  /// `send` found no receiver: nobody could ever read the message, so it was not stored.
  public struct SendError: Error, CustomStringConvertible {
    /// The message, handed back.
    public var value: Element
    public var description: String { "broadcast send failed: no receivers" }

    @usableFromInline init(value: Element) { self.value = value }
  }

  /// Why ``Receiver/receive()`` returned no message.
  public typealias ReceiveError = BroadcastReceiveError
  /// Why ``Receiver/tryReceive()`` returned no message.
  public typealias TryReceiveError = BroadcastTryReceiveError
}

/// Why a broadcast `receive()` returned no message (Tokio's `RecvError`).
public enum BroadcastReceiveError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Every sender is gone and this receiver has read everything still buffered.
  case closed
  /// This receiver fell more than `capacity` messages behind and lost `missed` of them. Reported
  /// once; the next receive returns the oldest message still held.
  case lagged(missed: Int)

  public var description: String {
    switch self {
    case .closed: "channel closed"
    case .lagged(let missed): "receiver lagged: missed \(missed) message(s)"
    }
  }
}

/// Why a broadcast `tryReceive()` returned no message (Tokio's `TryRecvError`).
public enum BroadcastTryReceiveError: Error, Equatable, Sendable, CustomStringConvertible {
  /// Nothing unread yet; senders are still alive.
  case empty
  /// Every sender is gone and this receiver has read everything still buffered.
  case closed
  /// This receiver lost `missed` messages; the next call returns the oldest message still held.
  case lagged(missed: Int)

  public var description: String {
    switch self {
    case .empty: "channel empty"
    case .closed: "channel closed"
    case .lagged(let missed): "receiver lagged: missed \(missed) message(s)"
    }
  }
}

extension Broadcast.Receiver {
  /// Continuations parked on this channel now (waiting receives and `closed()` calls), for stress
  /// tests checking that no waiter is left behind.
  package var waiterCountForTesting: Int { storage.read { $0.waiterCount } }

  /// Receivers subscribed now, this one included, for stress tests checking that dropped ones go.
  package var receiverCountForTesting: Int { storage.read { $0.receiverCount } }
}
