/// The tasks waiting until something becomes true: a channel closed, a tracker done. Every
/// `closed()`-style wait of the library parks here.
///
/// It lives in a primitive's state, under that primitive's lock, so "is it true yet?" and "then
/// park me" are decided together with the transition that makes it true: that transition takes every
/// waiter with ``releaseAll()`` in the same critical section, and nobody can park in between and be
/// left behind. The primitive resumes what it took after unlocking (``Released/resume()``).
///
/// ``wait(_:id:detail:park:remove:)`` is the wait itself: announced through ``WaitReporting``, ended
/// by the calling task's cancellation, leaving no waiter behind. Waiters wake in the order they began
/// waiting.
@usableFromInline
struct WaiterList: Sendable {
  @usableFromInline typealias Continuation = CheckedContinuation<Void, Never>

  /// Parked waiters, oldest first.
  private var entries: [(id: UInt64, continuation: Continuation)] = []

  @usableFromInline init() {}

  /// How many waiters are parked now.
  var count: Int { entries.count }

  /// Parks waiter `id`, unless there is no need to: when `done` (the condition already holds) or its
  /// task is cancelled, the continuation is handed back to be resumed at once.
  ///
  /// Reading `Task.isCancelled` here, under the lock, closes the race with the cancellation handler:
  /// the flag is set before the handler runs, so either this sees it, or the handler finds the waiter.
  mutating func park(_ id: UInt64, _ continuation: Continuation, unless done: Bool) -> Continuation? {
    if done || Task.isCancelled { return continuation }
    entries.append((id, continuation))
    return nil
  }

  /// Takes waiter `id` out (its task was cancelled, or a deadlock is being unwound); `nil` when it was
  /// already released.
  mutating func remove(_ id: UInt64) -> Continuation? {
    guard let index = entries.firstIndex(where: { $0.id == id }) else { return nil }
    return entries.remove(at: index).continuation
  }

  /// Takes every waiter, oldest first: the condition has just become true.
  mutating func releaseAll() -> Released {
    defer { entries = [] }
    return Released(continuations: entries.map(\.continuation))
  }

  /// Waiters taken under the lock, to be resumed once it is released.
  @usableFromInline
  struct Released: Sendable {
    /// The continuations, oldest first.
    @usableFromInline var continuations: [Continuation] = []

    /// Nobody to wake.
    @inlinable static var none: Released { Released() }

    @inlinable init() {}

    init(continuations: [Continuation]) { self.continuations = continuations }

    /// Resumes every waiter, in the order they began waiting.
    @inlinable
    func resume() {
      for continuation in continuations { continuation.resume() }
    }
  }

  /// Waits until `park` finds the condition true, or the calling task is cancelled.
  ///
  /// The caller checks the condition first and returns without calling this when it already holds:
  /// a fast path must not suspend or read the task-local. Runs on the caller's executor.
  ///
  /// `detail` and `remove` get the primitive's storage (`owner`) and the id as arguments, so they
  /// capture nothing: with no observer installed, the reporting closures are never built and the
  /// wait allocates nothing for them.
  /// - Parameters:
  ///   - label: what deadlock reports call this wait ("mpsc closed()").
  ///   - id: this wait's id, from the primitive's ``WaiterIDs``.
  ///   - owner: the primitive's storage, handed to `detail` and `remove`.
  ///   - detail: the state, read only when a report is written.
  ///   - park: takes the lock and calls ``park(_:_:unless:)`` with `id`; returns what that returned.
  ///   - remove: takes the lock and calls ``remove(_:)`` with the id. Safe at any time, more than once.
  nonisolated(nonsending) static func wait<Owner: AnyObject & Sendable>(
    _ label: String,
    id: UInt64,
    owner: Owner,
    detail: @escaping @Sendable (Owner) -> String,
    park: (Continuation) -> Continuation?,
    remove: @escaping @Sendable (Owner, UInt64) -> Continuation?
  ) async {
    let wait = WaitReporting.observer?.begin(
      label, detail: { detail(owner) }, unwind: { remove(owner, id)?.resume() })
    defer { wait?.end() }
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in park(continuation)?.resume() }
    } onCancel: {
      remove(owner, id)?.resume()
    }
  }
}
