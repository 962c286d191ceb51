/// Closes a service's resources in the reverse order they were opened, each step under its own
/// timeout and all of them under one shared budget.
///
/// Step 5 of a graceful shutdown ("close resources such as the database pool"). Register a step
/// when you open a resource; at shutdown ``run(budget:clock:forced:)`` runs them last-in first-out:
///
/// ```swift
/// let cleanup = CleanupStack()
/// cleanup.register(name: "database pool", timeout: .seconds(5)) { try await pool.close() }
/// cleanup.register(name: "queue consumer", timeout: .seconds(2)) { await consumer.stop() }  // uses the pool
/// cleanup.register(name: "cache flush", timeout: .seconds(3)) { try await cache.flush() }   // uses the pool
/// let results = await cleanup.run(budget: .seconds(8), clock: clock)
/// // cache flush, then queue consumer, then database pool: the pool others depend on closes last
/// ```
///
/// The sharp edges:
/// - **Last in, first out.** What was opened first is what the others were built on; closing it
///   first breaks the steps still to come (swift-service-lifecycle gets this right for a graceful
///   shutdown, and loses the order when the group is cancelled; Go's `RegisterOnShutdown` hooks run
///   concurrently, in no order).
/// - **Each step gets the smaller of its own timeout and what is left of the budget.** A step that
///   overruns eats into the budget of the ones after it, never past it: the run as a whole ends
///   within the budget (plus the time the steps take to notice their cancellation). A step reached
///   with no budget left is ``CleanupOutcome/skipped(reason:)``.
/// - **A failed step never stops the next one.** Its error is reported as
///   ``CleanupOutcome/failed(_:)``; the pool still closes after the cache failed to flush.
/// - **A step that ignores cancellation is not waited for forever.** Each step runs in its own task
///   (kept on the caller's executor with ``spawnTask(name:priority:_:)``). At its timeout the task is
///   cancelled and the run moves on at once, reporting ``CleanupOutcome/timedOut(stillRunning:)``,
///   with `stillRunning` saying whether it had still not returned when the run ended (the run gives
///   cancelled steps a few scheduler turns, never more time, to return).
/// - **The timers work in a cancelled task.** A `Task.sleep` in a cancelled task throws at once, so a
///   timeout measured there would fire at once, and shutdown is exactly when the calling task is
///   likely to be cancelled. The timers run in separate tasks (as swift-service-lifecycle runs its
///   cancellation timer in an unstructured task), so every step gets its full time either way.
public final class CleanupStack: Sendable {
  /// One registered step.
  struct Step: Sendable {
    var name: String
    var timeout: Duration
    var body: @Sendable () async throws -> Void
  }

  private let steps = Lock<[Step]>([])

  /// An empty stack.
  public init() {}

  /// Adds a step; it will run before every step registered earlier.
  /// - Parameters:
  ///   - name: how the step is named in results and reports ("database pool").
  ///   - timeout: the most the step may take; it may get less if the shared budget runs short.
  ///   - step: the work. It should return soon after its task is cancelled; if it does not, it is
  ///     abandoned (reported, not awaited).
  public func register(
    name: String, timeout: Duration, _ step: @escaping @Sendable () async throws -> Void
  ) {
    steps.withLock { $0.append(Step(name: name, timeout: timeout, body: step)) }
  }

  /// Names of the registered steps, in the order they will run (last registered first).
  public var names: [String] { steps.withLock { $0.reversed().map(\.name) } }

  /// Runs every registered step, last registered first, and returns one result per step in that
  /// order. The stack is empty afterwards: a second `run` runs nothing.
  /// - Parameters:
  ///   - budget: the time all steps share, counted from the start of this call.
  ///   - clock: measures the timeouts. Inside a `Simulation`, its virtual clock.
  ///   - forced: when true, nothing runs: every step is ``CleanupOutcome/skipped(reason:)`` (the
  ///     process is about to exit at once; the report still names what was not cleaned up).
  public func run<C: Clock<Duration>>(budget: Duration, clock: C, forced: Bool = false) async
    -> [CleanupResult]
  {
    let runner = TimedStepRunner<StepEvent>(
      clock: ShutdownClock(clock), mailbox: Mailbox(label: "cleanup step", cancelEvent: .callerCancelled))
    return await runSteps(
      budget: budget, forced: forced, runner: runner, wrap: { $0 }, unwrap: { $0 }, onResult: { _ in }
    ) { _ in false }
  }

  /// Takes the steps out, in the order they run.
  func takeSteps() -> [Step] {
    steps.withLock { steps in
      defer { steps = [] }
      return steps.reversed()
    }
  }

  /// The engine behind ``run(budget:clock:forced:)``, shared with ``GracefulShutdown``, which feeds
  /// its own events (signals) into the same mailbox. `onOther` sees every event that is not this
  /// run's and returns true to force an immediate stop.
  func runSteps<Event: Sendable>(
    budget: Duration, forced: Bool, runner: TimedStepRunner<Event>,
    wrap: @escaping @Sendable (StepEvent) -> Event, unwrap: (Event) -> StepEvent?,
    onResult: (CleanupResult) -> Void, onOther: (Event) -> Bool
  ) async -> [CleanupResult] {
    let steps = takeSteps()
    let start = runner.clock.elapsed()
    var results: [CleanupResult] = []
    var running: [(index: Int, finished: EndedFlag)] = []
    var forcedNow = forced
    for step in steps {
      if forcedNow {
        results.append(
          CleanupResult(name: step.name, outcome: .skipped(reason: "forced exit"), allowed: .zero))
        onResult(results[results.count - 1])
        continue
      }
      let left = budget - (runner.clock.elapsed() - start)
      guard left > .zero else {
        results.append(
          CleanupResult(name: step.name, outcome: .skipped(reason: "cleanup budget spent"), allowed: .zero))
        onResult(results[results.count - 1])
        continue
      }
      let allowed = min(step.timeout, left)
      let run = await runner.run(
        name: step.name, limit: allowed, wrap: wrap, unwrap: unwrap, onOther: onOther
      ) {
        try await step.body()
      }
      let outcome: CleanupOutcome
      switch run.outcome {
      case .done: outcome = .done
      case .failed(let message): outcome = .failed(message)
      case .timedOut:
        outcome = .timedOut(stillRunning: true)
        running.append((results.count, run.finished))
      case .forced:
        outcome = .skipped(reason: "forced exit while running")
        forcedNow = true
      }
      results.append(CleanupResult(name: step.name, outcome: outcome, allowed: allowed, took: run.took))
      onResult(results[results.count - 1])
    }
    // A timed-out step was cancelled: give it a few scheduler turns (no time) to return, then say
    // which still have not (they ignore cancellation, and are abandoned).
    var turns = 0
    while turns < 4, running.contains(where: { !$0.finished.isSet }) {
      await Task.yield()
      turns += 1
    }
    for (index, finished) in running where finished.isSet {
      results[index].outcome = .timedOut(stillRunning: false)
    }
    return results
  }
}

/// What became of one cleanup step.
public enum CleanupOutcome: Sendable, Hashable, CustomStringConvertible {
  /// It returned within its time.
  case done
  /// It threw; the message is the error's description.
  case failed(String)
  /// It had not returned when its time (its timeout, or what was left of the budget) ran out. Its
  /// task was cancelled and the run moved on; `stillRunning` says whether it had still not returned
  /// when the run ended (it ignored the cancellation).
  case timedOut(stillRunning: Bool)
  /// It never ran: the budget was spent, or the process was forced to exit.
  case skipped(reason: String)

  /// Whether the step did its job.
  public var isDone: Bool { self == .done }

  /// "done", "failed: disk full", "timed out (still running)", "skipped: cleanup budget spent".
  public var description: String {
    switch self {
    case .done: "done"
    case .failed(let message): "failed: \(message)"
    case .timedOut(let stillRunning): stillRunning ? "timed out (still running)" : "timed out"
    case .skipped(let reason): "skipped: \(reason)"
    }
  }
}

/// One cleanup step's result.
public struct CleanupResult: Sendable, Hashable, CustomStringConvertible {
  /// The name it was registered with.
  public var name: String
  /// What became of it.
  public var outcome: CleanupOutcome
  /// The time it was given: the smaller of its timeout and what was left of the budget (zero when
  /// skipped).
  public var allowed: Duration
  /// How long it ran before it returned or was given up on (zero when skipped).
  public var took: Duration

  /// A result, for tests and reports.
  public init(name: String, outcome: CleanupOutcome, allowed: Duration, took: Duration = .zero) {
    self.name = name
    self.outcome = outcome
    self.allowed = allowed
    self.took = took
  }

  /// "database pool: done".
  public var description: String { "\(name): \(outcome)" }
}

/// What a timed step's task and timer report into the mailbox.
enum StepEvent: Sendable {
  case ended(UInt64, failure: String?)
  case timedOut(UInt64)
  /// The waiting task was cancelled; the step keeps its full time regardless.
  case callerCancelled
}

/// Runs one step at a time in its own task with a time limit, waiting on a ``Mailbox`` so that the
/// wait works in a cancelled task and other events (signals) can interrupt it.
final class TimedStepRunner<Event: Sendable>: Sendable {
  enum Outcome: Sendable {
    case done
    case failed(String)
    case timedOut
    case forced
  }

  let clock: ShutdownClock
  let mailbox: Mailbox<Event>
  private let nextID = Lock<UInt64>(0)

  init(clock: ShutdownClock, mailbox: Mailbox<Event>) {
    self.clock = clock
    self.mailbox = mailbox
  }

  /// Runs `body` in a task named `name`, for at most `limit`.
  /// - Returns: the outcome, how long it took, and a flag set when the task actually ends (later,
  ///   for a step that timed out).
  func run(
    name: String, limit: Duration, wrap: @escaping @Sendable (StepEvent) -> Event,
    unwrap: (Event) -> StepEvent?, onOther: (Event) -> Bool,
    _ body: @escaping @Sendable () async throws -> Void
  ) async -> (outcome: Outcome, took: Duration, finished: EndedFlag) {
    let id = nextID.withLock { id in
      defer { id += 1 }
      return id
    }
    let mailbox = mailbox
    let finished = EndedFlag()
    let start = clock.elapsed()
    let task = spawnTask(name: name) {
      var failure: String?
      do { try await body() } catch { failure = String(describing: error) }
      finished.set()
      mailbox.push(wrap(.ended(id, failure: failure)))
    }
    let timer = clock.startTimer(
      name: "\(name) timeout", at: start + limit, into: mailbox, wrap(.timedOut(id)))
    defer { timer.cancel() }
    while true {
      let event = await mailbox.next()
      switch unwrap(event) {
      case .ended(id, let failure)?:
        return (failure.map(Outcome.failed) ?? .done, clock.elapsed() - start, finished)
      case .timedOut(id)?:
        task.cancel()
        return (.timedOut, clock.elapsed() - start, finished)
      case .ended?, .timedOut?, .callerCancelled?:
        continue  // a stale event of an earlier step, or our caller cancelled: the step keeps its time
      case nil:
        if onOther(event) {
          task.cancel()
          return (.forced, clock.elapsed() - start, finished)
        }
      }
    }
  }
}

/// Set once, when a step's task has returned.
final class EndedFlag: Sendable {
  private let value = Lock(false)
  func set() { value.withLock { $0 = true } }
  var isSet: Bool { value.withLock { $0 } }
}
