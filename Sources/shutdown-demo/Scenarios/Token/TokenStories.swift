import Patterns

/// `shutdown-demo token`: a cancellation token tree carries "stop" from main to every worker.
enum TokenStories {
  static let catalog = StoryCatalog(
    command: "token",
    abstract: "Cancellation token tree: cooperative, cascading, idempotent cancellation.",
    discussion: """
      A root CancellationToken is cancelled when SIGTERM arrives; every worker holds a child token \
      and checks it between units of work. The Swift counterpart of tokio-util's CancellationToken.
      """,
    scenarios: [basic, tree, notPropagated, timeout, dropGuard])

  // MARK: basic

  /// Main owns a root token and gives each worker a child. SIGTERM arrives; main cancels the root;
  /// each worker notices between two units of work, cleans up and exits. Main waits, but only for
  /// the grace period: whoever is still running then has its task cancelled.
  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      """
      SIGTERM arrives at \(formatDuration(knobs.shutdownAt)); main cancels the root token, and \
      \(eachOf(workers: knobs.workers)) holding a child token finishes the unit in hand, cleans up and \
      exits. Main waits at most \(formatDuration(knobs.grace)).
      """
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      Cancelling a token is a request: each task stops at its next check, so the grace period must \
      cover the longest unit of work, or that task is cut off mid-unit.
      """,
    invariants: [.everyParticipantObservedOrAborted, .everyTaskEnded],
    outcome: [.everyParticipantObserved, .nothingAborted]
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    context.record(
      "main", .start,
      "creates the root token and starts \(counted(knobs.workers, "worker"))\(eachWith(knobs.workers)) a child token"
    )
    let members = Crew.names(knobs.workers).enumerated().map { index, name in
      let token = root.childToken()
      return Crew.Member(name: name) {
        await Crew.work(
          name, unit: Crew.pace(ofWorker: index), noun: "unit", context: context, look: Crew.tokenLook(token))
      }
    }
    await Crew.supervise(members, context: context) {
      root.cancel()
      context.record("main", .notify, "root.cancel(): every child token is now cancelled")
    }
    context.mainExits("every worker has stopped")
    return []
  }

  // MARK: timeout

  /// A worker is inside one long step that never looks at its token: the grace period runs out, and
  /// main escalates to cancelling its Swift task.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      """
      Two workers check their tokens between 300ms units; compactor is inside one 5s step that never \
      checks. SIGTERM at \(formatDuration(knobs.shutdownAt)) cancels the root; main waits at most \
      \(formatDuration(knobs.grace)), then escalates to cancelling the Swift task of whoever is left.
      """
    },
    knobs: [.shutdownAt, .grace],
    participants: { _ in ["worker-1", "worker-2", "compactor"] },
    lesson: """
      A token cannot interrupt a step that does not check it. Bound the wait with a grace period, then \
      escalate: Task.cancel() stops code that honours Swift cancellation (sleeps, I/O), mid-step.
      """,
    invariants: [.everyTaskEnded],
    outcome: [.allButLastObserved, .abortedExactly { _ in ["compactor"] }]
  ) { context in
    let root = CancellationToken()
    context.record(
      "main", .start, "creates the root token; starts 2 workers and the compactor, each with a child")
    var members = ["worker-1", "worker-2"].map { name in
      let token = root.childToken()
      return Crew.Member(name: name) {
        await Crew.work(
          name, unit: .milliseconds(300), noun: "unit", context: context, look: Crew.tokenLook(token))
      }
    }
    let compactorToken = root.childToken()
    members.append(
      Crew.Member(name: "compactor") {
        await runCompactor("compactor", step: .seconds(5), token: compactorToken, context: context)
      })
    await Crew.supervise(members, context: context) {
      root.cancel()
      context.record("main", .notify, "root.cancel(): every child token is now cancelled")
    }
    context.mainExits("every worker has stopped")
    return []
  }

  /// One long step that never checks the token; only Swift task cancellation can cut it short.
  static func runCompactor(
    _ name: String, step: Duration, token: CancellationToken, context: ScenarioContext
  ) async -> Crew.Outcome {
    context.record(
      name, .start, "starts compacting: one \(formatDuration(step)) step that never checks its token")
    do {
      try await context.sleep(for: step)
      context.record(name, .work, "finished the step")
      if token.isCancelled { context.record(name, .observe, "sees its token cancelled") }
      context.record(name, .exit, "exits")
      return .stopped
    } catch {
      context.record(name, .abort, "Swift task cancelled mid-step; the compaction is left half done")
      return .aborted
    }
  }
}
