import Patterns

/// The join-set scenarios about lifetimes: work nobody waits for, a tracker, and Swift's task group.
extension JoinSetStories {
  // MARK: forgot-to-await

  /// Saves go into a join set and are joined; uploads are plain unstructured tasks nobody awaits.
  static let forgotToAwait = Scenario(
    name: "forgot-to-await",
    headline: { knobs in
      """
      Main starts \(counted(knobs.workers, "save")) in a JoinSet and \(counted(knobs.workers, "upload")) as \
      unstructured tasks (Task {}), joins the set, and returns. Whatever upload has not finished by then \
      is lost with the process.
      """
    },
    knobs: [.workers],
    participants: { _ in [] },
    lesson: """
      An unstructured task nobody awaits is fire-and-forget: when main returns, the process exits and \
      takes it along. Put work you care about in a join set (or a task group, or a tracker) and wait for it.
      """,
    invariants: [
      .nothingAborted, .measured(savesFinished) { .fraction($0.knobs.workers, of: $0.knobs.workers) },
    ]
  ) { context in
    let knobs = context.knobs
    let set = JoinSet<String>()
    let uploadsDone = Collected<String>()
    context.record(
      "main", .start,
      "starts \(counted(knobs.workers, "save")) in a JoinSet and \(counted(knobs.workers, "upload")) with Task {}"
    )
    for index in 0..<knobs.workers {
      let save = "save-\(index + 1)"
      let saveTime = Crew.pace(ofWorker: index)
      set.spawn(name: save) {
        context.record(save, .start, "starts saving (\(formatDuration(saveTime)))")
        try await context.sleep(for: saveTime)
        context.record(save, .exit, "saved")
        return save
      }
      let upload = "upload-\(index + 1)"
      let uploadTime = Duration.milliseconds(500 + 400 * index)
      spawnTask(name: upload) {
        context.record(
          upload, .start, "starts uploading (\(formatDuration(uploadTime))); nobody awaits this task")
        try await context.sleep(for: uploadTime)
        context.record(upload, .exit, "uploaded")
        uploadsDone.append(upload)
      }
    }
    var saved = 0
    while let outcome = await set.joinNext() {
      if case .success = outcome { saved += 1 }
    }
    context.mainExits("joined \(counted(saved, "save")); returns without awaiting the uploads")
    return [
      SummaryLine(savesFinished, .fraction(saved, of: knobs.workers), note: "(joined)"),
      SummaryLine(
        "uploads finished", .fraction(uploadsDone.values.count, of: knobs.workers), note: "(never awaited)"),
    ]
  }

  static let savesFinished = "saves finished"

  // MARK: tracker

  /// Connections run under a TaskTracker; at SIGTERM main closes it and waits. A connection that
  /// arrives after close is tracked too; a tracker dropped with work in it aborts nothing.
  static let tracker = Scenario(
    name: "tracker",
    headline: { knobs in
      """
      \(counted(knobs.workers, "connection")) \(knobs.workers == 1 ? "runs" : "run") under a TaskTracker\(eachWith(knobs.workers)) a child token. SIGTERM at \
      \(formatDuration(knobs.shutdownAt)): main cancels the root, close()s the tracker and wait()s; a \
      connection that arrives after close() is tracked too. A second tracker is dropped with its task \
      running.
      """
    },
    knobs: [.workers, .shutdownAt],
    participants: { knobs in Crew.names(knobs.workers, prefix: "conn") + ["conn-late"] },
    lesson: """
      A TaskTracker only counts: close() then wait() returns once every tracked task, even one spawned \
      after close(), has ended. It keeps no results and aborts nothing, not even in its deinit.
      """,
    invariants: [.everyParticipantObserved, .everyTaskEnded, .nothingAborted]
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    let tracker = TaskTracker()
    context.record("main", .start, "creates a TaskTracker, and a scratch tracker for a cache warmer")
    do {
      let scratch = TaskTracker()
      scratch.spawn(name: "cache-warmer") {
        context.record("cache-warmer", .start, "starts warming the cache (800ms), under a scratch tracker")
        try await context.sleep(for: .milliseconds(800))
        context.record("cache-warmer", .exit, "finished: dropping its tracker did not abort it")
      }
      context.record(
        "main", .note,
        "drops the scratch tracker (count \(scratch.count)); its task runs on, where a JoinSet's deinit would abort it"
      )
    }
    context.record("main", .note, "spawns \(counted(knobs.workers, "connection")) through the tracker")
    for index in 0..<knobs.workers {
      let name = "conn-\(index + 1)"
      let token = root.childToken()
      tracker.spawn(name: name) {
        await Crew.work(
          name, unit: Crew.pace(ofWorker: index), noun: "unit", context: context, look: Crew.tokenLook(token))
      }
    }
    await context.waitForShutdownSignal()
    root.cancel()
    let closed = tracker.close()
    context.record(
      "main", .notify,
      "root.cancel(); tracker.close() → \(closed); \(counted(tracker.count, "task")) still tracked")
    try await context.sleep(for: .milliseconds(100))
    let late = root.childToken()
    tracker.spawn(name: "conn-late") {
      await Crew.work(
        "conn-late", unit: .milliseconds(300), noun: "unit", context: context, look: Crew.tokenLook(late))
    }
    context.record(
      "main", .note, "a connection arrives after close(): spawned and tracked anyway (count \(tracker.count))"
    )
    context.record("main", .wait, "tracker.wait(): returns when closed and empty")
    await tracker.wait()
    context.mainExits("wait() returned: closed and empty (count \(tracker.count))")
    return [SummaryLine("results kept by the tracker", .names([]), note: "(it only counts)")]
  }

  // MARK: task-group

  /// The same shutdown twice, side by side: inside withThrowingTaskGroup, and with a JoinSet. In each,
  /// one child ignores cancellation for 5s.
  static let taskGroup = Scenario(
    name: "task-group",
    headline: { knobs in
      """
      Two owners, each with a worker and a stubborn child that ignores cancellation for 5s: group uses \
      withThrowingTaskGroup, set uses a JoinSet. SIGTERM at \(formatDuration(knobs.shutdownAt)): both \
      cancel their children and wait at most \(formatDuration(knobs.grace)).
      """
    },
    knobs: [.shutdownAt, .grace],
    participants: { _ in ["group-worker", "group-stubborn", "set-worker", "set-stubborn"] },
    lesson: """
      A task group's scope cannot end before every child has, so one child that ignores cancellation \
      holds the whole shutdown. A join set can be given up on at the deadline (abortAll, then detachAll): \
      the owner moves on, and the process exit ends the straggler.
      """,
    invariants: [.nothingAborted],
    outcome: [.observedExactly { _ in ["group-worker", "set-worker"] }]
  ) { context in
    let knobs = context.knobs
    let sigterm = CancellationToken()
    context.record("main", .start, "starts two owners: group (a task group) and set (a JoinSet)")
    let groupSide = spawnTask(name: "group") { () async -> Duration in
      await runGroupSide(sigterm: sigterm, context: context)
      return elapsed(context)
    }
    let setSide = spawnTask(name: "set") { () async -> Duration in
      await runSetSide(sigterm: sigterm, context: context)
      return elapsed(context)
    }
    await context.waitForShutdownSignal()
    sigterm.cancel()
    let groupDone = await groupSide.value
    let setDone = await setSide.value
    context.mainExits("both owners are done")
    return [
      SummaryLine("group's scope ended at", .instant(groupDone)),
      SummaryLine("set's owner moved on at", .instant(setDone)),
    ]
  }

  static func elapsed(_ context: ScenarioContext) -> Duration { context.timeline.now }

  enum SideEvent: Sendable {
    case stopped(String)
  }

  /// withThrowingTaskGroup: cancelAll() at SIGTERM, then the scope waits for every child.
  static func runGroupSide(sigterm: CancellationToken, context: ScenarioContext) async {
    let running = Collected<String>()
    for name in ["group-worker", "group-stubborn"] { running.append(name) }
    try? await withThrowingTaskGroup(of: SideEvent.self) { group in
      group.addTask(name: "group-worker") { await cooperativeWorker("group-worker", context: context) }
      group.addTask(name: "group-stubborn") { await stubbornWorker("group-stubborn", context: context) }
      await sigterm.cancelled()
      group.cancelAll()
      context.record("group", .notify, "group.cancelAll(): every child task is cancelled")
      let deadline = startDeadline(after: context.knobs.grace, context: context) {
        let left = running.values
        guard !left.isEmpty else { return }
        context.record(
          "group", .deadline,
          "grace period is over, but the group's scope cannot end before its children: still waits for "
            + left.joined(separator: ", "))
      }
      while let event = try await group.next() {
        if case .stopped(let name) = event { running.remove { $0 == name } }
      }
      deadline.cancel()
    }
    context.record("group", .exit, "withThrowingTaskGroup returned: every child has ended")
  }

  /// JoinSet: abortAll() at SIGTERM; at the deadline, give up on whoever is left.
  static func runSetSide(sigterm: CancellationToken, context: ScenarioContext) async {
    let set = JoinSet<String>()
    set.spawn(name: "set-worker") {
      _ = await cooperativeWorker("set-worker", context: context)
      return "set-worker"
    }
    set.spawn(name: "set-stubborn") {
      _ = await stubbornWorker("set-stubborn", context: context)
      return "set-stubborn"
    }
    await sigterm.cancelled()
    set.abortAll()
    context.record("set", .notify, "set.abortAll(): every task in the set is cancelled")
    let deadline = startDeadline(after: context.knobs.grace, context: context) {
      guard !set.isEmpty else { return }
      context.record(
        "set", .deadline,
        "grace period is over; \(counted(set.count, "task")) still running despite the abort: detachAll() and move on"
      )
      set.detachAll()
    }
    while let outcome = await set.joinNext() {
      context.record("set", .receive, "joinNext() → \(describe(outcome))")
    }
    deadline.cancel()
    context.record("set", .exit, "done waiting; the set is empty")
  }

  /// Works in 300ms units; Swift task cancellation interrupts the unit in hand.
  static func cooperativeWorker(_ name: String, context: ScenarioContext) async -> SideEvent {
    context.record(name, .start, "starts; each unit of work takes 300ms")
    do {
      while true { try await context.sleep(for: .milliseconds(300)) }
    } catch {
      context.record(name, .observe, "its task is cancelled mid-unit; stops")
    }
    return .stopped(name)
  }

  /// One 5s step that ignores cancellation (it waits on work it started elsewhere).
  static func stubbornWorker(_ name: String, context: ScenarioContext) async -> SideEvent {
    context.record(name, .start, "starts a 5s step that ignores cancellation")
    await nonCancellableSleep(.seconds(5), context: context, name: name)
    context.record(
      name, .exit, "finishes its step" + (Task.isCancelled ? " (its task was cancelled long ago)" : ""))
    return .stopped(name)
  }

  /// Sleeps in an unstructured task and waits for it: the caller's cancellation does not reach it.
  static func nonCancellableSleep(_ duration: Duration, context: ScenarioContext, name: String? = nil) async {
    await spawnTask(name: name) { try? await context.sleep(for: duration) }.value
  }
}
