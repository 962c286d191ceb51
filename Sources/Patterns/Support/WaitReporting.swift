/// The one neutral hook through which a primitive says "this task is about to wait on me".
///
/// Primitives know nothing of the simulation. When a waiting call is about to suspend it calls
/// `WaitReporting.observer?.begin(label, detail:, unwind:)` (``WaitObserver/begin(_:detail:unwind:)``)
/// with a label ("mpsc receive") and a detail that is read only if someone asks ("1 sender alive").
/// Outside a simulation no observer is installed: the call costs one task-local read, and the optional
/// chaining skips building the closures. Inside one, the observer can name every blocked task when the
/// run deadlocks, and call `unwind` to end the wait the same way task cancellation would.
public enum WaitReporting {
  /// The observer for the current task and the tasks it creates. Installed by `Simulation`.
  @TaskLocal public static var observer: (any WaitObserver)?
}

/// One announced wait, as the observer sees it.
public struct WaitRecord: Sendable {
  /// The waiting task's name (`Task(name:)`), or "unnamed task".
  public var task: String
  /// What is being waited on.
  public var label: String
  /// More about the state, read when a report is written.
  public var detail: @Sendable () -> String
  /// Ends the wait as cancellation would.
  public var unwind: @Sendable () -> Void

  public init(
    task: String, label: String, detail: @escaping @Sendable () -> String,
    unwind: @escaping @Sendable () -> Void
  ) {
    self.task = task
    self.label = label
    self.detail = detail
    self.unwind = unwind
  }
}

/// Receives announced waits. The simulation implements it to explain deadlocks.
public protocol WaitObserver: Sendable {
  /// Called before the wait suspends; returns the handle the primitive uses to end it.
  func waitBegan(_ wait: WaitRecord) -> ActiveWait
}

extension WaitObserver {
  /// Announces a wait that is about to suspend. Call ``ActiveWait/end()`` once it has ended.
  ///
  /// Reach it through optional chaining, `WaitReporting.observer?.begin(…)`: when nobody observes,
  /// Swift then does not evaluate the arguments, so a wait allocates nothing for reporting.
  /// - Parameters:
  ///   - label: what is being waited on, such as "mpsc receive".
  ///   - detail: more about the state, evaluated only when a report is written.
  ///   - unwind: ends the wait as if the waiting task had been cancelled. Must be safe to call
  ///     at any time, also after the wait has ended, and more than once.
  @inlinable
  public func begin(
    _ label: String,
    detail: @escaping @Sendable () -> String = { "" },
    unwind: @escaping @Sendable () -> Void
  ) -> ActiveWait {
    waitBegan(WaitRecord(task: Task.name ?? "unnamed task", label: label, detail: detail, unwind: unwind))
  }
}

/// A wait in progress. ``end()`` tells the observer it is over.
public struct ActiveWait: Sendable {
  @usableFromInline let onEnd: @Sendable () -> Void

  public init(onEnd: @escaping @Sendable () -> Void) { self.onEnd = onEnd }

  /// Marks the wait as over. Call exactly once.
  @inlinable public func end() { onEnd() }
}

/// "1 sender", "2 senders": how wait details count things.
func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
