import Synchronization

/// Runs async code to completion on the calling thread, in virtual time, the same way every time.
///
/// This is the runtime behind every scripted scenario, and you can use it to test your own shutdown
/// code: write the code against `some Clock<Duration>`, create tasks with task groups, `async let` or
/// ``spawnTask(name:priority:_:)``, then run it here with a ``VirtualClock``.
///
/// ```swift
/// let result = Simulation.run { clock in
///   try await clock.sleep(for: .seconds(30))   // returns at once, in virtual time
///   return clock.now.offset
/// }
/// // result.value == .success(.seconds(30)); result.deadlocks.isEmpty
/// ```
///
/// The loop: run every ready job (``SimulationExecutor``); when none is left, move the clock to the
/// earliest sleep deadline and wake every sleep due then; stop when the root task has finished.
/// When nothing is ready, no sleep is pending and the root has not finished, the run is deadlocked:
/// the result gets a ``DeadlockReport`` naming each blocked task and what it waits on (as announced
/// through ``WaitReporting``), and those waits are unwound — ended as cancellation would end them —
/// so the run can finish instead of hanging.
///
/// With a `jobBudget`, a run whose tasks keep running without ever letting time move (a loop that
/// polls, or swallows its cancellation and goes round again) is a livelock: after that many jobs at
/// one instant the run stops, the result gets a ``LivelockReport``, and the spinning tasks are
/// abandoned where they are, never resumed, as a SIGKILL would end them.
public enum Simulation {
  /// Rounds of unwinding before a run that stays stuck is abandoned.
  static let maximumUnwindRounds = 8

  /// Runs `body` as a task named `name` on a fresh ``SimulationExecutor`` and ``VirtualClock``.
  ///
  /// Must not be called from a task that itself runs on a simulation's executor.
  /// - Parameters:
  ///   - seed: 0 for first-in first-out order; another value permutes jobs ready at the same instant.
  ///   - name: the root task's name, as it appears in deadlock reports.
  ///   - reportingWaits: whether primitives' waits are recorded for deadlock reports. Benchmarks turn
  ///     it off so the single-threaded executor costs our primitives nothing extra. Off, the run binds
  ///     no observer of its own: waits go to whatever observer the caller's task has (normally none).
  ///   - onDeadlock: called on the run loop's thread when a deadlock is found, before its waits are
  ///     unwound, so a caller can record it in order with everything else (a timeline, a log).
  ///   - jobBudget: the most jobs that may run at one instant of virtual time before the run is
  ///     stopped as a livelock; `nil` (the default) for no limit.
  ///   - onLivelock: called on the run loop's thread when the budget is spent, before the run stops.
  public static func run<Success: Sendable>(
    seed: UInt64 = 0,
    name: String = "main",
    reportingWaits: Bool = true,
    onDeadlock: (DeadlockReport) -> Void = { _ in },
    jobBudget: Int? = nil,
    onLivelock: (LivelockReport) -> Void = { _ in },
    _ body: @escaping @Sendable (VirtualClock) async throws -> Success
  ) -> SimulationResult<Success> {
    let executor = SimulationExecutor(seed: seed)
    let clock = VirtualClock()
    let waits = WaitRegistry()
    let outcome = OutcomeBox<Success>()
    executor.claimCurrentThread()

    let root = Task(name: name, executorPreference: executor) {
      do {
        // The root's executor preference is all its tasks need to stay here: children inherit it,
        // and `spawnTask`, `JoinSet` and `TaskTracker` read it. Not even a nil observer when waits go
        // unreported: every unstructured task copies the task-locals bound above it, and a benchmark
        // spawning 100,000 would pay for it.
        let value: Success
        if reportingWaits {
          value = try await WaitReporting.$observer.withValue(waits) { try await body(clock) }
        } else {
          value = try await body(clock)
        }
        outcome.set(.success(value))
      } catch {
        outcome.set(.failure(error))
      }
    }

    var result = SimulationResult<Success>()
    var unwindRounds = 0
    var jobsThisInstant = 0
    var instant = clock.now
    while true {
      if clock.now != instant {
        instant = clock.now
        jobsThisInstant = 0
      }
      let limit = jobBudget.map { max(0, $0 - jobsThisInstant) + 1 } ?? .max
      let ran = executor.runUntilIdle(limit: limit)
      result.jobsRun += ran
      jobsThisInstant += ran
      if let jobBudget, jobsThisInstant > jobBudget, outcome.get() == nil, executor.hasReadyJobs {
        // Still busy, and time has not moved: nothing will ever change by waiting longer.
        let report = LivelockReport(time: clock.now.offset, jobs: jobsThisInstant)
        result.livelock = report
        onLivelock(report)
        break
      }
      if ran == limit { continue }
      if outcome.get() != nil { break }
      if clock.timers.advanceToNextDeadline() > 0 { continue }

      // Nothing can run and nothing will wake up by itself: a deadlock.
      let blocked = waits.current
      let report = DeadlockReport(time: clock.now.offset, blocked: blocked)
      result.deadlocks.append(report)
      onDeadlock(report)
      guard unwindRounds < maximumUnwindRounds, !blocked.isEmpty else { break }
      unwindRounds += 1
      root.cancel()
      for wait in blocked { wait.unwind() }
    }

    // Tasks still asleep or waiting once the root returned would outlive their owner: name them,
    // then end their waits so nothing leaks, the way a process exit would end them.
    if outcome.get() != nil {
      for sleeper in clock.timers.parkedSleepers {
        result.leftovers.append(
          LeftoverTask(task: sleeper.task ?? "unnamed task", waitsOn: "sleep until \(sleeper.deadline)"))
      }
      for wait in waits.current {
        result.leftovers.append(LeftoverTask(task: wait.task, waitsOn: wait.label))
      }
      var rounds = 0
      while rounds < maximumUnwindRounds, clock.timers.cancelAll() + unwindAll(waits) > 0 {
        result.jobsRun += executor.runUntilIdle()
        rounds += 1
      }
    }

    result.value = outcome.get()
    result.endTime = clock.now.offset
    result.foreignEnqueues = executor.foreignEnqueues
    return result
  }

  private static func unwindAll(_ waits: WaitRegistry) -> Int {
    let current = waits.current
    for wait in current { wait.unwind() }
    return current.count
  }
}

/// What a simulated run did.
public struct SimulationResult<Success: Sendable>: Sendable {
  /// The root's result; `nil` when it never finished (a deadlock that unwinding could not clear).
  public var value: Result<Success, any Error>?
  /// Every time the run found itself deadlocked, in order. Empty for a healthy run.
  public var deadlocks: [DeadlockReport] = []
  /// Tasks that were still sleeping or waiting when the root returned.
  public var leftovers: [LeftoverTask] = []
  /// Virtual time when the run ended.
  public var endTime: Duration = .zero
  /// Jobs executed: a measure of work, independent of the machine.
  public var jobsRun = 0
  /// Jobs that arrived from another thread. Must be 0: anything else makes order nondeterministic.
  public var foreignEnqueues = 0
  /// Set when the run was stopped because its tasks spent the job budget without time moving.
  public var livelock: LivelockReport?

  /// The root's value, or the error it threw, or a `SimulationError` when it never finished.
  public func get() throws -> Success {
    guard let value else { throw SimulationError.rootNeverFinished(deadlocks) }
    return try value.get()
  }
}

/// A task still sleeping or waiting when the root task returned.
public struct LeftoverTask: Sendable, Equatable, CustomStringConvertible {
  public var task: String
  public var waitsOn: String
  public var description: String { "\(task) (\(waitsOn))" }
}

/// Why a simulated run produced no value.
public enum SimulationError: Error, CustomStringConvertible {
  case rootNeverFinished([DeadlockReport])

  public var description: String {
    switch self {
    case .rootNeverFinished(let reports):
      "the run never finished: " + (reports.last.map(\.description) ?? "no report")
    }
  }
}

/// Nothing could run, no sleep was pending, and the root had not finished.
public struct DeadlockReport: Sendable, CustomStringConvertible {
  /// One task stuck in an announced wait.
  public struct BlockedWait: Sendable, Equatable, CustomStringConvertible {
    public var task: String
    public var label: String
    public var detail: String
    /// "main waits on mpsc receive; 1 sender alive"
    public var description: String { "\(task) waits on \(label)" + (detail.isEmpty ? "" : "; \(detail)") }
  }

  /// Virtual time of the deadlock.
  public var time: Duration
  /// The announced waits in progress, oldest first. Waits not announced through
  /// `WaitReporting` (a bare continuation) cannot be named and do not appear.
  public var blocked: [BlockedWait]

  init(time: Duration, blocked: [WaitRecord]) {
    self.time = time
    self.blocked = blocked.map { BlockedWait(task: $0.task, label: $0.label, detail: $0.detail()) }
  }

  public var description: String {
    if blocked.isEmpty { return "deadlock: nothing can run and no wait was announced" }
    return "deadlock: " + blocked.map(\.description).joined(separator: "; and ")
  }
}

/// Tasks kept running at one instant of virtual time until the job budget was spent: a loop that
/// never waits for anything (it polls, or swallows its cancellation and goes round again).
public struct LivelockReport: Sendable, Hashable, CustomStringConvertible {
  /// Virtual time the loop was stuck at.
  public var time: Duration
  /// Jobs run at that instant before the run was stopped.
  public var jobs: Int

  public var description: String {
    "livelock: \(jobs) jobs ran without time moving; the spinning tasks were stopped"
  }
}

/// The root task's result, handed from the task to the run loop.
private final class OutcomeBox<Success: Sendable>: Sendable {
  private let value = Lock<Result<Success, any Error>?>(nil)
  func set(_ result: Result<Success, any Error>) { value.withLock { $0 = result } }
  func get() -> Result<Success, any Error>? { value.withLock { $0 } }
}
