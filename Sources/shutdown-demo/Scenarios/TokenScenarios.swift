import Patterns

/// `shutdown-demo token`: a cancellation token tree carries "stop" from main to every worker.
enum TokenScenarios {
  static let catalog = PatternCatalog(
    pattern: "token", scenarios: [basic, tree, notPropagated, timeout, dropGuard])

  // MARK: basic

  /// Main owns a root token and gives each worker a child. SIGTERM arrives; main cancels the root;
  /// each worker notices between two units of work, cleans up and exits. Main waits, but only for
  /// the grace period: whoever is still running then has its task cancelled.
  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      "SIGTERM arrives at \(formatDuration(knobs.shutdownAt)); main cancels the root token, and "
        + "\(eachOf(workers: knobs.workers)) holding a child token finishes the unit in hand, cleans up and exits. "
        + "Main waits at most \(formatDuration(knobs.grace))."
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in workerNames(knobs.workers) },
    lesson: "Cancelling a token is a request: each task stops at its next check, so the grace "
      + "period must cover the longest unit of work, or that task is cut off mid-unit.",
    invariants: Invariant.all(.everyParticipantObserved, .nothingAborted)
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    context.record(
      "main", .start,
      "creates the root token and starts \(workerCount(knobs.workers)), each with a child token")

    let workers = workerNames(knobs.workers).enumerated().map { index, name in
      WorkerSpec(name: name, unit: unitOfWork(forWorker: index), token: root.childToken())
    }
    await superviseWithGrace(workers, context: context) {
      root.cancel()
      context.record("main", .notify, "root.cancel(): every child token is now cancelled")
    } escalate: { running in
      "grace period of \(formatDuration(knobs.grace)) is over; cancelling \(running.count) worker task(s)"
    }
    context.record("main", .exit, "every worker has stopped; exit 0")
    return []
  }

  // MARK: supervising with a grace period

  /// One worker to start: its name, its pace, the token it watches.
  struct WorkerSpec: Sendable {
    var name: String
    var unit: Duration
    var token: CancellationToken
    /// The body; `runWorker` unless a scenario needs a different kind of task.
    var body: (@Sendable (String, Duration, CancellationToken, ScenarioContext) async -> WorkerOutcome)? = nil
  }

  enum WorkerOutcome: Sendable {
    case stopped, aborted, graceExpired
  }

  /// Starts `workers` in a task group, waits for the scripted SIGTERM, calls `onSignal` (which
  /// cancels tokens), then waits for the workers, but only for the grace period: whoever is still
  /// running then has its Swift task cancelled (`escalate` says so in words, given their names).
  static func superviseWithGrace(
    _ workers: [WorkerSpec], context: ScenarioContext, onSignal: @Sendable () -> Void,
    escalate: @Sendable ([String]) -> String
  ) async {
    let knobs = context.knobs
    await withTaskGroup(of: (String, WorkerOutcome).self) { group in
      for worker in workers {
        group.addTask(name: worker.name) {
          let body = worker.body ?? runWorker
          return (worker.name, await body(worker.name, worker.unit, worker.token, context))
        }
      }

      // The script: SIGTERM at --shutdown-at. A live service would wait for the signal instead.
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("signal", .signal, "SIGTERM")
      onSignal()

      group.addTask(name: "grace-timer") {
        try? await context.sleep(for: knobs.grace)
        return ("grace-timer", .graceExpired)
      }
      var running = workers.map(\.name)
      while let (name, outcome) = await group.next() {
        switch outcome {
        case .stopped, .aborted:
          running.removeAll { $0 == name }
          if running.isEmpty { group.cancelAll() }  // everyone is out: stop the grace timer
        case .graceExpired where !running.isEmpty:
          context.record("main", .deadline, escalate(running))
          group.cancelAll()
        case .graceExpired:
          break
        }
      }
    }
  }

  // MARK: the worker

  /// Works in units until its token is cancelled. It checks the token only between units: that is
  /// what "cooperative" means, and why a long unit delays the shutdown.
  static func runWorker(
    _ name: String, unit: Duration, token: CancellationToken, context: ScenarioContext
  ) async -> WorkerOutcome {
    context.record(name, .start, "starts; each unit of work takes \(formatDuration(unit))")
    var units = 0
    do {
      while !token.isCancelled {
        try await context.sleep(for: unit)
        units += 1
        context.record(name, .work, "finished unit \(units)")
      }
      context.record(name, .observe, "sees its token cancelled: takes no new unit, cleans up")
      try await context.sleep(for: cleanupTime)
      context.record(name, .exit, "exits after \(units) unit(s)")
      return .stopped
    } catch {
      // Only the Swift task's cancellation makes the clock throw: main gave up waiting.
      context.record(name, .abort, "task cancelled at the grace deadline, after \(units) unit(s)")
      return .aborted
    }
  }

  static let cleanupTime: Duration = .milliseconds(100)

  /// Each worker has its own pace, so they notice the shutdown at different times.
  static func unitOfWork(forWorker index: Int) -> Duration {
    let paces = [300, 450, 700, 550, 850, 400, 650, 950]
    return .milliseconds(paces[index % paces.count] + 10 * (index / paces.count))
  }

  static func workerNames(_ count: Int) -> [String] { (1...max(count, 1)).map { "worker-\($0)" } }
}
