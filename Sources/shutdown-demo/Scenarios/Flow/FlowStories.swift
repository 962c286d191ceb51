import Patterns

/// `shutdown-demo flow`: a whole service shut down by the library's `GracefulShutdown`, in the
/// seven steps from SIGTERM to exit 0. The five patterns are its parts: a watch carries readiness,
/// a token tree tells every task, a task tracker and a connection tracker say when the work is done.
enum FlowStories {
  static let catalog = StoryCatalog(
    command: "flow",
    abstract: "A service's seven shutdown steps, SIGTERM to exit 0.",
    discussion: """
      A simulated service (a load balancer sending requests, a listener, one handler per request, a \
      queue consumer, a cache, a database pool) is shut down by GracefulShutdown: (1) the signal \
      arrives and readiness says draining, (2) the listener stops accepting, (3) every task is told, \
      (4) in-flight requests drain until done or the grace deadline, (5) resources close in reverse \
      order, (6) state is saved atomically, (7) the process exits 0, or 1 if something was cut, or \
      128+n if a repeated signal forced it. Every line of the shutdown names its step.
      """,
    defaults: Knobs(shutdownAt: .seconds(1), grace: .seconds(5)),
    scenarios: [
      basic, naive, slowRequest, secondSignal, cleanupFailure, FlowDeployStories.kubernetes,
      FlowDeployStories.drainDelay, FlowLifecycleStories.reload, FlowLifecycleStories.restart,
    ])

  /// The coordinator's settings for a story: the grace knob, no drain delay unless given.
  static func configuration(_ knobs: Knobs, drainDelay: Duration = .zero) -> ShutdownConfiguration {
    ShutdownConfiguration(
      grace: knobs.grace, drainDelay: drainDelay, cleanupBudget: .seconds(3), persistenceBudget: .seconds(1))
  }

  /// The load every story starts with.
  static func setup(_ knobs: Knobs, store: (any StateStore)? = InMemoryStateStore()) -> SimulatedService.Setup
  {
    SimulatedService.Setup(
      rate: knobs.rate, requestTime: knobs.requestTime, configuration: configuration(knobs), store: store)
  }

  /// What every flow story must show under any order of simultaneous jobs: each accepted request
  /// ended exactly once (the accepted equation, checked by `Invariant.always`), and the exit code
  /// on main's last line is the one the summary reports.
  static let invariants: [Invariant] = [.everyTaskEnded, exitLineMatchesSummary, acceptedOnlyWhileListening]

  /// No connection slipped in after the listener closed: closing and counting are one decision in
  /// the connection tracker.
  static let acceptedOnlyWhileListening = Invariant(what: "no request was accepted after the listener closed")
  {
    report in
    guard let closed = report.events.first(where: { $0.actor == "listener" && $0.kind == .observe }) else {
      return nil  // the listener never closed (the process died first)
    }
    let late = report.events.filter {
      $0.kind == .start && $0.actor.hasPrefix("req-") && $0.time > closed.time
    }
    return late.isEmpty
      ? nil : "\(late.map(\.actor).joined(separator: ", ")) accepted after the listener closed"
  }

  static let exitLineMatchesSummary = Invariant(what: "main's exit line and the summary's exit code agree") {
    report in
    guard case .count(let code) = report.measure("exit code") else { return "exit code: not measured" }
    guard let last = report.events.last(where: { $0.actor == "main" && $0.kind == .exit }) else {
      return "main never recorded its exit"
    }
    return last.detail.hasSuffix("exit \(code)")
      ? nil : "main's last line says \"\(last.detail)\", not exit \(code)"
  }

  /// The story's request counts and exit code, for the default story's checks.
  static func requests(
    accepted: Int? = nil, aborted: Int, failed: Int = 0, refused: Int, exitCode: Int
  ) -> [Invariant] {
    var checks: [Invariant] = [
      .init(what: "requests aborted as expected") { report in
        guard case .equation(_, let parts) = report.measure("requests accepted"), parts.count == 3 else {
          return "requests accepted: not measured"
        }
        return parts[1].count == aborted && parts[2].count == failed
          ? nil : "aborted \(parts[1].count), failed \(parts[2].count); expected \(aborted) and \(failed)"
      },
      .measured("requests refused", .count(refused)),
      .measured("exit code", .count(exitCode)),
    ]
    if let accepted {
      checks.append(
        .init(what: "requests accepted as expected") { report in
          guard case .equation(let total, _) = report.measure("requests accepted") else {
            return "not measured"
          }
          return total == accepted ? nil : "accepted \(total), expected \(accepted)"
        })
    }
    return checks
  }

  static let participants: @Sendable (Knobs) -> [String] = { _ in ["listener", "queue-consumer"] }

  // MARK: basic

  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      """
      A load balancer sends \(knobs.rate) requests a second, each taking \(formatDuration(knobs.requestTime)). \
      SIGTERM at \(formatDuration(knobs.shutdownAt)): readiness says draining, the listener closes, \
      the token tree tells every task, in-flight requests finish (grace \(formatDuration(knobs.grace))), \
      the cache, queue and db pool close in that order, the counters are saved, and the process exits 0.
      """
    },
    knobs: [.shutdownAt, .grace, .rate, .requestTime],
    participants: participants,
    lesson: """
      A graceful shutdown is seven steps in order: stop taking new work first, finish what you \
      accepted, then close what that work needed, then save, then exit 0. Nothing accepted is cut.
      """,
    invariants: invariants,
    outcome: requests(aborted: 0, refused: 0, exitCode: 0)
  ) { context in
    let service = SimulatedService(setup(context.knobs), context: context)
    let report = await service.run()
    return service.summary(exitCode: report.exitCode)
  }

  // MARK: naive

  static let naive = Scenario(
    name: "naive",
    headline: { knobs in
      """
      The same service with no signal handler. A load balancer sends \(knobs.rate) requests a \
      second, each taking \(formatDuration(knobs.requestTime)). SIGTERM at \
      \(formatDuration(knobs.shutdownAt)) runs its default action: the process ends on the spot.
      """
    },
    knobs: [.shutdownAt, .rate, .requestTime],
    participants: participants,
    lesson: """
      Without a handler, SIGTERM kills the process mid-request: every request in flight is cut (the \
      502s of a rolling deploy) and unsaved state is gone. Catch the signal and drain.
      """,
    invariants: [.everyTaskEnded],
    outcome: requests(aborted: 1, refused: 0, exitCode: 143)
  ) { context in
    let service = SimulatedService(setup(context.knobs, store: nil), context: context, handlesSignals: false)
    service.record("main", .start, "starts: \(service.openingOrder); no signal handler")
    // The same service, served by hand: the same load balancer and handlers, but nobody listens
    // for the signal, so the coordinator never runs.
    let serving = spawnTask(name: "service") { await service.serveWithoutHandler() }
    await context.waitForShutdownSignal()
    service.dieAtOnce()
    serving.cancel()
    await serving.value
    // The dead process's tasks wind down unseen (a real one's vanish with it).
    service.shutdown.tasks.close()
    await service.shutdown.tasks.wait()
    return service.summary(exitCode: 143)
  }

  // MARK: slow-request

  static let slowRequest = Scenario(
    name: "slow-request",
    headline: { knobs in
      """
      As in basic, but request 4 is a report that takes 8s. SIGTERM at \
      \(formatDuration(knobs.shutdownAt)); the drain waits for it until the \
      \(formatDuration(knobs.grace)) grace deadline, then aborts it, names it, and moves on.
      """
    },
    knobs: [.shutdownAt, .grace, .rate, .requestTime],
    participants: participants,
    lesson: """
      The grace period bounds the wait, not the work: a request longer than it is cut at the \
      deadline, named, and the exit code says 1. Size the grace period to your slowest request.
      """,
    invariants: invariants,
    outcome: requests(aborted: 1, refused: 0, exitCode: 1)
  ) { context in
    var setup = setup(context.knobs)
    setup.slowRequests = [4: .seconds(8)]
    let service = SimulatedService(setup, context: context)
    let report = await service.run()
    return service.summary(exitCode: report.exitCode)
  }

  // MARK: second-signal

  static let secondSignal = Scenario(
    name: "second-signal",
    headline: { knobs in
      """
      Ctrl-C at \(formatDuration(knobs.shutdownAt)) while request 4 (8s) is in flight; Ctrl-C \
      again 1s later, during the drain; and a third 500ms after that, while the slow cache flush \
      (2s) runs. The escalation ladder: the 1st starts the graceful path, the 2nd stops the waiting \
      but still cleans up, the 3rd exits at once with 130.
      """
    },
    knobs: [.shutdownAt, .grace, .rate, .requestTime],
    participants: participants,
    lesson: """
      A repeated signal is an impatient operator: stop waiting on the 2nd but still close and save, \
      and leave at once on the 3rd, exiting 128+n (130 for SIGINT). Never swallow it.
      """,
    script: { knobs in
      [
        .init(at: knobs.shutdownAt, .interrupt), .init(at: knobs.shutdownAt + .seconds(1), .interrupt),
        .init(at: knobs.shutdownAt + .milliseconds(1500), .interrupt),
      ]
    },
    invariants: invariants,
    outcome: requests(aborted: 1, refused: 0, exitCode: 130)
  ) { context in
    var setup = setup(context.knobs)
    setup.slowRequests = [4: .seconds(8)]
    setup.cleanup[0].takes = .seconds(2)
    setup.cleanup[0].timeout = .seconds(3)
    let service = SimulatedService(setup, context: context)
    let report = await service.run()
    return service.summary(exitCode: report.exitCode)
  }

  // MARK: cleanup-failure

  static let cleanupFailure = Scenario(
    name: "cleanup-failure",
    headline: { knobs in
      """
      As in basic, with two bad resources: the cache flush throws, and closing the queue hangs past \
      its 1s timeout. SIGTERM at \(formatDuration(knobs.shutdownAt)). The db pool still closes, last, \
      and the counters are still saved.
      """
    },
    knobs: [.shutdownAt, .grace, .rate, .requestTime],
    participants: participants,
    lesson: """
      Give every cleanup step its own timeout and run the next one whatever the last did: one bad \
      resource must not keep the others open. Report it, and exit 1 so the deploy sees it.
      """,
    invariants: invariants,
    outcome: requests(aborted: 0, refused: 0, exitCode: 1)
  ) { context in
    var setup = setup(context.knobs)
    setup.cleanup[0].failure = "cache unreachable"
    setup.cleanup[1].takes = .seconds(5)
    let service = SimulatedService(setup, context: context)
    let report = await service.run()
    return service.summary(exitCode: report.exitCode)
  }
}
