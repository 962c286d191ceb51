import Patterns

extension ComparisonTable {
  /// The comparison of one workload: every measured cell is read off that pattern's finished run,
  /// and every qualitative cell and verdict quotes one of them. `reports` are in
  /// ``CompareStories/Pattern`` order.
  init(
    kind: CompareStories.Kind, knobs: Knobs, seed: UInt64, reports: [ScenarioReport], costs: [Cost] = []
  ) {
    let facts = zip(CompareStories.Pattern.allCases, reports).map { RowFacts(pattern: $0, report: $1) }
    self.init(
      title: "\(CompareStories.command) · \(kind.rawValue)", scenario: kind.rawValue,
      headline: CompareStories.headline(kind, knobs),
      knobs: CompareStories.knobs(of: kind).map { Setting(name: $0.rawValue, value: $0.value(in: knobs)) },
      seed: seed, rows: facts.map(\.row), aspects: Self.aspects(facts, knobs: knobs, costs: costs),
      verdict: Self.verdict(facts), costs: costs,
      failures: facts.flatMap { fact in fact.report.failures.map { "\(fact.pattern.rawValue): \($0)" } })
  }

  /// What one run measured, in the terms the cells quote.
  struct RowFacts {
    var pattern: CompareStories.Pattern
    var report: ScenarioReport
    var row: Row

    init(pattern: CompareStories.Pattern, report: ScenarioReport) {
      self.pattern = pattern
      self.report = report
      let summary = report.summary
      let signal = summary.shutdownAt ?? .zero
      let notices = report.events.filter { $0.kind == .observe && summary.participants.contains($0.actor) }
        .map { $0.time - signal }
      var doneHow = ""
      var doneFromPattern = false
      if let line = report.measured.first(where: { $0.label == CompareStories.doneLabel }) {
        if case .flag(let yes) = line.value { doneFromPattern = yes }
        doneHow = String((line.note ?? "").dropFirst().dropLast())
      }
      var blocked: Duration?
      if case .duration(let time) = report.measure(CompareStories.producerBlockedLabel) { blocked = time }
      row = Row(
        pattern: pattern.rawValue, stopsBy: pattern.stopsBy, notified: summary.observed.count,
        participants: summary.participants.count, firstNotice: notices.min(), lastNotice: notices.max(),
        jobsLost: pattern.carriesJobs ? summary.lost : nil,
        valuesSkipped: pattern.carriesJobs ? summary.skipped : nil,
        producerBlocked: blocked, aborted: summary.aborted, doneFromPattern: doneFromPattern,
        doneHow: doneHow,
        timeToQuiet: summary.timeToQuiet)
    }

    func count(_ label: String) -> Int {
      if case .count(let value) = report.measure(label) { return value }
      return 0
    }

    /// The jobs the producer sent, and how many the consumer handled.
    var jobs: (sent: Int, handled: Int) {
      guard case .equation(let total, let parts) = report.measure(CompareStories.jobsLabel) else {
        return (0, 0)
      }
      return (total, parts.first { $0.label == "handled" }?.count ?? 0)
    }

    /// When the consumer noticed the stop, after the signal.
    var consumerNotice: Duration? {
      let signal = report.summary.shutdownAt ?? .zero
      return report.events.first { $0.kind == .observe && $0.actor == CompareStories.consumer }.map {
        $0.time - signal
      }
    }

    var notified: String { "\(row.notified) of \(row.participants)" }
    var aborted: String { row.aborted.isEmpty ? "nobody" : listed(row.aborted) }
    var lastNotice: String { row.lastNotice.map(formatDuration) ?? "never" }
    var consumerSaw: String { consumerNotice.map { formatDuration($0) + " after SIGTERM" } ?? "never" }
    var blocked: String { formatDuration(row.producerBlocked ?? .zero) }
  }

  static func aspects(_ facts: [RowFacts], knobs: Knobs, costs: [Cost]) -> [Aspect] {
    func cells(_ cell: (RowFacts) -> String) -> [String] { facts.map(cell) }
    let reached = CompareStories.receiversLabel
    return [
      Aspect(
        name: "propagation",
        cells: cells { fact in
          switch fact.pattern {
          case .broadcast:
            "pushed to every receiver: one send reached \(fact.count(reached)); \(fact.notified) noticed"
          case .watch:
            "one value, read at each look: \(fact.count(reached)) receivers; \(fact.notified) noticed"
          case .token:
            "one cancel() cascades down the tree: \(fact.count(reached)) child tokens; \(fact.notified) noticed"
          case .joinset: "none: nobody is told; \(fact.notified) noticed"
          case .mpsc:
            "main drops its senders, so each worker's channel disconnects; the consumer stops on nil: "
              + "\(fact.notified) noticed"
          }
        }),
      Aspect(
        name: "semantics",
        cells: cells { fact in
          switch fact.pattern {
          case .broadcast:
            "a message, read in order after every job sent before it: the consumer saw it \(fact.consumerSaw)"
          case .watch:
            "the newest value wins: the consumer saw \"stopping\" \(fact.consumerSaw), skipping "
              + "\(counted(fact.row.valuesSkipped ?? 0, "job"))"
          case .token:
            "cooperative: each task stops at its next check; the last noticed \(fact.lastNotice) after SIGTERM"
          case .joinset:
            "forced: at the deadline it aborted \(fact.aborted)"
          case .mpsc:
            "done means drained: the consumer stopped \(fact.consumerSaw), after every queued job"
          }
        }),
      Aspect(
        name: "many consumers",
        cells: cells { fact in
          switch fact.pattern {
          case .broadcast:
            "each receiver gets its own copy of every message: the workers read past "
              + "\(counted(fact.jobs.sent, "job")) that were not theirs"
          case .watch: "any number of receivers share one value: \(fact.count(reached))"
          case .token: "any number of child tokens: \(fact.count(reached)), one per task"
          case .joinset: "one owner joins them all: \(fact.row.participants) tasks joined"
          case .mpsc:
            "one receiver per channel: one consumer took the jobs; main alone waited for "
              + "\(counted(fact.row.participants + 1, "sender")) to go"
          }
        }),
      Aspect(
        name: "back-pressure",
        cells: cells { fact in
          switch fact.pattern {
          case .broadcast:
            "none: the producer waited \(fact.blocked); the consumer lost \(counted(fact.row.jobsLost ?? 0, "job"))"
          case .watch:
            "none: the producer waited \(fact.blocked); the consumer skipped \(counted(fact.row.valuesSkipped ?? 0, "job"))"
          case .token, .joinset: "none needed: it carries no jobs"
          case .mpsc:
            "yes: the producer waited \(fact.blocked) for room "
              + "(\(counted(fact.count(CompareStories.producerWaitsLabel), "time"))); "
              + "\(counted(fact.row.jobsLost ?? 0, "job")) lost"
          }
        }),
      Aspect(
        name: "cost",
        cells: cells { fact in
          let base: String
          switch fact.pattern {
          case .broadcast:
            base = "one send for \(fact.count(reached)) receivers; a ring of \(knobs.capacity) slots"
          case .watch: base = "one update for \(fact.count(reached)) receivers; one value"
          case .token: base = "one cancel() for \(fact.count(reached)) tokens, a node each"
          case .joinset: base = "one abortAll() for \(fact.row.aborted.count) tasks; a slot per task"
          case .mpsc:
            base =
              "\(counted(fact.count(reached), "sender")) dropped to say stop, \(fact.row.participants + 1) to say "
              + "done; a queue of \(knobs.capacity)"
          }
          guard let cost = costs.first(where: { $0.pattern == fact.pattern.rawValue }) else { return base }
          return base
            + "; measured: \(ComparisonRenderer.perTask(cost.nanosecondsPerNotifiedTask, "ns")) per "
            + "notified task, \(ComparisonRenderer.perTask(cost.bytesPerWaitingTask, "bytes")) per waiting task"
        }),
      Aspect(
        name: "fit",
        cells: cells { fact in
          switch fact.pattern {
          case .broadcast:
            "events every subscriber must see; as a stop, only if each reads often (here: \(fact.consumerSaw))"
          case .watch:
            "state such as readiness or config: the newest value is what counts (here: \(fact.lastNotice) to the last notice)"
          case .token:
            "telling a tree of tasks to stop (here: \(fact.notified) by \(fact.lastNotice))"
          case .joinset:
            "owning tasks and bounding the wait (here: quiet \(ComparisonRenderer.duration(fact.row.timeToQuiet)) after SIGTERM)"
          case .mpsc:
            "work queues, and knowing when every task is done (\(fact.row.doneHow))"
          }
        }),
    ]
  }

  static func verdict(_ facts: [RowFacts]) -> [String] {
    func fact(_ pattern: CompareStories.Pattern) -> RowFacts { facts.first { $0.pattern == pattern }! }
    let broadcast = fact(.broadcast)
    let watch = fact(.watch)
    let token = fact(.token)
    let joinset = fact(.joinset)
    let mpsc = fact(.mpsc)
    return [
      "To tell every task to stop, cancel a token tree: \(token.notified) noticed, the last "
        + "\(token.lastNotice) after SIGTERM, and there is nothing in it to lose or push back.",
      "For a state every task should see at once (readiness, config), use a watch: \(watch.notified) "
        + "noticed, and a slow reader skips values (\(watch.row.valuesSkipped ?? 0) here) instead of "
        + "falling behind.",
      "Use a broadcast when every subscriber must see every event, and size it for the slowest: its "
        + "stop is read only after the jobs sent before it (the consumer saw it \(broadcast.consumerSaw)), and "
        + "\(counted(broadcast.row.jobsLost ?? 0, "job")) were lost.",
      "Use a join set or task tracker to own tasks and bound the wait; alone it tells nobody "
        + "(\(joinset.notified) noticed) and cuts everyone off at the deadline, but it knows when the last "
        + "is gone (\(joinset.row.doneHow)).",
      "Use an mpsc for work queues and for \"all done\": the producer waited \(mpsc.blocked) for room, "
        + "\(counted(mpsc.row.jobsLost ?? 0, "job")) were lost, and nil told main that every task was done "
        + "(\(mpsc.row.doneHow)).",
      "A service combines them: a token tree to tell every task, a task tracker to wait for them under a "
        + "deadline, an mpsc whose senders' going says done, a watch for readiness; `shutdown-demo flow` "
        + "runs that combination.",
    ]
  }
}
