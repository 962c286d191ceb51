import Patterns

/// The flow stories of a deploy: what the platform does around the process. Kubernetes removes a
/// deleted pod's endpoint asynchronously, so traffic keeps coming for a while after SIGTERM; a
/// preStop sleep, or the service's own drain delay, rides that out.
enum FlowDeployStories {
  // MARK: k8s

  static let kubernetes = Scenario(
    name: "k8s",
    headline: { knobs in
      """
      The pod is deleted at \(formatDuration(knobs.shutdownAt)). The load balancer keeps sending for \
      the \(formatDuration(knobs.endpointLag)) endpoint lag; the kubelet runs preStop \
      (\(formatDuration(knobs.prestop))), then sends SIGTERM; SIGKILL follows \
      \(formatDuration(knobs.terminationGrace)) after the deletion. Every 5th request is a 2s report.
      """
    },
    knobs: [.shutdownAt, .grace, .rate, .requestTime, .endpointLag, .prestop, .terminationGrace],
    participants: FlowStories.participants,
    lesson: """
      Kubernetes sends SIGTERM while traffic is still arriving: sleep in preStop at least the \
      endpoint lag, and set terminationGracePeriodSeconds ≥ preStop + drain + cleanup, or SIGKILL cuts \
      the shutdown short.
      """,
    script: { knobs in [.init(at: knobs.shutdownAt + knobs.prestop, .terminate)] },
    invariants: FlowStories.invariants,
    outcome: FlowStories.requests(aborted: 0, refused: 10, exitCode: 0)
  ) { context in
    let knobs = context.knobs
    let deletion = knobs.shutdownAt
    var setup = FlowStories.setup(knobs)
    setup.routing = .until(deletion + knobs.endpointLag)
    setup.slowEvery = (5, .seconds(2))
    let service = SimulatedService(setup, context: context)
    let kubelet = spawnTask(name: "kubelet") {
      await context.sleepUntil(deletion)
      service.record(
        "kubelet", .note,
        "pod deleted: endpoint removal starts (takes \(formatDuration(knobs.endpointLag))); "
          + "runs preStop: sleep \(formatDuration(knobs.prestop))")
      await context.sleepUntil(deletion + knobs.prestop)
      service.record("kubelet", .notify, "preStop done; sends SIGTERM")
      await context.sleepUntil(deletion + knobs.terminationGrace)
      guard !Task.isCancelled else { return }
      service.kill(
        "kubelet",
        "SIGKILL: the \(formatDuration(knobs.terminationGrace)) termination grace period is over",
        exitCode: 137)
    }
    let report = await service.run()
    let killed = service.isKilled
    kubelet.cancel()
    await kubelet.value
    // What the shutdown needed after SIGTERM: the coordinator's own figures (a killed process's
    // coordinator is not recorded, but its report still says how long each step took).
    let cleaningUp = report.time(of: .cleaningUp) ?? report.duration
    let needed = knobs.prestop + report.duration
    let holds = knobs.terminationGrace >= needed
    let drain = context.measured(cleaningUp)
    let cleanup = context.measured(report.duration - cleaningUp)
    return service.summary(exitCode: killed ? 137 : report.exitCode) + [
      SummaryLine(
        "grace needed", .duration(needed),
        note: "= \(formatDuration(knobs.prestop)) preStop + \(drain) drain + \(cleanup) cleanup"),
      SummaryLine(
        "termination grace", .duration(knobs.terminationGrace),
        note: holds ? "≥ grace needed: the rule holds" : "< grace needed: SIGKILL cut the shutdown"),
      SummaryLine(
        "preStop ≥ endpoint lag", .flag(knobs.prestop >= knobs.endpointLag),
        note: "(\(formatDuration(knobs.prestop)) vs \(formatDuration(knobs.endpointLag)))"),
    ]
  }

  // MARK: drain-delay

  static let drainDelay = Scenario(
    name: "drain-delay",
    headline: { knobs in
      """
      SIGTERM at \(formatDuration(knobs.shutdownAt)). Readiness says draining at once, but the load \
      balancer's probes take \(formatDuration(knobs.endpointLag)) to notice; the listener keeps \
      accepting for the \(formatDuration(knobs.drainDelay)) drain delay, then closes.
      """
    },
    knobs: [.shutdownAt, .grace, .rate, .requestTime, .drainDelay, .endpointLag],
    participants: FlowStories.participants,
    lesson: """
      A drain delay is preStop inside the service: say "draining" at once, keep accepting until the \
      load balancers have noticed, then close. Shorter than their lag, and requests are refused.
      """,
    invariants: FlowStories.invariants,
    outcome: FlowStories.requests(aborted: 0, refused: 0, exitCode: 0)
  ) { context in
    let knobs = context.knobs
    var setup = FlowStories.setup(knobs)
    setup.configuration = FlowStories.configuration(knobs, drainDelay: knobs.drainDelay)
    setup.routing = .untilDraining(lag: knobs.endpointLag)
    let service = SimulatedService(setup, context: context)
    let report = await service.run()
    return service.summary(exitCode: report.exitCode)
  }
}

extension ScenarioContext {
  /// Sleeps until `moment` on the timeline (at once if it has passed); returns early if cancelled.
  func sleepUntil(_ moment: Duration) async {
    let wait = moment - timeline.now
    if wait > .zero { try? await sleep(for: wait) }
  }
}
