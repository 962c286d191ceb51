/// Carries the task executor preference to tasks that are not children.
///
/// Child tasks (task groups, `async let`) inherit their parent's executor preference, but an
/// unstructured `Task {}` does not, and Swift has no public API to read the current preference as an
/// `any TaskExecutor`. So whoever installs a preference (the simulation) also sets this task-local,
/// and ``spawnTask(name:priority:_:)``, `JoinSet` and `TaskTracker` read it. Task-locals are
/// inherited by children and by `Task {}`, so the value follows the work wherever it goes.
public enum ExecutorPreference {
  /// The executor new unstructured tasks should prefer; `nil` means the global concurrent executor.
  @TaskLocal public static var current: (any TaskExecutor)?
}

/// Starts an unstructured task that keeps the current executor preference.
///
/// Use it where you would write `Task { }` in code that must also run inside a `Simulation`:
/// a plain `Task {}` escapes to the global executor, so its work would run on another thread, outside
/// virtual time. Outside a simulation this is exactly `Task(name:priority:) { }`.
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
