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

extension WaitReporting {
  /// Announces `operation` as a wait named `label`, for waits no primitive announces itself: an
  /// `AsyncStream` iterator, a hand-rolled notification. A deadlock report then names the task and
  /// what it waits on instead of saying that nothing was announced.
  ///
  /// ```swift
  /// let next = await WaitReporting.labelled("AsyncStream next", unwind: { continuation.finish() }) {
  ///   await iterator.next()
  /// }
  /// ```
  /// - Parameters:
  ///   - unwind: ends the wait as cancellation would (finishing the stream, resuming the waiter). It
  ///     may be called at any time, more than once, also after the wait has ended.
  nonisolated(nonsending) public static func labelled<T>(
    _ label: String,
    detail: @escaping @Sendable () -> String = { "" },
    unwind: @escaping @Sendable () -> Void,
    _ operation: () async throws -> T
  ) async rethrows -> T {
    let wait = observer?.begin(label, detail: detail, unwind: unwind)
    defer { wait?.end() }
    return try await operation()
  }
}

/// Suspends on a continuation announced as a wait named `label`, so that a deadlock report names
/// it. The continuation handed to `body` resumes at most once: later resumes are ignored, which is
/// what lets the simulation's unwinding end the wait (with `CancellationError`) without a double
/// resume when the real resume comes after.
///
/// ```swift
/// try await withLabelledContinuation("notified", detail: { "0 connections active" }) { waiter in
///   waiters.append(waiter)             // someone calls waiter.resume() later, or never
/// }
/// ```
nonisolated(nonsending) public func withLabelledContinuation(
  _ label: String,
  detail: @escaping @Sendable () -> String = { "" },
  _ body: (OnceContinuation) -> Void
) async throws {
  let waiter = OnceContinuation()
  let wait = WaitReporting.observer?.begin(label, detail: detail) {
    waiter.resume(throwing: CancellationError())
  }
  defer { wait?.end() }
  try await withCheckedThrowingContinuation { continuation in
    waiter.attach(continuation)
    body(waiter)
  }
}

/// A continuation that resumes at most once; every later resume returns `false` and does nothing.
/// A state machine under a lock: empty → attached → resumed, or empty → resumed early (a resume that
/// came before the continuation existed, honoured when it is attached).
public final class OnceContinuation: Sendable {
  private enum State {
    case empty
    case attached(CheckedContinuation<Void, any Error>)
    case resumedEarly(Result<Void, any Error>)
    case resumed
  }

  private let state = Lock(State.empty)

  init() {}

  fileprivate func attach(_ continuation: CheckedContinuation<Void, any Error>) {
    let early = state.withLock { state -> Result<Void, any Error>? in
      guard case .resumedEarly(let result) = state else {
        state = .attached(continuation)
        return nil
      }
      state = .resumed
      return result
    }
    if let early { continuation.resume(with: early) }
  }

  /// Resumes the waiter; `false` if it was already resumed.
  @discardableResult
  public func resume() -> Bool { finish(.success(())) }

  /// Resumes the waiter with `error`; `false` if it was already resumed.
  @discardableResult
  public func resume(throwing error: any Error) -> Bool { finish(.failure(error)) }

  private func finish(_ result: Result<Void, any Error>) -> Bool {
    let action = state.withLock { state -> (CheckedContinuation<Void, any Error>?, Bool) in
      switch state {
      case .empty:
        state = .resumedEarly(result)
        return (nil, true)
      case .attached(let continuation):
        state = .resumed
        return (continuation, true)
      case .resumedEarly, .resumed:
        return (nil, false)
      }
    }
    action.0?.resume(with: result)  // outside the lock
    return action.1
  }
}
