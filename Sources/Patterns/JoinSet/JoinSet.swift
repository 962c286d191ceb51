/// A set of tasks you spawn now and collect later, in the order they finish; and abort, if they will
/// not finish in time.
///
/// Swift's counterpart of Tokio's `tokio::task::JoinSet`. Where a task group ties its children to a
/// scope (the scope cannot end until every child has), a join set is an object: keep it in a
/// property, spawn into it from anywhere, and decide at shutdown how long to wait and whom to abort.
///
/// ```swift
/// let set = JoinSet<Int>()
/// for id in 1...3 { set.spawn(name: "worker-\(id)") { try await work(id) } }
/// while let result = await set.joinNext() {        // completion order, not spawn order
///   switch result {
///   case .success(let value): print("done", value)
///   case .failure(.cancelled): print("aborted")
///   case .failure(.failed(let error)): print("failed", error)
///   }
/// }
/// // at a deadline: abort whoever is left and wait until they have stopped
/// await set.shutdown()
/// ```
///
/// Sharp edges, as in Tokio:
/// - Results come in *completion* order. Keep your own id in `Success` if you need to know whose.
/// - ``abortAll()`` and ``AbortHandle/abort()`` only *ask*: each task is cancelled and stops at its
///   next cancellation check. An aborted task stays in the set until joined; if it then throws, it
///   is joined as ``JoinError/cancelled``; if it returns a value anyway, the value is reported.
/// - ``joinAll()`` throws the first error and aborts the rest, but does not wait for them: they are
///   still in the set; `await shutdown()` to see them stop.
/// - Dropping the set (its `deinit`) aborts every task left in it, and nobody sees their results.
///   ``detachAll()`` instead lets them run on, unowned.
/// - A task aborted before it started never runs, and is joined as ``JoinError/cancelled``.
///
/// Where Swift makes us differ:
/// - Tokio's `join_next` takes `&mut self`: one joiner at a time. This is a class: concurrent
///   ``joinNext()`` calls are served first come, first served, each with a different task.
/// - The set's waits (``joinNext()``, ``joinAll()``, ``shutdown()``) are *not* cut short when the
///   calling task is cancelled, as `TaskGroup.next()` is not: the tasks they wait for are not children
///   of the caller, so the wait is how the caller learns what became of them. (Inside a simulation, a
///   deadlock unwinds such a wait by aborting the set's tasks.)
/// - A thrown error is ``JoinError/failed(_:)``; Tokio's counterpart is a panic, which `join_all`
///   propagates. We throw it.
///
/// Use a task group instead when the work belongs to one scope and every child will end promptly on
/// cancellation: `withThrowingTaskGroup` waits for them all and cancels the rest on the first error.
/// Use a join set when the tasks outlive the code that starts them, or when a child that ignores
/// cancellation must not hold your shutdown past its deadline (a group's scope cannot end before
/// every child has; a join set can be given up on).
///
/// The waits are `nonisolated(nonsending)`: they run on the caller's executor, so joining from an
/// actor (the main actor, say) does not hop to the global executor and back on every result
/// (measured: 20 µs per `joinNext()` with the hop, 0.2 µs without).
///
/// Spawned tasks keep the spawner's task executor preference, as child tasks do: spawned inside
/// `withTaskExecutorPreference(executor)` they run on `executor`, inside a `Simulation` on its
/// executor, in virtual time. Actor isolation does not travel (see ``ExecutorPreference``).
public final class JoinSet<Success: Sendable>: Sendable {
  @usableFromInline let storage = JoinSetStorage<Success>()

  /// An empty set.
  public init() {}

  deinit {
    // Abort what is left, and detach it: nobody will join these results, so drop them as they come.
    let (tasks, waiters) = storage.state.withLock { state in (state.abortAll(), state.detachAll()) }
    for task in tasks { task.cancel() }
    for waiter in waiters { waiter.resume(returning: nil) }
  }

  /// Starts `operation` in a new task owned by this set. Tokio's `JoinSet::spawn`.
  ///
  /// The task keeps the calling task's executor preference (``ExecutorPreference/current``: it runs
  /// where a child task of the caller would) and the name, which deadlock reports and debuggers show.
  /// - Returns: a handle that can abort this one task.
  @inlinable @discardableResult
  public func spawn(
    name: String? = nil, _ operation: sending @escaping () async throws -> Success
  ) -> AbortHandle {
    let storage = storage
    let (index, generation) = storage.state.withLock { $0.takeSlot() }
    // Created outside the lock, so a task that starts at once on another thread never finds it held.
    var task: Task<Void, Never>? = Task(name: name, executorPreference: ExecutorPreference.current) {
      let outcome: Result<Success, JoinError>
      if Task.isCancelled {
        outcome = .failure(.cancelled)  // aborted before it started: never run it
      } else {
        do {
          outcome = .success(try await operation())
        } catch {
          outcome = .failure(Task.isCancelled ? .cancelled : .failed(error))
        }
      }
      storage.complete(index: index, generation: generation, outcome)
    }
    storage.state.withLock { $0.store(&task, index: index, generation: generation) }?.cancel()
    return AbortHandle(slots: storage, index: index, generation: generation)
  }

  /// Waits for the next task to finish and returns its result; `nil` when the set is empty.
  /// Tokio's `join_next`.
  ///
  /// Results come in completion order. A result already waiting is returned without suspending.
  /// Not cut short by the calling task's cancellation (see the type's documentation).
  @inlinable
  nonisolated(nonsending) public func joinNext() async -> Result<Success, JoinError>? {
    if case .result(let finished) = storage.state.withLock({ $0.joinNow() }) { return finished?.outcome }
    let storage = storage
    let wait = WaitReporting.observer?.begin(
      "join set joinNext()", detail: { "\(storage.state.withLock { $0.running }) task(s) running" }
    ) {
      storage.abortAll()  // how a deadlock is unwound: the tasks stop, and this wait gets their results
    }
    defer { wait?.end() }
    let finished = await withUnsafeContinuation { continuation in
      if let finished = storage.state.withLock({ $0.addWaiter(continuation) }) {
        continuation.resume(returning: finished)
      }
    }
    return finished?.outcome
  }

  /// Returns a result that is already waiting, without suspending; `nil` when none is (even if tasks
  /// are still running). Tokio's `try_join_next`.
  @inlinable
  public func tryJoinNext() -> Result<Success, JoinError>? {
    storage.state.withLock { $0.ready.popFirst() }?.outcome
  }

  /// Asks every task in the set to stop (cancels its Swift task). They stay in the set until joined.
  /// Tokio's `abort_all`.
  public func abortAll() { storage.abortAll() }

  /// Aborts every task and waits until all have ended, discarding their results. The set is empty
  /// afterwards. Tokio's `shutdown`.
  @inlinable
  nonisolated(nonsending) public func shutdown() async {
    abortAll()
    while await joinNext() != nil {}
  }

  /// Waits for every task and returns their values in completion order. On the first error it aborts
  /// the other tasks and throws that error at once; the aborted tasks stay in the set (`await
  /// shutdown()` to wait for them). Tokio's `join_all`, which panics where we throw.
  @inlinable
  nonisolated(nonsending) public func joinAll() async throws(JoinError) -> [Success] {
    var values: [Success] = []
    values.reserveCapacity(count)
    while let outcome = await joinNext() {
      switch outcome {
      case .success(let value):
        values.append(value)
      case .failure(let error):
        abortAll()
        throw error
      }
    }
    return values
  }

  /// Takes every task out of the set without aborting it: they run on, and their results are
  /// dropped. Results already waiting are dropped too. Tokio's `detach_all`.
  public func detachAll() {
    let waiters = storage.state.withLock { $0.detachAll() }
    for waiter in waiters { waiter.resume(returning: nil) }
  }

  /// Tasks in the set: still running, or finished and not yet joined. Tokio's `len`.
  @inlinable public var count: Int { storage.state.withLock { $0.count } }

  /// Whether ``count`` is zero.
  @inlinable public var isEmpty: Bool { count == 0 }
}

extension JoinSet {
  /// `joinNext()` calls waiting now, for stress tests checking that no waiter is left behind.
  package var waiterCountForTesting: Int { storage.state.withLock { $0.waiters.count } }
}
