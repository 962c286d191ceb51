/// The task executor preference of the current task, so that unstructured tasks can keep it.
///
/// Child tasks (task groups, `async let`) inherit their parent's executor preference, but an
/// unstructured `Task {}` does not: it runs on the global concurrent executor unless it is created
/// with `Task(executorPreference:)`. ``JoinSet``, ``TaskTracker`` and ``spawnTask(name:priority:_:)``
/// create theirs that way, with ``current``: the preference of the task that spawns, whoever
/// installed it (`withTaskExecutorPreference`, `Task(executorPreference:)`, a task group child, a
/// ``Simulation``).
///
/// ```swift
/// await withTaskExecutorPreference(myExecutor) {
///   let set = JoinSet<Int>()
///   set.spawn { await work() }         // runs on myExecutor, as a child task would
///   _ = await set.joinNext()
/// }
/// ```
///
/// The limit: only a *task executor* preference travels. Actor isolation does not: an operation
/// handed to `spawn` is nonisolated, so spawned from an actor (the main actor, one with a custom
/// serial executor) it runs on the preferred task executor, or on the global one when none is
/// preferred, never on the actor. And the preference is read once, when the task is spawned: a set
/// created inside `withTaskExecutorPreference` and spawned into from elsewhere follows the spawner.
///
/// Swift's counterpart: reading the preference as an `any TaskExecutor` takes
/// `UnsafeCurrentTask.unownedTaskExecutor` and `UnownedTaskExecutor.asTaskExecutor()`, public since
/// Swift 6.3 (on Apple platforms, the 26.4 releases). Tokio needs nothing of the kind:
/// `tokio::spawn` always spawns onto the runtime it is called from.
public enum ExecutorPreference {
  /// The task executor the current task prefers; `nil` outside a task, and when it prefers none
  /// (it runs on the global concurrent executor, or on its actor's).
  public static var current: (any TaskExecutor)? {
    withUnsafeCurrentTask { $0?.unownedTaskExecutor?.asTaskExecutor() }
  }
}

/// Starts an unstructured task that keeps the current executor preference.
///
/// Use it where you would write `Task { }` and want the new task to run where the current one does:
/// inside `withTaskExecutorPreference(executor)` it runs on `executor`, inside a ``Simulation`` on the
/// simulation's executor, in virtual time (a plain `Task {}` would escape to the global executor, on
/// another thread). With no preference this is exactly `Task(name:priority:) { }`. See
/// ``ExecutorPreference`` for what does not travel (actor isolation).
@discardableResult
public func spawnTask<Success: Sendable>(
  name: String? = nil,
  priority: TaskPriority? = nil,
  _ operation: sending @escaping () async throws -> Success
) -> Task<Success, any Error> {
  Task(name: name, executorPreference: ExecutorPreference.current, priority: priority, operation: operation)
}

/// Starts an unstructured, non-throwing task that keeps the current executor preference.
@discardableResult
public func spawnTask<Success: Sendable>(
  name: String? = nil,
  priority: TaskPriority? = nil,
  _ operation: sending @escaping () async -> Success
) -> Task<Success, Never> {
  Task(name: name, executorPreference: ExecutorPreference.current, priority: priority, operation: operation)
}
