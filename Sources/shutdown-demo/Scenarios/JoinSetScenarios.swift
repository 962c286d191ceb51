import Patterns

/// `shutdown-demo joinset` (alias `task-group`): wait for every task, and abort the ones that will
/// not finish in time.
enum JoinSetScenarios {
  static let catalog = PatternCatalog(
    pattern: "joinset", scenarios: [basic, timeout, failure, forgotToAwait, tracker, taskGroup])

  // MARK: basic

  /// Workers in a join set; SIGTERM cancels their tokens; main joins them as they finish.
  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      "Main spawns \(knobs.workers) workers into a JoinSet, each with a child token. SIGTERM arrives at "
        + "\(formatDuration(knobs.shutdownAt)); main cancels the root and calls joinNext() until it returns nil: "
        + "results arrive in the order the workers finish, not the order they were spawned."
    },
    knobs: [.workers, .shutdownAt],
    participants: { knobs in TokenScenarios.workerNames(knobs.workers) },
    lesson: "A join set hands results back in completion order; carry an id in the result if you need to "
      + "know whose it is. joinNext() returning nil means every task has been joined.",
    invariants: Invariant.all(.everyParticipantObserved, .nothingAborted, .joinedEveryParticipantOnce)
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    let set = JoinSet<String>()
    context.record("main", .start, "spawns \(knobs.workers) workers into a JoinSet, each with a child token")
    for (index, name) in TokenScenarios.workerNames(knobs.workers).enumerated() {
      let token = root.childToken()
      // The first spawned is the slowest, so completion order is not spawn order.
      let unit = TokenScenarios.unitOfWork(forWorker: knobs.workers - 1 - index)
      set.spawn(name: name) { try await runJoinWorker(name, unit: unit, token: token, context: context) }
    }
    try await context.sleep(for: knobs.shutdownAt)
    context.record("signal", .signal, "SIGTERM")
    root.cancel()
    context.record("main", .notify, "root.cancel(); now joinNext() until nil")
    var order: [String] = []
    while let outcome = await set.joinNext() {
      context.record("main", .receive, "joinNext() → \(describe(outcome))")
      if case .success(let value) = outcome { order.append(String(value.prefix { $0 != ":" })) }
    }
    context.record("main", .exit, "joinNext() returned nil: the set is empty; exit 0")
    return [SummaryLine(label: "joined in order", value: order.joined(separator: ", "))]
  }

  // MARK: timeout

  /// One worker's clean-up is slower than the grace period: at the deadline the set is aborted, and
  /// the straggler is joined as `JoinError.cancelled`.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      "\(knobs.workers) workers in a JoinSet; the last one needs 3s to flush its buffer when it stops. SIGTERM "
        + "at \(formatDuration(knobs.shutdownAt)); main joins for at most \(formatDuration(knobs.grace)), "
        + "then abortAll() and keeps joining: each straggler comes back as JoinError.cancelled."
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in TokenScenarios.workerNames(knobs.workers) },
    lesson: "shutdown with a deadline is abortAll() at the deadline, then join until nil: the set tells "
      + "you exactly which tasks finished and which were cut off.",
    invariants: Invariant.all(
      .everyParticipantObserved, .lastParticipantAborted, .measured("joined as JoinError.cancelled", "1"))
  ) { context in
    let knobs = context.knobs
    let root = CancellationToken()
    let set = JoinSet<String>()
    let names = TokenScenarios.workerNames(knobs.workers)
    context.record("main", .start, "spawns \(knobs.workers) workers into a JoinSet, each with a child token")
    for (index, name) in names.enumerated() {
      let token = root.childToken()
      let cleanup: Duration = index == names.count - 1 ? .seconds(3) : .milliseconds(100)
      set.spawn(name: name) {
        try await runJoinWorker(
          name, unit: TokenScenarios.unitOfWork(forWorker: index), cleanup: cleanup, token: token,
          context: context)
      }
    }
    try await context.sleep(for: knobs.shutdownAt)
    context.record("signal", .signal, "SIGTERM")
    root.cancel()
    context.record("main", .notify, "root.cancel(); joins for at most \(formatDuration(knobs.grace))")
    let timer = startDeadline(after: knobs.grace, context: context) {
      let left = set.count
      guard left > 0 else { return }
      context.record(
        "main", .deadline, "grace period is over; abortAll() on \(left) task(s) still in the set")
      set.abortAll()
    }
    var cancelled = 0
    while let outcome = await set.joinNext() {
      context.record("main", .receive, "joinNext() → \(describe(outcome))")
      if case .failure(.cancelled) = outcome { cancelled += 1 }
    }
    timer.cancel()
    context.record("main", .exit, "the set is empty; exit 0")
    return [SummaryLine(label: "joined as JoinError.cancelled", value: "\(cancelled)")]
  }

  // MARK: failure

  /// One task throws. With a joinNext() loop the others go on; with joinAll() they are aborted.
  static let failure = Scenario(
    name: "failure",
    headline: { _ in
      "Two rounds of three tasks; the second task of each throws \"disk full\" at 500ms. Round 1 joins with "
        + "a joinNext() loop: the error is one result among others. Round 2 uses joinAll(): it throws at the "
        + "first error and aborts the rest."
    },
    knobs: [],
    participants: { _ in [] },
    lesson: "joinNext() hands you each failure and lets the rest go on; joinAll() is all-or-nothing. After "
      + "joinAll() throws, the aborted tasks are still in the set: await shutdown() to see them stop.",
    invariants: Invariant.all(
      .abortedExactly { _ in ["all-1", "all-3"] },
      .measured("joinNext loop", "2 value(s), 1 error(s), nobody aborted"),
      .measured("joinAll", "threw the first error, aborted 2 task(s)"))
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
      context.record("main", .receive, "joinAll() → \(values.count) value(s)")
    } catch {
      aborted = allSet.count
      context.record(
        "main", .error,
        "joinAll() threw \(describe(error)); it aborted the other \(aborted) task(s), still in the set")
      await allSet.shutdown()
      context.record("main", .note, "shutdown(): they have stopped; the set is empty")
    }
    context.record("main", .exit, "exit 0")
    return [
      SummaryLine(label: "joinNext loop", value: "\(values) value(s), \(errors) error(s), nobody aborted"),
      SummaryLine(label: "joinAll", value: "threw the first error, aborted \(aborted) task(s)"),
    ]
  }

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
          context.record(name, .abort, "aborted after \(done) of \(units) unit(s)")
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
      context.record(name, .abort, "aborted after \(units) unit(s), \(phase)")
      throw error
    }
    context.record(name, .exit, "exits after \(units) unit(s)")
    return "\(name): \(units) unit(s)"
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
