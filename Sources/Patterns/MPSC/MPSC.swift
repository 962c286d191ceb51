/// Many senders, one receiver: a queue that pushes back on producers, and a way to know that all
/// work is done.
///
/// Swift's counterpart of `tokio::sync::mpsc`. A service uses it two ways during shutdown:
///
/// - **As the work queue.** Producers `send`; one consumer `receive`s. A bounded channel holds at most
///   `capacity` values: when it is full, `send` *waits* for room (back-pressure), so a fast producer
///   slows to the consumer's pace instead of piling up memory.
/// - **As the completion signal.** Every task holds a sender; main drops its own and waits in
///   `receive()`. When the last sender object is gone, `receive()` returns `nil`: every task has
///   finished, without counting anything.
///
/// ```swift
/// await withTaskGroup(of: Void.self) { group in
///   let (done, allDone) = MPSC<Never>.channel(capacity: 1)
///   for job in jobs {
///     group.addTask { [done = done.clone()] in await job.run(); _ = done }  // dies with the task
///   }
///   _ = consume done                     // drop main's own sender, or the next line never returns
///   await allDone.receive()              // nil: every task has finished
/// }
/// ```
///
/// In Swift the "drop" is the end of the last reference to a sender object: ARC deinitializes it.
/// `_ = consume sender` ends a local's life explicitly, in the scope that declared it (consuming a
/// variable captured from an outer scope leaves the outer one alive); a sender captured by a closure
/// or stored in a property lives as long as that closure or object.
///
/// Sharp edges, as in Tokio:
/// - **Forgetting to drop a sender means `receive()` never returns `nil`.** The classic shutdown hang:
///   main keeps its own sender alive while waiting for the others. Weak senders (`downgrade()`) do
///   not count; an outstanding `Permit` does.
/// - **`send` waits when the channel is full**, in first-come first-served order. A cancelled `send`
///   gives up its place and delivers nothing. `trySend` never waits: `.full(value)` hands the value back.
/// - **`close()` is not the end.** It stops new sends at once (`.closed`), but values already buffered,
///   and values sent through permits reserved before the close, are still received. Drain after closing.
/// - **Dropping the receiver releases every queued value**, unreceived: whatever was accepted and not
///   processed is gone unless you drained it first. Senders' `closed()` returns, and sends fail.
/// - **A permit reserves a slot.** `reserve()` waits for room and returns a `Permit`; its `send` never
///   waits and never fails. Drop it unsent and the slot goes back.
/// - **`capacity` is free slots now**, not the size: `maxCapacity` is the size.
///
/// Swift names beside Tokio's:
///
/// | Swift | Tokio |
/// |---|---|
/// | `MPSC<T>.channel(capacity:)` | `mpsc::channel(buffer)` |
/// | `MPSC<T>.unboundedChannel()` | `mpsc::unbounded_channel()` |
/// | `send(_:)`, `trySend(_:)`, `send(_:timeout:clock:)` | `send`, `try_send`, `send_timeout` |
/// | `reserve()` → `Permit` | `reserve_owned()` → `OwnedPermit` |
/// | `receive()`, `tryReceive()`, `receiveMany(into:limit:)` | `recv`, `try_recv`, `recv_many` |
/// | `clone()`, `downgrade()`, `WeakSender.upgrade()` | `clone`, `downgrade`, `WeakSender::upgrade` |
/// | `closed()`, `isClosed`, `capacity`, `maxCapacity` | `closed`, `is_closed`, `capacity`, `max_capacity` |
/// | `strongCount`, `weakCount` | `strong_count`, `weak_count` |
/// | `for await value in receiver` | `while let Some(value) = rx.recv().await` |
///
/// Beside Swift's `AsyncStream`: a stream finishes only when `finish()` is called — dropping every
/// continuation does not finish it (so it cannot be the "all done" signal), and it has no
/// back-pressure: `yield` never waits; a full buffering policy drops values instead.
///
/// Where Swift makes us differ:
/// - `receive()` also returns `nil` when the *calling task* is cancelled, as `AsyncStream`'s
///   iterator does (Tokio's future is dropped instead). No value is lost: a value handed to a
///   cancelled receive is returned, and one that was not stays buffered. Check `Task.isCancelled`
///   if it matters which.
/// - Cancellation ends only a wait: a `send` that finds room, or a `receive` that finds a value,
///   completes even in a cancelled task, as a Tokio future polled to completion would.
/// - A `Permit` is an object that keeps the channel open (Tokio's `OwnedPermit`); its `send` after the
///   receiver is gone drops the value quietly, as Tokio's does.
/// - One consumer: two tasks receiving from one `Receiver` at the same time is a programming error
///   and traps (Rust's `&mut self` makes it impossible; `AsyncStream` traps too).
public enum MPSC<Element: Sendable> {
  /// A bounded channel holding at most `capacity` values; `send` waits when it is full.
  ///
  /// - Precondition: `capacity > 0` (as in Tokio: a zero-capacity rendezvous channel is not offered).
  public static func channel(capacity: Int) -> (Sender, Receiver) {
    precondition(capacity > 0, "MPSC.channel(capacity:) needs a capacity of at least 1")
    let storage = Storage(maxCapacity: capacity, isBounded: true, firstHolder: currentTaskName())
    return (Sender(storage: storage, holder: currentTaskName()), Receiver(storage: storage))
  }

  /// A channel without a bound: `send` never waits, and a slow consumer lets the queue grow
  /// without limit. Prefer a bounded channel unless producers are bounded some other way.
  public static func unboundedChannel() -> (UnboundedSender, Receiver) {
    let storage = Storage(maxCapacity: Int.max, isBounded: false, firstHolder: currentTaskName())
    return (UnboundedSender(storage: storage, holder: currentTaskName()), Receiver(storage: storage))
  }

  // MARK: errors

  /// The receiver is closed or gone; the value was not sent and is handed back.
  public struct SendError: Error {
    /// The value that was not sent.
    public var value: Element
    /// Wraps the value that was not sent.
    public init(value: Element) { self.value = value }
  }

  /// Why `trySend` did not send; the value is handed back either way.
  public enum TrySendError: Error {
    /// No free slot now (or earlier senders are waiting for one).
    case full(Element)
    /// The receiver is closed or gone.
    case closed(Element)

    /// The value that was not sent.
    public var value: Element {
      switch self {
      case .full(let value), .closed(let value): value
      }
    }
  }

  /// Why `send(_:timeout:clock:)` did not send; the value is handed back either way.
  public enum SendTimeoutError: Error {
    /// No slot came free before the timeout.
    case timeout(Element)
    /// The receiver is closed or gone.
    case closed(Element)

    /// The value that was not sent.
    public var value: Element {
      switch self {
      case .timeout(let value), .closed(let value): value
      }
    }
  }

  /// The receiver is closed or gone, so no permit can be reserved.
  public struct ClosedError: Error, Equatable {
    /// The error.
    public init() {}
  }

  /// Why `tryReceive` returned no value.
  public enum TryReceiveError: Error, Equatable {
    /// Nothing is buffered now, but senders (or permits) are still alive.
    case empty
    /// Nothing is buffered and nothing more can arrive: every sender and permit is gone, or the
    /// receiver was closed.
    case disconnected
  }
}

extension MPSC.SendError: Equatable where Element: Equatable {}
extension MPSC.TrySendError: Equatable where Element: Equatable {}
extension MPSC.SendTimeoutError: Equatable where Element: Equatable {}

extension MPSC.Receiver {
  /// Continuations parked on this channel now (waiting sends, the waiting receive, `closed()` calls),
  /// for stress tests checking that no waiter is left behind.
  package var waiterCountForTesting: Int {
    storage.read { $0.sendWaiters.count + $0.closedWaiters.count + ($0.receiveWaiter == nil ? 0 : 1) }
  }
}
