import Patterns

/// `shutdown-demo joinset` (alias `task-group`): wait for every task, and abort the ones that will
/// not finish in time.
enum JoinSetStories {
  static let catalog = StoryCatalog(
    command: "joinset", aliases: ["task-group"],
    abstract: "Join set and task tracker: wait for every task; abort stragglers at a deadline.",
    discussion: """
      Workers run in a JoinSet (tokio's JoinSet) or under a TaskTracker (tokio-util's TaskTracker); at \
      SIGTERM main waits for them, and aborts whoever is left when the grace period ends. The \
      task-group scenario shows the same with Swift's withThrowingTaskGroup.
      """,
    scenarios: [basic, timeout, failure, forgotToAwait, tracker, taskGroup])

  // MARK: basic

  /// Workers in a join set; SIGTERM cancels their tokens; main joins them as they finish.
  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      """
      Main spawns \(counted(knobs.workers, "worker")) into a JoinSet\(eachWith(knobs.workers)) a child token. SIGTERM \
      arrives at \(formatDuration(knobs.shutdownAt)); main cancels the root and calls joinNext() until it \
      returns nil: results arrive in the order the workers finish, not the order they were spawned.
      """
    },
    knobs: [.workers, .shutdownAt],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      A join set hands results back in completion order; carry an id in the result if you need to know \
      whose it is. joinNext() returning nil means every task has been joined.
      """,
    invariants: [.everyParticipantObserved, .everyTaskEnded, .namesEveryParticipantOnce(joinedInOrder)],
    outcome: [.nothingAborted]
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    let set = JoinSet<String>()
    context.record(
      "main", .start,
      "spawns \(counted(knobs.workers, "worker")) into a JoinSet\(eachWith(knobs.workers)) a child token")
    for (index, name) in Crew.names(knobs.workers).enumerated() {
      let token = root.childToken()
      // The first spawned is the slowest, so completion order is not spawn order.
      let unit = Crew.pace(ofWorker: knobs.workers - 1 - index)
      set.spawn(name: name) { try await runJoinWorker(name, unit: unit, token: token, context: context) }
    }
    await context.waitForShutdownSignal()
    root.cancel()
    context.record("main", .notify, "root.cancel(); now joinNext() until nil")
    var order: [String] = []
    while let outcome = await set.joinNext() {
      context.record("main", .receive, "joinNext() → \(describe(outcome))")
      if case .success(let value) = outcome { order.append(String(value.prefix { $0 != ":" })) }
    }
    context.mainExits("joinNext() returned nil: the set is empty")
    return [SummaryLine(joinedInOrder, .names(order))]
  }

  static let joinedInOrder = "joined in order"

  // MARK: timeout

  /// One worker's clean-up is slower than the grace period: at the deadline the set is aborted, and
  /// the straggler is joined as `JoinError.cancelled`.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      """
      \(counted(knobs.workers, "worker")) in a JoinSet; the last one needs 3s to flush its buffer when it \
      stops. SIGTERM at \(formatDuration(knobs.shutdownAt)); main joins for at most \
      \(formatDuration(knobs.grace)), then abortAll() and keeps joining: each straggler comes back as \
      JoinError.cancelled.
      """
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      shutdown with a deadline is abortAll() at the deadline, then join until nil: the set tells you \
      exactly which tasks finished and which were cut off.
      """,
    invariants: [
      .everyParticipantObserved, .everyTaskEnded,
      .measured(joinedCancelled) { .count($0.summary.aborted.count) },
    ],
    outcome: [.lastParticipantAborted]
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    let set = JoinSet<String>()
    let names = Crew.names(knobs.workers)
    context.record(
      "main", .start,
      "spawns \(counted(knobs.workers, "worker")) into a JoinSet\(eachWith(knobs.workers)) a child token")
    for (index, name) in names.enumerated() {
      let token = root.childToken()
      let cleanup: Duration = index == names.count - 1 ? .seconds(3) : .milliseconds(100)
      set.spawn(name: name) {
        try await runJoinWorker(
          name, unit: Crew.pace(ofWorker: index), cleanup: cleanup, token: token,
          context: context)
      }
    }
    await context.waitForShutdownSignal()
    root.cancel()
    context.record("main", .notify, "root.cancel(); joins for at most \(formatDuration(knobs.grace))")
    let timer = startDeadline(after: knobs.grace, context: context) {
      let left = set.count
      guard left > 0 else { return }
      context.record(
        "main", .deadline, "grace period is over; abortAll() on \(counted(left, "task")) still in the set")
      set.abortAll()
    }
    var cancelled = 0
    while let outcome = await set.joinNext() {
      context.record("main", .receive, "joinNext() → \(describe(outcome))")
      if case .failure(.cancelled) = outcome { cancelled += 1 }
    }
    timer.cancel()
    context.mainExits("the set is empty")
    return [SummaryLine(joinedCancelled, .count(cancelled))]
  }

  static let joinedCancelled = "joined as JoinError.cancelled"

  // MARK: failure

  /// One task throws. With a joinNext() loop the others go on; with joinAll() they are aborted.
  static let failure = Scenario(
    name: "failure",
    headline: { _ in
      """
      Two rounds of three tasks; the second task of each throws "disk full" at 500ms. Round 1 joins with \
      a joinNext() loop: the error is one result among others. Round 2 uses joinAll(): it throws at the \
      first error and aborts the rest.
      """
    },
    knobs: [],
    participants: { _ in [] },
    lesson: """
      joinNext() hands you each failure and lets the rest go on; joinAll() is all-or-nothing. After \
      joinAll() throws, the aborted tasks are still in the set: await shutdown() to see them stop.
      """,
    invariants: [
      .everyTaskEnded, .abortedExactly { _ in ["all-1", "all-3"] },
      .measured(loopResults, .tally([.init(2, "values"), .init(1, "errors"), .init(0, "aborted")], of: nil)),
      .measured(joinAllAborted, .count(2)),
    ]
  ) { context in
    context.record("main", .start, "round 1: spawns next-1, next-2, next-3; joins with joinNext()")
    let loopSet = JoinSet<String>()
    spawnFailureRound(into: loopSet, prefix: "next", context: context)
    var errors = 0
    var values = 0
    while let outcome = await loopSet.joinNext() {
      context.record("main", .receive, "joinNext() → \(describe(outcome))")
      if case .success = outcome { values += 1 } else { errors += 1 }
    }
    context.record(
      "main", .note, "round 1 done: \(values) value(s), \(errors) error(s); the error stopped nobody")

    context.record("main", .start, "round 2: spawns all-1, all-2, all-3; joins with joinAll()")
    let allSet = JoinSet<String>()
    spawnFailureRound(into: allSet, prefix: "all", context: context)
    var aborted = 0
    do throws(JoinError) {
      let values = try await allSet.joinAll()
      context.record("main", .receive, "joinAll() → \(counted(values.count, "value"))")
    } catch {
      aborted = allSet.count
      context.record(
        "main", .error,
        "joinAll() threw \(describe(error)); it aborted the other \(counted(aborted, "task")), still in the set"
      )
      await allSet.shutdown()
      context.record("main", .note, "shutdown(): they have stopped; the set is empty")
    }
    // A task failed: the process reports it, even though main handled every result.
    context.mainExits("both rounds are joined", failedStep: true)
    return [
      SummaryLine(
        loopResults, .tally([.init(values, "values"), .init(errors, "errors"), .init(0, "aborted")], of: nil)),
      SummaryLine(joinAllAborted, .count(aborted), note: "(joinAll threw the first error and aborted them)"),
    ]
  }

  static let loopResults = "joinNext loop"
  static let joinAllAborted = "aborted by joinAll"

  struct DiskFull: Error, CustomStringConvertible {
    var description: String { "disk full" }
  }

  /// Three tasks: `<prefix>-2` throws at 500ms; the others work 3 and 4 units.
  static func spawnFailureRound(into set: JoinSet<String>, prefix: String, context: ScenarioContext) {
    for (index, units) in [3, 0, 4].enumerated() {
      let name = "\(prefix)-\(index + 1)"
      set.spawn(name: name) {
        context.record(name, .start, units == 0 ? "starts writing a file" : "starts \(units) units of 300ms")
        var done = 0
        do {
          if units == 0 {
            try await context.sleep(for: .milliseconds(500))
            context.record(name, .error, "throws DiskFull")
            throw DiskFull()
          }
          while done < units {
            try await context.sleep(for: .milliseconds(300))
            done += 1
          }
        } catch is CancellationError {
          context.record(name, .abort, "aborted after \(done) of \(counted(units, "unit"))")
          throw CancellationError()
        }
        context.record(name, .exit, "finished \(units) units")
        return "\(name): \(units) units"
      }
    }
  }

  // MARK: helpers

  /// Works in units until its token is cancelled, then cleans up. An abort (Swift task cancellation)
  /// cuts it off wherever it is.
  static func runJoinWorker(
    _ name: String, unit: Duration, cleanup: Duration = .milliseconds(100), token: CancellationToken,
    context: ScenarioContext
  ) async throws -> String {
    context.record(name, .start, "starts; each unit of work takes \(formatDuration(unit))")
    var units = 0
    var cleaningUp = false
    do {
      while !token.isCancelled {
        try await context.sleep(for: unit)
        units += 1
        context.record(name, .work, "finished unit \(units)")
      }
      context.record(
        name, .observe,
        "sees its token cancelled; cleans up"
          + (cleanup > .milliseconds(100) ? " (\(formatDuration(cleanup)))" : ""))
      cleaningUp = true
      try await context.sleep(for: cleanup)
    } catch {
      let phase = cleaningUp ? "in the middle of its clean-up" : "in the middle of unit \(units + 1)"
      context.record(name, .abort, "aborted after \(counted(units, "unit")), \(phase)")
      throw error
    }
    context.record(name, .exit, "exits after \(counted(units, "unit"))")
    return "\(name): \(counted(units, "unit"))"
  }

  /// Runs `action` after `delay` in its own task, unless that task is cancelled first.
  static func startDeadline(
    after delay: Duration, context: ScenarioContext, _ action: @escaping @Sendable () -> Void
  ) -> Task<Void, Never> {
    spawnTask(name: "deadline") {
      do {
        try await context.sleep(for: delay)
        action()
      } catch {}
    }
  }

  /// A join result in the words of the API.
  static func describe(_ outcome: Result<String, JoinError>) -> String {
    switch outcome {
    case .success(let value): ".success(\"\(value)\")"
    case .failure(let error): ".failure(\(describe(error)))"
    }
  }

  static func describe(_ error: JoinError) -> String {
    switch error {
    case .cancelled: "JoinError.cancelled"
    case .failed(let error): "JoinError.failed(\(error))"
    }
  }
}
