import Patterns

/// Pitfalls of the waiting step: sleeping instead of waiting, and a grace period shorter than the
/// work it waits for.
enum DeadlinePitfalls {
  // MARK: sleep-out-grace

  static let workerUnits: [(name: String, unit: Duration)] = [
    ("worker-1", .milliseconds(300)), ("worker-2", .milliseconds(350)), ("worker-3", .milliseconds(700)),
  ]

  static let sleepOutGrace = Pitfall(
    name: "sleep-out-grace",
    goesWrong: "sleeps out the whole grace period after the work is done",
    headline: """
      3 workers stop at their next unit boundary once told (by 1.4s). SIGTERM arrives at 1s; main has \
      a grace period of 30s.
      """,
    metric: "quiet at",
    wrong: PitfallSide(
      [
        "token.cancel()",
        "try? await clock.sleep(for: .seconds(30))   // \"give them time\"",
      ], participants: workerUnits.map(\.name)
    ) { context in
      await runWorkers(context) { token, _ in
        token.cancel()
        context.record("main", .notify, "token.cancel(); then sleeps the grace period of 30s")
        try? await context.sleep(for: .seconds(30))
        context.record("main", .exit, "slept 30s; exits 0")
      }
    },
    right: PitfallSide(
      [
        "token.cancel(); tracker.close()",
        "let drained = await first({ await tracker.wait(); return true },",
        "                          { try? await clock.sleep(for: .seconds(30)); return false })",
      ], participants: workerUnits.map(\.name)
    ) { context in
      await runWorkers(context) { token, tracker in
        token.cancel()
        tracker.close()
        context.record("main", .notify, "token.cancel(); waits for the tracker, at most 30s")
        let drained = await first(
          {
            await tracker.wait(); return true
          }, { (try? await context.sleep(for: .seconds(30))) == nil })
        context.record("main", .exit, drained ? "every worker has stopped; exits 0" : "grace period over")
      }
    },
    why: """
      A sleep measures nothing: it waits the same 30 s whether the work took 0.4 s or never ends. Wait \
      for the thing that says the work is done (a TaskTracker, a JoinSet, the last mpsc sender), bounded \
      by the deadline, and exit the moment it comes.
      """,
    measure: { report in .instant(PitfallSupport.last(.exit, of: "main", in: report) ?? .zero) },
    failure: { report in
      guard let main = PitfallSupport.last(.exit, of: "main", in: report) else { return "main never exited" }
      let work = workerUnits.compactMap { PitfallSupport.last(.exit, of: $0.name, in: report) }.max() ?? .zero
      let idle = main - work
      return idle > .zero ? "main sat idle \(formatDuration(idle)) after the last worker stopped" : nil
    })

  /// Starts the workers in a TaskTracker, each with a child token; at SIGTERM runs `shutdown`.
  static func runWorkers(
    _ context: ScenarioContext, shutdown: (CancellationToken, TaskTracker) async -> Void
  ) async -> [SummaryLine] {
    let root = CancellationToken()
    let tracker = TaskTracker()
    context.record("main", .start, "starts 3 workers in a TaskTracker, each with a child token")
    for (name, unit) in workerUnits {
      let token = root.childToken()
      tracker.spawn(name: name) {
        await PitfallSupport.work(name, unit: unit, until: token, context: context)
      }
    }
    await context.waitForShutdownSignal()
    await shutdown(root, tracker)
    return []
  }

  // MARK: grace-shorter-than-slowest

  /// Requests in flight: when each started and how long it takes. The slowest takes 4s.
  static let requests: [(name: String, start: Duration, length: Duration)] = [
    ("req-1", .milliseconds(200), .milliseconds(600)), ("req-2", .milliseconds(400), .milliseconds(1500)),
    ("req-3", .milliseconds(600), .milliseconds(2800)), ("req-4", .milliseconds(800), .milliseconds(3600)),
    ("req-5", .milliseconds(900), .seconds(4)),
  ]

  static let graceShorterThanSlowest = Pitfall(
    name: "grace-shorter-than-slowest",
    goesWrong: "a grace period shorter than the slowest request cuts requests off",
    headline: """
      5 requests are in flight, the slowest needs 4s. SIGTERM at 1s; main waits the grace period, then \
      aborts whatever is left. Kubernetes sends SIGKILL terminationGracePeriodSeconds (30s) after the \
      preStop hook starts.
      """,
    metric: "requests cut off",
    wrong: PitfallSide(
      [
        "let grace = Duration.seconds(2)        // \"requests are fast\"",
        "// terminationGracePeriodSeconds: 30, preStop: sleep 10, grace 25s, cleanup 3s",
      ]
    ) { context in
      await serveRequests(context, grace: .seconds(2))
    },
    right: PitfallSide(
      [
        "let grace = Duration.seconds(5)        // > the slowest request (4s), with margin",
        "// terminationGracePeriodSeconds: 45 > preStop 10 + grace 25 + cleanup 3 = 38",
      ]
    ) { context in
      await serveRequests(context, grace: .seconds(5))
    },
    why: """
      The grace period must be longer than the slowest request you intend to finish (its P99 plus a \
      margin), or those requests are cut off: the client sees a reset connection. Kubernetes adds an \
      outer bound: its timer starts when the preStop hook starts, not at SIGTERM, and SIGKILL cannot be \
      handled, so terminationGracePeriodSeconds must exceed preStop + grace + cleanup.
      """,
    measure: { report in .count(PitfallSupport.count(.abort, in: report)) },
    failure: { report in
      let cut = report.events.filter { $0.kind == .abort }.map(\.actor)
      return cut.isEmpty ? nil : "\(listed(cut)) cut off at the deadline"
    })

  /// The requests in a JoinSet; at SIGTERM main joins them for at most `grace`, then aborts the rest.
  static func serveRequests(_ context: ScenarioContext, grace: Duration) async -> [SummaryLine] {
    let set = JoinSet<Void>()
    context.record("main", .start, "serving 5 requests; the slowest takes 4s")
    for request in requests {
      set.spawn(name: request.name) {
        try? await context.sleep(for: request.start)
        context.record(request.name, .start, "starts; takes \(formatDuration(request.length))")
        do {
          try await context.sleep(for: request.length)
          context.record(request.name, .exit, "done")
        } catch {
          context.record(request.name, .abort, "cut off: the client sees its connection reset")
        }
      }
    }
    await context.waitForShutdownSignal()
    context.record(
      "main", .notify, "stops accepting; waits for the requests, at most \(formatDuration(grace))")
    let deadline = spawnTask(name: "grace timer") {
      guard (try? await context.sleep(for: grace)) != nil else { return }
      context.record("main", .deadline, "grace period over; aborts \(counted(set.count, "request"))")
      set.abortAll()
    }
    while await set.joinNext() != nil {}
    deadline.cancel()
    context.record("main", .exit, "every request has ended")
    return []
  }
}
