import Patterns

/// Pitfalls of task lifetimes: work nobody waits for, a task cancellation does not reach, and a
/// token nobody cancels.
enum LifetimePitfalls {
  // MARK: unawaited-task

  static let shards = ["flush-1", "flush-2", "flush-3"]

  static let unawaitedTask = Pitfall(
    name: "unawaited-task",
    goesWrong: "spawned work is never awaited, so main returns and the process exits first",
    headline: """
      At SIGTERM (1s) main flushes 3 shards of a write buffer to disk, 200ms each, in tasks of their \
      own, then returns from main.
      """,
    metric: "shards flushed",
    wrong: PitfallSide(
      [
        "for shard in shards {",
        "  Task { await flush(shard) }          // nobody keeps the handle",
        "}",
        "return                                 // main returns: exit(0)",
      ]
    ) { context in
      await context.waitForShutdownSignal()
      for shard in shards {
        spawnTask(name: shard) { await flush(shard, context: context) }
      }
      context.record("main", .exit, "started 3 flushes; returns from main, and the process exits 0")
      return []
    },
    right: PitfallSide(
      [
        "for shard in shards {",
        "  tracker.spawn { await flush(shard) }",
        "}",
        "tracker.close(); await tracker.wait()  // then return",
      ]
    ) { context in
      await context.waitForShutdownSignal()
      let tracker = TaskTracker()
      for shard in shards {
        tracker.spawn(name: shard) { await flush(shard, context: context) }
      }
      tracker.close()
      context.record("main", .wait, "started 3 flushes; waits for the tracker")
      await tracker.wait()
      context.record("main", .exit, "every shard is on disk; returns from main, exit 0")
      return []
    },
    why: """
      When an async main returns, the process calls exit(0) at once: unstructured tasks still running \
      are not waited for, and their work is lost without an error. Keep every task you start in \
      something you await (a task group, a TaskTracker, its handle's value) before main returns.
      """,
    measure: { report in .fraction(PitfallSupport.count(.cleanup, in: report, detail: "flushed"), of: 3) },
    failure: { report in
      let done = PitfallSupport.count(.cleanup, in: report, detail: "flushed")
      guard done < 3 else { return nil }
      return "\(3 - done) of 3 shards lost: \(listed(report.leftovers)) still running when main returned"
    })

  static func flush(_ shard: String, context: ScenarioContext) async {
    context.record(shard, .start, "writes its shard (200ms)")
    guard (try? await context.sleep(for: .milliseconds(200))) != nil else { return }
    context.record(shard, .cleanup, "flushed")
  }

  // MARK: task-not-inherited

  static let taskNotInherited = Pitfall(
    name: "task-not-inherited",
    goesWrong: "a Task {} inside a worker is not cancelled with it, so the worker cannot stop",
    headline: """
      A worker in a task group uploads a 5-chunk file (1s a chunk). SIGTERM arrives at 1.5s and main \
      cancels the group.
      """,
    metric: "worker stopped after the cancel",
    wrong: PitfallSide(
      [
        "group.addTask {",
        "  let upload = Task { try await send(file) }   // a new root: not a child",
        "  try await upload.value              // cancelling the worker does not reach it",
        "}",
      ], participants: ["worker"], script: [.init(at: .milliseconds(1500), .terminate)]
    ) { context in
      await runWorker(context, unstructured: true)
    },
    right: PitfallSide(
      [
        "group.addTask {",
        "  try await send(file)                // structured: cancelled with the worker",
        "}",
      ], participants: ["worker"], script: [.init(at: .milliseconds(1500), .terminate)]
    ) { context in
      await runWorker(context, unstructured: false)
    },
    why: """
      Cancellation flows down the task tree, and Task {} starts a new tree: it inherits priority and \
      task-locals, not cancellation. Awaiting its value does not forward a cancel either. Call the work \
      directly, use a child task (async let, a task group), or forward the cancel with \
      withTaskCancellationHandler { … } onCancel: { upload.cancel() }.
      """,
    measure: { report in .duration(stoppedAfter(report) ?? .zero) },
    failure: { report in
      guard let after = stoppedAfter(report), after > .zero else { return nil }
      return "the worker ran \(formatDuration(after)) past its cancellation"
    })

  static func stoppedAfter(_ report: ScenarioReport) -> Duration? {
    guard let cancel = report.events.first(where: { $0.kind == .notify })?.time,
      let stop = PitfallSupport.last(.exit, of: "worker", in: report)
    else { return nil }
    return stop - cancel
  }

  static func runWorker(_ context: ScenarioContext, unstructured: Bool) async -> [SummaryLine] {
    await withTaskGroup(of: Void.self) { group in
      group.addTask(name: "worker") {
        context.record("worker", .start, unstructured ? "starts the upload in a Task {}" : "uploads the file")
        if unstructured {
          let upload = spawnTask(name: "upload") { try await send(context) }
          _ = try? await upload.value
        } else {
          _ = try? await send(context)
        }
        context.record("worker", .exit, "returns")
      }
      await context.waitForShutdownSignal()
      context.record("main", .notify, "cancels the task group")
      group.cancelAll()
    }
    context.record("main", .exit, "the group has ended; exits 0")
    return []
  }

  static func send(_ context: ScenarioContext) async throws {
    for chunk in 1...5 {
      do {
        try await context.sleep(for: .seconds(1))
      } catch {
        context.record("upload", .observe, "cancelled before chunk \(chunk); stops")
        throw error
      }
      context.record("upload", .work, "sent chunk \(chunk) of 5")
    }
  }

  // MARK: token-not-passed

  static let tokenNotPassed = Pitfall(
    name: "token-not-passed",
    goesWrong: "a task gets a fresh token instead of a child, so nobody can tell it to stop",
    headline: """
      Two HTTP workers and an audit writer run in a JoinSet. SIGTERM at 1s: main cancels the root token \
      and joins for at most 2s, then aborts whatever is left.
      """,
    metric: "aborted at the deadline",
    wrong: PitfallSide(
      [
        "let audit = CancellationToken()        // a new root: nobody cancels it",
        "set.spawn { await auditLoop(until: audit) }",
      ], participants: ["http-1", "http-2", "audit"]
    ) { context in
      await runJoinSet(context, auditGetsChild: false)
    },
    right: PitfallSide(
      [
        "let audit = root.childToken()          // cancelled with its parent",
        "set.spawn { await auditLoop(until: audit) }",
      ], participants: ["http-1", "http-2", "audit"]
    ) { context in
      await runJoinSet(context, auditGetsChild: true)
    },
    why: """
      Cancellation reaches only what is linked to it. A token made with CancellationToken() (Tokio's \
      CancellationToken::new(), Go's context.Background()) is a new root: the task holding it never \
      hears the shutdown and is cut off at the deadline, mid-write. Pass a child of the root down to \
      every task.
      """,
    measure: { report in .names(report.summary.aborted) },
    failure: { report in
      report.summary.aborted.isEmpty
        ? nil : "\(listed(report.summary.aborted)) aborted mid-write at the deadline"
    })

  static func runJoinSet(_ context: ScenarioContext, auditGetsChild: Bool) async -> [SummaryLine] {
    let root = CancellationToken()
    let set = JoinSet<Void>()
    let workers: [(String, Duration)] = [
      ("http-1", .milliseconds(300)), ("http-2", .milliseconds(450)), ("audit", .milliseconds(800)),
    ]
    context.record("main", .start, "spawns 2 HTTP workers and the audit writer into a JoinSet")
    for (name, unit) in workers {
      let token = name == "audit" && !auditGetsChild ? CancellationToken() : root.childToken()
      set.spawn(name: name) { await PitfallSupport.work(name, unit: unit, until: token, context: context) }
    }
    await context.waitForShutdownSignal()
    root.cancel()
    context.record("main", .notify, "root.cancel(); joins for at most 2s")
    let deadline = spawnTask(name: "grace timer") {
      guard (try? await context.sleep(for: .seconds(2))) != nil else { return }
      context.record("main", .deadline, "grace period over; abortAll() on \(counted(set.count, "task"))")
      set.abortAll()
    }
    while await set.joinNext() != nil {}
    deadline.cancel()
    context.record("main", .exit, "the set is empty")
    return []
  }
}
