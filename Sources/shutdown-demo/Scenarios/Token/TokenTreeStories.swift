import Patterns

/// The token stories about the shape of the tree, and what happens when it is broken.
extension TokenStories {
  // MARK: tree

  /// A root with two subtrees, http → connections and jobs → workers. Main drains the http subtree
  /// first; the jobs carry on until the root is cancelled. A connection accepted after its subtree
  /// was cancelled is born cancelled.
  static let tree = Scenario(
    name: "tree",
    headline: { _ in
      """
      A root token has two subtrees: http (2 connections) and jobs (2 workers). SIGTERM arrives; main \
      cancels http only, waits for the connections to drain, then cancels the root, which stops the jobs.
      """
    },
    knobs: [.shutdownAt],
    participants: { _ in ["conn-1", "conn-2", "job-1", "job-2"] },
    lesson: """
      Cancel a subtree to stop one part of the service and leave the rest running; cancel the root to \
      stop everything. A token never cancels its parent or its siblings.
      """,
    invariants: [
      .everyParticipantObserved, .everyTaskEnded, .measured(lateChildBornCancelled, .flag(true)),
    ],
    outcome: [.nothingAborted]
  ) { context in
    let root = CancellationToken()
    let http = root.childToken()
    let jobs = root.childToken()
    context.record("main", .start, "creates root → http, jobs; each connection and job gets a child token")
    let connections = [("conn-1", 300), ("conn-2", 450)].map { name, pace in
      spawnWorker(name, unit: .milliseconds(pace), token: http.childToken(), context: context)
    }
    let jobTasks = [("job-1", 700), ("job-2", 550)].map { name, pace in
      spawnWorker(name, unit: .milliseconds(pace), token: jobs.childToken(), context: context)
    }

    await context.waitForShutdownSignal()
    http.cancel()
    context.record(
      "main", .notify, "http.cancel(): conn-1 and conn-2 are cancelled; root and jobs are not")
    for connection in connections { _ = await connection.value }
    context.record(
      "main", .note,
      "connections drained; root.isCancelled = \(root.isCancelled), jobs.isCancelled = \(jobs.isCancelled)")
    let late = http.childToken()
    context.record(
      "main", .note,
      "a late connection gets http.childToken(): born cancelled (isCancelled = \(late.isCancelled))")
    root.cancel()
    context.record("main", .notify, "root.cancel(): the jobs subtree is cancelled too")
    for job in jobTasks { _ = await job.value }
    context.mainExits("every task has stopped")
    return [SummaryLine(lateChildBornCancelled, .flag(late.isCancelled))]
  }

  static let lateChildBornCancelled = "late child born cancelled"

  /// A worker in its own unstructured task (kept on the story's executor by `spawnTask`).
  static func spawnWorker(
    _ name: String, unit: Duration, token: CancellationToken, context: ScenarioContext
  ) -> Task<Crew.Outcome, Never> {
    spawnTask(name: name) {
      await Crew.work(name, unit: unit, noun: "unit", context: context, look: Crew.tokenLook(token))
    }
  }

  // MARK: not-propagated

  /// One worker got a brand-new token instead of a child of the root: the cancel never reaches it.
  static let notPropagated = Scenario(
    name: "not-propagated",
    headline: { knobs in
      """
      Two workers: fixed-worker holds root.childToken(); buggy-worker was given CancellationToken(), a \
      new root that nothing cancels. SIGTERM at \(formatDuration(knobs.shutdownAt)) cancels the root; \
      main waits \(formatDuration(knobs.grace)).
      """
    },
    knobs: [.shutdownAt, .grace],
    participants: { _ in ["fixed-worker", "buggy-worker"] },
    lesson: """
      A token only reaches tasks that hold a descendant of it. Derive every task's token from the root \
      with childToken(); a fresh CancellationToken() is a new tree that no shutdown will cancel.
      """,
    invariants: [.everyTaskEnded],
    outcome: [.observedExactly { _ in ["fixed-worker"] }, .abortedExactly { _ in ["buggy-worker"] }]
  ) { context in
    let root = CancellationToken()
    context.record("main", .start, "creates the root token; starts fixed-worker and buggy-worker")
    let members = [
      ("fixed-worker", Duration.milliseconds(300), root.childToken()),
      ("buggy-worker", Duration.milliseconds(400), CancellationToken()),
    ].map { name, unit, token in
      Crew.Member(name: name) {
        await Crew.work(name, unit: unit, noun: "unit", context: context, look: Crew.tokenLook(token))
      }
    }
    await Crew.supervise(members, context: context) {
      root.cancel()
      context.record(
        "main", .notify, "root.cancel(): reaches fixed-worker; buggy-worker's token is not in the tree")
    }
    context.mainExits("every worker has stopped")
    return []
  }

  // MARK: drop-guard

  /// The owner of a subtree fails and returns early; its drop guard cancels the subtree, so the
  /// workers it started do not run on without it.
  static let dropGuard = Scenario(
    name: "drop-guard",
    headline: { knobs in
      """
      A supervisor owns the jobs subtree through jobs.dropGuard() and starts \
      \(counted(knobs.workers, "worker")) with child tokens. At \(formatDuration(knobs.shutdownAt)) its \
      config reload fails and it returns early; its guard goes, and the guard cancels the subtree. \
      Nobody calls cancel() by hand.
      """
    },
    knobs: [.workers, .shutdownAt],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      Tie a subtree's token to its owner's lifetime with dropGuard(): however the owner exits, early \
      return or thrown error, its workers are told to stop. disarm() it on the path where they should \
      live on.
      """,
    invariants: [.everyParticipantObserved, .everyTaskEnded, .measured(rootCancelled, .flag(false))],
    outcome: [.nothingAborted]
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    let jobs = root.childToken()
    context.record("main", .start, "creates root → jobs and starts the supervisor")
    let workers = Collected<Task<Crew.Outcome, Never>>()
    let supervisor = spawnTask(name: "supervisor") {
      let dropGuard = jobs.dropGuard()
      context.record(
        "supervisor", .start, "holds jobs.dropGuard(); starts \(counted(knobs.workers, "worker"))")
      for (index, name) in Crew.names(knobs.workers).enumerated() {
        workers.append(
          spawnWorker(name, unit: Crew.pace(ofWorker: index), token: jobs.childToken(), context: context))
      }
      // Not a shutdown signal: the supervisor fails on its own, at the scripted time.
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("supervisor", .error, "its config reload fails; returns early, dropping its guard")
      _ = consume dropGuard  // the guard's deinit cancels `jobs`
      context.record("supervisor", .exit, "gone; jobs.isCancelled = \(jobs.isCancelled)")
    }
    await supervisor.value
    for worker in workers.values { _ = await worker.value }
    context.mainExits(
      "every worker has stopped; root.isCancelled = \(root.isCancelled) (only the subtree was)")
    return [SummaryLine(rootCancelled, .flag(root.isCancelled))]
  }

  static let rootCancelled = "root cancelled"
}
