import Synchronization

/// Counts running tasks so shutdown can wait for all of them, without keeping their results.
///
/// Swift's counterpart of tokio-util's `TaskTracker`. Spawn through it (or wrap work in
/// ``track(_:)``), and at shutdown ``close()`` it and ``wait()``: `wait` returns once the tracker is
/// closed *and* no tracked task is left.
///
/// ```swift
/// let tracker = TaskTracker()
/// for connection in connections { tracker.spawn { await serve(connection) } }
/// // on SIGTERM, after telling the tasks to stop (a CancellationToken):
/// tracker.close()
/// await tracker.wait()
/// ```
///
/// How it differs from ``JoinSet``, as in Tokio:
/// - It keeps no results and no tasks: a finished task is freed at once, so a tracker that runs a
///   million short tasks over a day holds nothing but a count. (A join set keeps every result until
///   it is joined.)
/// - It cannot abort anything, and its `deinit` does not either: tracked tasks run on. Stop them with
///   a `CancellationToken`, or cancel the `Task` that ``spawn(name:_:)`` returns.
/// - Closing does not stop spawning: tasks spawned after ``close()`` are tracked and waited for.
///   `close` only says "`wait` may now return once the count reaches zero"; it can be undone with
///   ``reopen()``.
/// - A ``wait()`` begun while the tracker is closed and empty returns at once. One that is waiting
///   when the tracker becomes closed-and-empty returns, even if the tracker is reopened or a task is
///   spawned right after.
///
/// Where Swift makes us differ: ``wait()`` also returns when the *calling task* is cancelled (as
/// every wait of this library does; Tokio's future would simply be dropped). Check ``isClosed`` and
/// ``isEmpty`` afterwards if it matters which.
public final class TaskTracker: Sendable {
  @usableFromInline
  struct State {
    var closed = false
    @usableFromInline var count = 0
    var waiters = WaiterList()

    /// Closed and empty: the moment every waiter is released.
    var isDone: Bool { closed && count == 0 }

    /// Takes every waiter when the tracker has just become closed-and-empty.
    mutating func releaseIfDone() -> WaiterList.Released {
      isDone ? waiters.releaseAll() : .none
    }
  }

  @usableFromInline let state = Lock(State())
  private let waiterIDs = WaiterIDs()

  /// An open, empty tracker.
  public init() {}

  /// Starts `operation` in a new task and tracks it until it ends. Tokio's `TaskTracker::spawn`.
  ///
  /// The task is counted before this returns, and keeps the current executor preference.
  @inlinable @discardableResult
  public func spawn<T: Sendable>(
    name: String? = nil, _ operation: sending @escaping () async throws -> T
  ) -> Task<T, any Error> {
    state.withLock { $0.count += 1 }
    return Task(name: name, executorPreference: ExecutorPreference.current) {
      defer { self.taskEnded() }
      return try await operation()
    }
  }

  /// Starts a non-throwing `operation` in a new task and tracks it until it ends.
  @inlinable @discardableResult
  public func spawn<T: Sendable>(
    name: String? = nil, _ operation: sending @escaping () async -> T
  ) -> Task<T, Never> {
    state.withLock { $0.count += 1 }
    return Task(name: name, executorPreference: ExecutorPreference.current) {
      defer { self.taskEnded() }
      return await operation()
    }
  }

  /// Tracks `operation`, run right here in the calling task, for as long as it runs: for work that
  /// is not a spawned task (a request handled inline, a child of a task group). Tokio's
  /// `track_future`.
  @inlinable
  public func track<T>(_ operation: () async throws -> T) async rethrows -> T {
    state.withLock { $0.count += 1 }
    defer { taskEnded() }
    return try await operation()
  }

  /// Closes the tracker, so that ``wait()`` can return once it is empty. Spawning stays allowed.
  /// - Returns: `true` if the tracker was open (this call closed it).
  @discardableResult
  public func close() -> Bool {
    let (changed, released) = state.withLock { state -> (Bool, WaiterList.Released) in
      guard !state.closed else { return (false, .none) }
      state.closed = true
      return (true, state.releaseIfDone())
    }
    released.resume()
    return changed
  }

  /// Opens the tracker again: ``wait()`` no longer returns when it is empty.
  /// - Returns: `true` if the tracker was closed (this call opened it).
  @discardableResult
  public func reopen() -> Bool {
    state.withLock { state in
      guard state.closed else { return false }
      state.closed = false
      return true
    }
  }

  /// Whether ``close()`` has been called (and not undone by ``reopen()``).
  public var isClosed: Bool { state.withLock { $0.closed } }

  /// Tasks being tracked now. Tokio's `len`.
  public var count: Int { state.withLock { $0.count } }

  /// Whether no task is being tracked.
  public var isEmpty: Bool { count == 0 }

  /// Returns once the tracker is closed and empty, or once the calling task is cancelled.
  nonisolated(nonsending) public func wait() async {
    if state.withLock({ $0.isDone }) { return }
    let id = waiterIDs.make()
    await WaiterList.wait(
      "task tracker wait()", id: id, owner: self,
      detail: { tracker in tracker.describe() },
      park: { continuation in state.withLock { $0.waiters.park(id, continuation, unless: $0.isDone) } },
      remove: { tracker, id in tracker.state.withLock { $0.waiters.remove(id) } })
  }

  @usableFromInline
  func taskEnded() {
    state.withLock { state in
      state.count -= 1
      return state.releaseIfDone()
    }.resume()
  }

  /// `wait()` calls parked now, for stress tests checking that no waiter is left behind.
  package var waiterCountForTesting: Int { state.withLock { $0.waiters.count } }

  private func describe() -> String {
    state.withLock { "\($0.count) task(s) tracked, \($0.closed ? "closed" : "open")" }
  }
}
