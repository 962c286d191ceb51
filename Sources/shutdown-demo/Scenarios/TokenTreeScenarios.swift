import Patterns
import Synchronization

/// The token scenarios beyond `basic`: the shape of the tree, and what happens when it is broken.
extension TokenScenarios {
  // MARK: tree

  /// A root with two subtrees, http → connections and jobs → workers. Main drains the http subtree
  /// first; the jobs carry on until the root is cancelled. A connection accepted after its subtree
  /// was cancelled is born cancelled.
  static let tree = Scenario(
    name: "tree",
    headline: { knobs in
      "A root token has two subtrees: http (2 connections) and jobs (2 workers). SIGTERM arrives at "
        + "\(formatDuration(knobs.shutdownAt)); main cancels http only, waits for the connections to drain, "
        + "then cancels the root, which stops the jobs."
    },
    knobs: [.shutdownAt],
    participants: { _ in ["conn-1", "conn-2", "job-1", "job-2"] },
    lesson: "Cancel a subtree to stop one part of the service and leave the rest running; cancel the root "
      + "to stop everything. A token never cancels its parent or its siblings.",
    invariants: Invariant.all(
      .everyParticipantObserved, .nothingAborted, .measured("late child born cancelled", "yes"))
  ) { context in
    let root = CancellationToken()
    let http = root.childToken()
    let jobs = root.childToken()
    context.record("main", .start, "creates root → http, jobs; each connection and job gets a child token")
    let connections = ["conn-1": 300, "conn-2": 450].sorted { $0.key < $1.key }.map { name, pace in
      let token = http.childToken()
      return spawnTask(name: name) {
        await runWorker(name, unit: .milliseconds(pace), token: token, context: context)
      }
    }
    let jobTasks = ["job-1": 700, "job-2": 550].sorted { $0.key < $1.key }.map { name, pace in
      let token = jobs.childToken()
      return spawnTask(name: name) {
        await runWorker(name, unit: .milliseconds(pace), token: token, context: context)
      }
    }

    try await context.sleep(for: context.knobs.shutdownAt)
    context.record("signal", .signal, "SIGTERM")
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
    context.record("main", .exit, "every task has stopped; exit 0")
    return [
      SummaryLine(label: "late child born cancelled", value: late.isCancelled ? "yes" : "no")
    ]
  }

  // MARK: not-propagated

  /// One worker got a brand-new token instead of a child of the root: the cancel never reaches it.
  static let notPropagated = Scenario(
    name: "not-propagated",
    headline: { knobs in
      "Two workers: fixed-worker holds root.childToken(); buggy-worker was given CancellationToken(), a "
        + "new root that nothing cancels. SIGTERM at \(formatDuration(knobs.shutdownAt)) cancels the root; "
        + "main waits \(formatDuration(knobs.grace))."
    },
    knobs: [.shutdownAt, .grace],
    participants: { _ in ["fixed-worker", "buggy-worker"] },
    lesson: "A token only reaches tasks that hold a descendant of it. Derive every task's token from the "
      + "root with childToken(); a fresh CancellationToken() is a new tree that no shutdown will cancel.",
    invariants: Invariant.all(
      .observedExactly { _ in ["fixed-worker"] }, .abortedExactly { _ in ["buggy-worker"] })
  ) { context in
    let root = CancellationToken()
    context.record("main", .start, "creates the root token; starts fixed-worker and buggy-worker")
    let workers = [
      WorkerSpec(name: "fixed-worker", unit: .milliseconds(300), token: root.childToken()),
      WorkerSpec(name: "buggy-worker", unit: .milliseconds(400), token: CancellationToken()),
    ]
    await superviseWithGrace(workers, context: context) {
      root.cancel()
      context.record(
        "main", .notify, "root.cancel(): reaches fixed-worker; buggy-worker's token is not in the tree")
    } escalate: { running in
      "grace period of \(formatDuration(context.knobs.grace)) is over; cancelling the task of "
        + running.joined(separator: ", ")
    }
    context.record("main", .exit, "every worker has stopped; exit 0")
    return []
  }

  // MARK: timeout

  /// A worker is inside one long step that never looks at its token: the grace period runs out, and
  /// main escalates to cancelling its Swift task.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      "Two workers check their tokens between 300ms units; compactor is inside one 5s step that never "
        + "checks. SIGTERM at \(formatDuration(knobs.shutdownAt)) cancels the root; main waits at most "
        + "\(formatDuration(knobs.grace)), then escalates to cancelling the Swift task of whoever is left."
    },
    knobs: [.shutdownAt, .grace],
    participants: { _ in ["worker-1", "worker-2", "compactor"] },
    lesson: "A token cannot interrupt a step that does not check it. Bound the wait with a grace period, "
      + "then escalate: Task.cancel() stops code that honours Swift cancellation (sleeps, I/O), mid-step.",
    invariants: Invariant.all(.allButLastObserved, .abortedExactly { _ in ["compactor"] })
  ) { context in
    let root = CancellationToken()
    context.record(
      "main", .start, "creates the root token; starts 2 workers and the compactor, each with a child")
    let workers = [
      WorkerSpec(name: "worker-1", unit: .milliseconds(300), token: root.childToken()),
      WorkerSpec(name: "worker-2", unit: .milliseconds(300), token: root.childToken()),
      WorkerSpec(name: "compactor", unit: .seconds(5), token: root.childToken(), body: runCompactor),
    ]
    await superviseWithGrace(workers, context: context) {
      root.cancel()
      context.record("main", .notify, "root.cancel(): every child token is now cancelled")
    } escalate: { running in
      "grace period of \(formatDuration(context.knobs.grace)) is over; escalating: Task.cancel() on "
        + running.joined(separator: ", ")
    }
    context.record("main", .exit, "every worker has stopped; exit 0")
    return []
  }

  /// One long step that never checks the token; only Swift task cancellation can cut it short.
  static func runCompactor(
    _ name: String, step: Duration, token: CancellationToken, context: ScenarioContext
  ) async -> WorkerOutcome {
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

  // MARK: drop-guard

  /// The owner of a subtree fails and returns early; its drop guard cancels the subtree, so the
  /// workers it started do not run on without it.
  static let dropGuard = Scenario(
    name: "drop-guard",
    headline: { knobs in
      "A supervisor owns the jobs subtree through jobs.dropGuard() and starts \(knobs.workers) worker(s) "
        + "with child tokens. At \(formatDuration(knobs.shutdownAt)) it fails and returns early; its guard goes, "
        + "and the guard cancels the subtree. Nobody calls cancel() by hand."
    },
    knobs: [.workers, .shutdownAt],
    participants: { knobs in workerNames(knobs.workers) },
    lesson: "Tie a subtree's token to its owner's lifetime with dropGuard(): however the owner exits, "
      + "early return or thrown error, its workers are told to stop. disarm() it on the path where they should live on.",
    invariants: Invariant.all(.everyParticipantObserved, .nothingAborted, .measured("root cancelled", "no"))
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    let jobs = root.childToken()
    context.record("main", .start, "creates root → jobs and starts the supervisor")
    let workers = TaskBox()
    let supervisor = spawnTask(name: "supervisor") {
      let dropGuard = jobs.dropGuard()
      context.record("supervisor", .start, "holds jobs.dropGuard(); starts \(knobs.workers) worker(s)")
      for (index, name) in workerNames(knobs.workers).enumerated() {
        let token = jobs.childToken()
        workers.append(
          spawnTask(name: name) {
            await runWorker(name, unit: unitOfWork(forWorker: index), token: token, context: context)
          })
      }
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("supervisor", .error, "its config reload fails; returns early, dropping its guard")
      _ = consume dropGuard  // the guard's deinit cancels `jobs`
      context.record("supervisor", .exit, "gone; jobs.isCancelled = \(jobs.isCancelled)")
    }
    await supervisor.value
    for worker in workers.tasks { _ = await worker.value }
    context.record(
      "main", .exit, "every worker has stopped; root.isCancelled = \(root.isCancelled) (only the subtree was)"
    )
    return [SummaryLine(label: "root cancelled", value: root.isCancelled ? "yes" : "no")]
  }
}

/// Collects task handles created inside another task (single-threaded in a simulation; locked for
/// the type system).
final class TaskBox: Sendable {
  private let storage = Mutex<[Task<TokenScenarios.WorkerOutcome, Never>]>([])
  func append(_ task: Task<TokenScenarios.WorkerOutcome, Never>) { storage.withLock { $0.append(task) } }
  var tasks: [Task<TokenScenarios.WorkerOutcome, Never>] { storage.withLock { $0 } }
}
