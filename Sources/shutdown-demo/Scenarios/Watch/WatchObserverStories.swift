import Patterns

/// The watch stories about how observers read: a slow one skips values, and a loop that reads
/// without marking the value seen never waits.
extension WatchStories {
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
  static let slowSaw = "updates slow saw"
  static let checkSaw = "updates 1s-check saw"

  /// A fixed script: updates 1…30 every 100 ms, then SIGTERM 1 s after the last. Three observers
  /// read at different speeds; the 1 s one is the conflation check (Kotlin's StateFlow gives the
  /// same answer: 1, 10, 20, 30).
  static let slowConsumer = Scenario(
    name: "slow-consumer",
    headline: { knobs in
      """
      A producer stores updates 1 to \(updates) in a watch channel, one every 100ms, and "stopping" when \
      SIGTERM arrives 1s after the last. fast takes 10ms per value, slow \
      \(formatDuration(knobs.consumerDelay)), and 1s-check exactly 1s.
      """
    },
    knobs: [.consumerDelay],
    participants: { _ in ["fast", "slow", "1s-check"] },
    lesson: """
      A watch channel keeps only the newest value: a slow observer skips what it was too slow for, but \
      it never falls behind and always sees the latest state, the shutdown included.
      """,
    // The story's own script fixes the signal: 1s after the last update.
    script: { _ in [.init(at: updateInterval * updates + .seconds(1), .terminate)] },
    invariants: [.everyParticipantObserved, .everyTaskEnded, .nothingLost],
    outcome: [.nothingAborted, .somethingSkipped]
  ) { context in
    let knobs = context.knobs
    let (progress, _) = Watch<Progress>.channel(.update(0))
    context.record("main", .start, "creates a watch channel holding update 0; three observers subscribe")
    let slow = Collected<Int>()
    let check = Collected<Int>()
    await withTaskGroup(of: Void.self) { group in
      let observers: [(String, Duration, Collected<Int>?)] = [
        ("fast", fastPerValue, nil), ("slow", knobs.consumerDelay, slow), ("1s-check", checkPerValue, check),
      ]
      for (name, perValue, seen) in observers {
        let receiver = progress.subscribe()
        group.addTask(name: name) {
          await observe(name, receiver: receiver, perValue: perValue, seen: seen, context: context)
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
      await context.waitForShutdownSignal()
      progress.sendReplace(.stopping(afterUpdate: updates))
      context.record("producer", .notify, "stores \"stopping\"")
    }
    context.mainExits("every observer has stopped")
    return [
      SummaryLine(slowSaw, .names(slow.values.map(String.init))),
      SummaryLine(
        checkSaw, .names(check.values.map(String.init)), note: "(Kotlin's StateFlow: 1, 10, 20, 30)"),
    ]
  }

  /// Waits for each change with `changed()`, reads it with `borrowAndUpdate()`, then spends
  /// `perValue` on it. Records what it skipped, and narrates what it saw when `seen` collects it.
  static func observe(
    _ name: String, receiver: Watch<Progress>.Receiver, perValue: Duration, seen: Collected<Int>?,
    context: ScenarioContext
  ) async {
    context.record(name, .start, "starts; each value takes \(formatDuration(perValue))")
    var count = 0
    var last = 0
    while true {
      do { try await receiver.changed() } catch {
        context.record(name, .exit, "changed() throws: the channel closed")
        return
      }
      let value = receiver.borrowAndUpdate()
      let skipped = value.sequence - last - 1
      last = value.sequence
      if skipped > 0 {
        let range = skipped == 1 ? "update \(last - 1)" : "updates \(last - skipped)–\(last - 1)"
        context.record(name, .skipped, "sees \(value); skipped \(range)", count: skipped)
      } else if seen != nil, case .update = value {
        context.record(name, .receive, "sees \(value)")
      }
      if case .stopping = value {
        context.record(
          name, .observe, "sees \"stopping\" after \(count) of \(updates) updates; cleans up and exits")
        return
      }
      if case .update(let number) = value {
        count += 1
        seen?.append(number)
      }
      try? await context.sleep(for: perValue)
    }
  }

  // MARK: busy-loop

  static let warmUp: Duration = .milliseconds(300)
  static let configAt: Duration = .milliseconds(200)
  static let maximumLaps = 5
  static let timesApplied = "times config v2 was applied"

  /// Two config watchers run the same loop, one word apart: apply the current config; if a newer one
  /// is already there, go round again; otherwise wait with `changed()`. spinner reads with `borrow()`,
  /// which leaves the value unseen, so `hasChanged()` stays true and it never waits.
  static let busyLoop = Scenario(
    name: "busy-loop",
    headline: { knobs in
      """
      Two config watchers subscribe, then warm up for 300ms; config v2 is stored at 0.2s, during the \
      warm-up. Each loops: read the state, apply it, go round again if hasChanged(), else wait with \
      changed(). spinner reads with borrow(), fixed with borrowAndUpdate(). SIGTERM arrives at \
      \(formatDuration(knobs.shutdownAt)).
      """
    },
    knobs: [.shutdownAt],
    participants: { _ in ["spinner", "fixed"] },
    lesson: """
      borrow() does not mark the value seen, so hasChanged() stays true and a loop that goes round on \
      it never waits: a busy loop that starves its thread. Read with borrowAndUpdate() when you act on \
      the value (changed() marks it seen too).
      """,
    invariants: [.everyTaskEnded],
    outcome: [.observedExactly { _ in ["fixed"] }, .nothingAborted]
  ) { context in
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
      // Config v2 comes at 0.2s, unless the signal comes first.
      if await !context.sleepUnlessShutdownSignal(for: configAt) {
        config.sendReplace(.running(config: 2))
        context.record("main", .send, "stores config v2")
        await context.waitForShutdownSignal()
      }
      config.sendReplace(.stopping)
      context.record("main", .notify, "stores \"stopping\"")
    }
    context.mainExits("both watchers are gone")
    let values = applied.values
    let cutOff = context.timeline.events.contains { $0.actor == "spinner" && $0.kind == .error }
    return [
      SummaryLine(
        timesApplied,
        .tally([Measure.Part(values[0], "spinner"), Measure.Part(values[1], "fixed")], of: nil),
        note: cutOff ? "(spinner was cut off as a busy loop)" : nil)
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
