import Patterns
import Synchronization

/// `shutdown-demo watch`: one current value, observed; a slow observer skips to the newest.
enum WatchScenarios {
  static let catalog = PatternCatalog(
    pattern: "watch", scenarios: [basic, slowConsumer, timeout, lateSubscriber, busyLoop])

  /// The service's state, as the stories publish it.
  enum ServiceState: Sendable, Equatable, CustomStringConvertible {
    case running(config: Int)
    case stopping

    var description: String {
      switch self {
      case .running(let config): "running (config v\(config))"
      case .stopping: "stopping"
      }
    }
  }

  // MARK: basic

  /// Main holds the sender of the service state; every worker holds a receiver and reads the state
  /// between jobs. SIGTERM arrives; main stores `.stopping`; each worker sees it at its next look.
  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      "SIGTERM arrives at \(formatDuration(knobs.shutdownAt)); main stores \"stopping\" in a watch channel, "
        + "and \(eachOf(workers: knobs.workers)) reads the state after the job in hand, cleans up and exits. "
        + "Main waits at most \(formatDuration(knobs.grace))."
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in ChannelWorkers.names(knobs.workers) },
    lesson: "A watch channel holds the current state, not a queue of messages: whoever looks, whenever "
      + "they look, reads the newest value.",
    invariants: Invariant.all(
      .everyParticipantObserved, .nothingAborted,
      .measured("receivers when the state changed") { "\($0.summary.participants.count)" })
  ) { context in
    let knobs = context.knobs
    let (state, _) = Watch<ServiceState>.channel(.running(config: 1))
    context.record(
      "main", .start,
      "creates a watch channel holding \"running\"; starts \(knobs.workers) workers, each with subscribe()")
    var receivers = 0
    await withTaskGroup(of: ChannelWorkers.Outcome.self) { group in
      startWorkers(&group, knobs.workers, state: state, context: context) { index in
        ChannelWorkers.jobLength(forWorker: index)
      }
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("signal", .signal, "SIGTERM")
      receivers = state.receiverCount
      state.sendReplace(.stopping)
      context.record("main", .notify, "sendReplace(.stopping): the channel now holds \"stopping\"")
      await ChannelWorkers.awaitWorkers(&group, running: knobs.workers, grace: knobs.grace, context: context)
    }
    context.record("main", .exit, "every worker has stopped; exit 0")
    return [SummaryLine(label: "receivers when the state changed", value: "\(receivers)")]
  }

  /// Starts one job-doing worker per name, each reading the state between jobs.
  static func startWorkers(
    _ group: inout TaskGroup<ChannelWorkers.Outcome>, _ count: Int, state: Watch<ServiceState>.Sender,
    context: ScenarioContext, jobLength: (Int) -> Duration
  ) {
    for (index, name) in ChannelWorkers.names(count).enumerated() {
      let receiver = state.subscribe()
      let job = jobLength(index)
      group.addTask(name: name) {
        await ChannelWorkers.runJobs(name, job: job, context: context) { lookForStopping(receiver) }
      }
    }
  }

  /// A worker's look between jobs: `borrow()` reads the current value and never waits.
  static func lookForStopping(_ receiver: Watch<ServiceState>.Receiver) -> String? {
    receiver.borrow() == .stopping ? "borrow() reads \"stopping\": takes no new job, cleans up" : nil
  }

  // MARK: slow-consumer

  /// Where a value sits in the stream of updates, so an observer can count what it skipped.
  enum Progress: Sendable, Equatable, CustomStringConvertible {
    case update(Int)
    case stopping(afterUpdate: Int)

    var sequence: Int {
      switch self {
      case .update(let number): number
      case .stopping(let last): last + 1
      }
    }

    var description: String {
      switch self {
      case .update(let number): "update \(number)"
      case .stopping: "stopping"
      }
    }
  }

  static let updates = 30
  static let updateInterval: Duration = .milliseconds(100)
  static let fastPerValue: Duration = .milliseconds(10)
  static let checkPerValue: Duration = .seconds(1)

  /// A fixed script: updates 1…30 every 100 ms, then SIGTERM 1 s after the last. Three observers
  /// read at different speeds; the 1 s one is the conflation check (Kotlin's StateFlow gives the
  /// same answer: 1, 10, 20, 30).
  static let slowConsumer = Scenario(
    name: "slow-consumer",
    headline: { knobs in
      "A producer stores updates 1 to \(updates) in a watch channel, one every 100ms, and \"stopping\" "
        + "when SIGTERM arrives 1s after the last. fast takes 10ms per value, slow "
        + "\(formatDuration(knobs.consumerDelay)), and 1s-check exactly 1s."
    },
    knobs: [.consumerDelay],
    participants: { _ in ["fast", "slow", "1s-check"] },
    lesson: "A watch channel keeps only the newest value: a slow observer skips what it was too slow "
      + "for, but it never falls behind and always sees the latest state, the shutdown included.",
    invariants: Invariant.all(.everyParticipantObserved, .nothingAborted, .nothingLost, .somethingSkipped)
  ) { context in
    let knobs = context.knobs
    let (progress, _) = Watch<Progress>.channel(.update(0))
    context.record("main", .start, "creates a watch channel holding update 0; three observers subscribe")
    let seen = SeenValues()
    await withTaskGroup(of: Void.self) { group in
      for (name, perValue, narrate) in [
        ("fast", fastPerValue, false), ("slow", knobs.consumerDelay, true), ("1s-check", checkPerValue, true),
      ] {
        let receiver = progress.subscribe()
        group.addTask(name: name) {
          let values = await observe(
            name, receiver: receiver, perValue: perValue, narrate: narrate, context: context)
          seen.set(name, values)
        }
      }
      for number in 1...updates {
        try? await context.sleep(for: updateInterval)
        progress.sendReplace(.update(number))
        if number == 1 {
          context.record("producer", .send, "stores update 1, then one more every 100ms")
        } else if number == updates {
          context.record("producer", .send, "stores update \(updates), the last")
        }
      }
      try? await context.sleep(for: .seconds(1))
      context.record("signal", .signal, "SIGTERM")
      progress.sendReplace(.stopping(afterUpdate: updates))
      context.record("producer", .notify, "stores \"stopping\"")
    }
    context.record("main", .exit, "every observer has stopped; exit 0")
    return [
      SummaryLine(label: "updates slow saw", value: seen.list("slow")),
      SummaryLine(
        label: "updates 1s-check saw", value: seen.list("1s-check") + " (Kotlin's StateFlow: 1, 10, 20, 30)"),
    ]
  }

  /// Waits for each change with `changed()`, reads it with `borrowAndUpdate()`, then spends
  /// `perValue` on it. Records what it skipped. Returns the update numbers it saw.
  static func observe(
    _ name: String, receiver: Watch<Progress>.Receiver, perValue: Duration, narrate: Bool,
    context: ScenarioContext
  ) async -> [Int] {
    context.record(name, .start, "starts; each value takes \(formatDuration(perValue))")
    var seen: [Int] = []
    var last = 0
    while true {
      do { try await receiver.changed() } catch {
        context.record(name, .exit, "changed() throws: the channel closed")
        return seen
      }
      let value = receiver.borrowAndUpdate()
      let skipped = value.sequence - last - 1
      last = value.sequence
      if skipped > 0 {
        let range = skipped == 1 ? "update \(last - 1)" : "updates \(last - skipped)–\(last - 1)"
        context.record(name, .skipped, "sees \(value); skipped \(range)", count: skipped)
      } else if narrate, case .update = value {
        context.record(name, .receive, "sees \(value)")
      }
      if case .stopping = value {
        context.record(
          name, .observe, "sees \"stopping\" after \(seen.count) of \(updates) updates; cleans up and exits")
        return seen
      }
      if case .update(let number) = value { seen.append(number) }
      try? await context.sleep(for: perValue)
    }
  }

  // MARK: timeout

  /// As basic, but the last worker is in a 4 s job when the state changes: it reads the state only
  /// between jobs, so main's grace deadline cuts it off.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      "SIGTERM arrives at \(formatDuration(knobs.shutdownAt)) and main stores \"stopping\", but "
        + "worker-\(knobs.workers) is in a \(formatDuration(BroadcastScenarios.longJob)) job and reads the "
        + "state only between jobs. Main waits \(formatDuration(knobs.grace)), then cancels whoever is left."
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in ChannelWorkers.names(knobs.workers) },
    lesson: "The new state waits for whoever looks, but a task deep in a long job does not look. Bound "
      + "the wait with a grace period, and cancel the task when it runs out.",
    invariants: Invariant.all(.allButLastObserved, .lastParticipantAborted)
  ) { context in
    let knobs = context.knobs
    let (state, _) = Watch<ServiceState>.channel(.running(config: 1))
    context.record(
      "main", .start,
      "creates a watch channel holding \"running\"; starts \(knobs.workers) workers, each with subscribe()")
    await withTaskGroup(of: ChannelWorkers.Outcome.self) { group in
      startWorkers(&group, knobs.workers, state: state, context: context) { index in
        index == knobs.workers - 1 ? BroadcastScenarios.longJob : ChannelWorkers.jobLength(forWorker: index)
      }
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("signal", .signal, "SIGTERM")
      state.sendReplace(.stopping)
      context.record("main", .notify, "sendReplace(.stopping): the channel now holds \"stopping\"")
      await ChannelWorkers.awaitWorkers(&group, running: knobs.workers, grace: knobs.grace, context: context)
    }
    context.record("main", .exit, "every worker has stopped or been cancelled; exit 0")
    return []
  }

  // MARK: late-subscriber

  /// The broadcast story's script, on a watch channel: the last worker starts after the shutdown
  /// and subscribes. The channel holds "stopping", and `waitFor` checks the current value first.
  static let lateSubscriber = Scenario(
    name: "late-subscriber",
    headline: { knobs in
      "SIGTERM arrives at \(formatDuration(knobs.shutdownAt)) and main stores \"stopping\"; "
        + "worker-\(knobs.workers) starts \(formatDuration(BroadcastScenarios.lateBy)) later, subscribes, "
        + "and waits for \"stopping\" with waitFor. Main waits at most \(formatDuration(knobs.grace))."
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in ChannelWorkers.names(knobs.workers) },
    lesson: "A watch receiver starts with the current value: a task that subscribes after the shutdown "
      + "still reads \"stopping\" at once. (Note that it counts as seen: wait with waitFor, which looks "
      + "at the current value first, not with changed().)",
    invariants: Invariant.all(.everyParticipantObserved, .nothingAborted)
  ) { context in
    let knobs = context.knobs
    let (state, _) = Watch<ServiceState>.channel(.running(config: 1))
    context.record(
      "main", .start, "creates a watch channel holding \"running\"; starts \(knobs.workers - 1) worker(s) now"
    )
    let late = "worker-\(knobs.workers)"
    await withTaskGroup(of: ChannelWorkers.Outcome.self) { group in
      startWorkers(&group, knobs.workers - 1, state: state, context: context) { index in
        ChannelWorkers.jobLength(forWorker: index)
      }
      group.addTask(name: late) {
        try? await context.sleep(for: knobs.shutdownAt + BroadcastScenarios.lateBy)
        let receiver = state.subscribe()
        context.record(late, .start, "starts late and subscribes: the channel holds \"\(receiver.borrow())\"")
        context.record(late, .wait, "waits with waitFor { $0 == .stopping }")
        do {
          _ = try await receiver.waitFor { $0 == .stopping }
          context.record(
            late, .observe, "waitFor returns at once: the current value matches; cleans up")
          try await context.sleep(for: ChannelWorkers.cleanupTime)
          context.record(late, .exit, "exits without doing a job")
          return .stopped
        } catch {
          context.record(late, .abort, "task cancelled at the grace deadline")
          return .aborted
        }
      }
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("signal", .signal, "SIGTERM")
      // sendReplace, not send: `send` stores nothing when no receiver is alive (worker-1 alone, say).
      state.sendReplace(.stopping)
      context.record(
        "main", .notify,
        "sendReplace(.stopping): the channel now holds \"stopping\"; \(late) has not subscribed yet")
      await ChannelWorkers.awaitWorkers(&group, running: knobs.workers, grace: knobs.grace, context: context)
    }
    context.record("main", .exit, "every worker has stopped; exit 0")
    return []
  }

  // MARK: busy-loop

  static let warmUp: Duration = .milliseconds(300)
  static let configAt: Duration = .milliseconds(200)
  static let maximumLaps = 5

  /// Two config watchers run the same loop, one word apart: apply the current config; if a newer one
  /// is already there, go round again; otherwise wait with `changed()`. spinner reads with `borrow()`,
  /// which leaves the value unseen, so `hasChanged()` stays true and it never waits.
  static let busyLoop = Scenario(
    name: "busy-loop",
    headline: { knobs in
      "Two config watchers subscribe, then warm up for 300ms; config v2 is stored at 0.2s, during the "
        + "warm-up. Each loops: read the state, apply it, go round again if hasChanged(), else wait with "
        + "changed(). spinner reads with borrow(), fixed with borrowAndUpdate(). SIGTERM arrives at "
        + "\(formatDuration(knobs.shutdownAt))."
    },
    knobs: [.shutdownAt],
    participants: { _ in ["spinner", "fixed"] },
    lesson: "borrow() does not mark the value seen, so hasChanged() stays true and a loop that goes "
      + "round on it never waits: a busy loop that starves its thread. Read with borrowAndUpdate() "
      + "when you act on the value (changed() marks it seen too).",
    invariants: Invariant.all(.observedExactly { _ in ["fixed"] }, .nothingAborted)
  ) { context in
    let knobs = context.knobs
    let (config, _) = Watch<ServiceState>.channel(.running(config: 1))
    context.record("main", .start, "creates a watch channel holding config v1; starts spinner and fixed")
    let applied = Tally(2)
    await withTaskGroup(of: Void.self) { group in
      for (index, name) in ["spinner", "fixed"].enumerated() {
        let receiver = config.subscribe()
        group.addTask(name: name) {
          applied.set(
            index, await watchConfig(name, receiver: receiver, marksSeen: index == 1, context: context))
        }
      }
      if knobs.shutdownAt > configAt {
        try? await context.sleep(for: configAt)
        config.sendReplace(.running(config: 2))
        context.record("main", .send, "stores config v2")
        try? await context.sleep(for: knobs.shutdownAt - configAt)
      } else {
        try? await context.sleep(for: knobs.shutdownAt)  // the signal comes first: no config v2
      }
      context.record("signal", .signal, "SIGTERM")
      config.sendReplace(.stopping)
      context.record("main", .notify, "stores \"stopping\"")
    }
    context.record("main", .exit, "both watchers are gone; exit 0")
    let values = applied.values
    return [
      SummaryLine(
        label: "times config v2 was applied",
        value: "spinner \(values[0]) (cut off), fixed \(values[1])")
    ]
  }

  /// The loop under test. Returns how many times it applied config v2.
  static func watchConfig(
    _ name: String, receiver: Watch<ServiceState>.Receiver, marksSeen: Bool, context: ScenarioContext
  ) async -> Int {
    context.record(name, .start, "warms up for \(formatDuration(warmUp))")
    try? await context.sleep(for: warmUp)
    var laps = 0
    var appliedV2 = 0
    while true {
      let state = marksSeen ? receiver.borrowAndUpdate() : receiver.borrow()
      let read = marksSeen ? "borrowAndUpdate()" : "borrow()"
      if state == .stopping {
        context.record(name, .observe, "\(read) reads \"stopping\": stops watching")
        return appliedV2
      }
      if state == .running(config: 2) { appliedV2 += 1 }
      guard (try? receiver.hasChanged()) == true else {
        context.record(
          name, .work, "\(read) reads config v\(config(of: state)); applies it; waits with changed()")
        _ = try? await receiver.changed()
        continue
      }
      laps += 1
      context.record(
        name, .work, "\(read) reads config v\(config(of: state)); applies it; hasChanged() is true: again")
      if laps == maximumLaps {
        context.record(
          name, .error,
          "\(laps) laps without waiting once: a busy loop, cut off here (left alone it would "
            + "never yield, and on one thread main could never store \"stopping\")")
        return appliedV2
      }
    }
  }

  static func config(of state: ServiceState) -> Int {
    if case .running(let config) = state { return config }
    return 0
  }
}

/// The update numbers each observer saw, filled in by their tasks.
final class SeenValues: Sendable {
  private let values = Mutex<[String: [Int]]>([:])

  func set(_ name: String, _ seen: [Int]) { values.withLock { $0[name] = seen } }

  /// "1, 10, 20, 30"
  func list(_ name: String) -> String {
    values.withLock { $0[name] ?? [] }.map(String.init).joined(separator: ", ")
  }
}
