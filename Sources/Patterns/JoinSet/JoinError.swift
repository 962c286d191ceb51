/// Why a task in a ``JoinSet`` produced no value.
///
/// Tokio's `JoinError`, which tells a cancelled task from one that panicked. Swift tasks do not
/// panic recoverably; they throw. So a thrown error is ``failed(_:)``, and ``cancelled`` is kept for
/// tasks that were aborted (through their ``AbortHandle``, ``JoinSet/abortAll()``,
/// ``JoinSet/shutdown()``, ``JoinSet/joinAll()`` or the set's `deinit`) and then threw, whatever they
/// threw. An aborted task that returns a value anyway reports the value: the abort came too late.
public enum JoinError: Error, Sendable, CustomStringConvertible {
  /// The task was aborted, and ended by throwing (or never started).
  case cancelled
  /// The task threw this error without having been aborted.
  case failed(any Error)

  /// Whether the task was aborted. Tokio's `is_cancelled()`.
  public var isCancelled: Bool {
    if case .cancelled = self { return true }
    return false
  }

  public var description: String {
    switch self {
    case .cancelled: "cancelled"
    case .failed(let error): "failed: \(error)"
    }
  }
}

/// Aborts one task of a ``JoinSet`` without owning the set: Tokio's `AbortHandle`.
///
/// Aborting cancels the task's Swift `Task`. Like every Swift cancellation it is a request: the task
/// stops at its next cancellation check (a sleep, `Task.checkCancellation()`, a wait). Aborting a
/// task that has finished does nothing.
public struct AbortHandle: Sendable {
  // The task itself is found in its slot when aborted: a handle holding it too would cost every
  // spawn a retain and a release, and most handles are discarded.
  @usableFromInline let slots: any JoinSetSlots
  @usableFromInline let index: Int
  @usableFromInline let generation: UInt32

  @inlinable
  init(slots: any JoinSetSlots, index: Int, generation: UInt32) {
    self.slots = slots
    self.index = index
    self.generation = generation
  }

  /// Asks the task to stop: cancels its Swift task. Its result is still joined from the set, as
  /// ``JoinError/cancelled`` if it then throws. Works after ``JoinSet/detachAll()`` too, as long as
  /// the task runs.
  public func abort() { slots.abort(index: index, generation: generation) }

  /// Whether the task has finished running (returned, thrown, or stopped after an abort). Stays
  /// `false` after ``abort()`` until the task has actually ended.
  public var isFinished: Bool { slots.isFinished(index: index, generation: generation) }
}

/// What an ``AbortHandle`` asks of the set's storage, whatever the set's `Success` type.
@usableFromInline
protocol JoinSetSlots: AnyObject, Sendable {
  func isFinished(index: Int, generation: UInt32) -> Bool
  func abort(index: Int, generation: UInt32)
}
