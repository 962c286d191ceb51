import Patterns
import Synchronization

/// A finished scenario: everything a renderer needs, and nothing it has to decide.
struct ScenarioReport: Sendable {
  var pattern: String
  var scenario: String
  var headline: String
  var knobs: [(name: String, value: String)]
  var events: [TimelineEvent]
  var summary: TimelineSummary
  var extraSummary: [SummaryLine]
  var lesson: String
  /// Problems that make the run a real failure (exit 1): an unexpected deadlock, an error thrown,
  /// a job from another thread in a scripted run.
  var failures: [String]
}

/// Runs scenarios, scripted (virtual time, deterministic) or live (real clock).
enum ScenarioRunner {
  /// Runs `scenario` in the simulation: byte-identical output on every run.
  static func runScripted(
    _ scenario: Scenario, pattern: String, knobs: Knobs, seed: UInt64 = 0
  ) -> ScenarioReport {
    let timelineBox = TimelineBox()
    let result = Simulation.run(seed: seed) { report in
      timelineBox.timeline?.record("simulation", .error, report.description)
    } _: { clock in
      let timeline = Timeline(clock: clock)
      timelineBox.timeline = timeline
      let context = ScenarioContext(clock: clock, timeline: timeline, knobs: knobs)
      return try await scenario.run(context)
    }
    var failures: [String] = []
    var extra: [SummaryLine] = []
    switch result.value {
    case .success(let lines): extra = lines
    case .failure(let error): failures.append("the scenario threw: \(error)")
    case nil: failures.append("the scenario never finished")
    }
    if !result.deadlocks.isEmpty, !scenario.expectsDeadlock {
      failures.append("unexpected \(result.deadlocks[0])")
    }
    if result.foreignEnqueues > 0 {
      failures.append("\(result.foreignEnqueues) job(s) arrived from another thread during a scripted run")
    }
    if !result.leftovers.isEmpty {
      extra.append(
        SummaryLine(
          label: "still running when main returned",
          value: result.leftovers.map(\.task).joined(separator: ", ")))
    }
    return report(
      scenario, pattern: pattern, knobs: knobs, events: timelineBox.timeline?.events ?? [],
      extra: extra, failures: failures)
  }

  /// What went wrong in a finished run: its failures, then the scenario's own invariants.
  static func violations(of scenario: Scenario, in report: ScenarioReport) -> [String] {
    report.failures + scenario.invariants(report)
  }

  /// Runs `scenario` under seeds 1…`seeds` (each a different, reproducible order of the jobs ready at
  /// the same instant) and returns the first seed whose run breaks an invariant, with that run.
  /// Seed 0 (first-in first-out) is checked first: the invariants state the story's facts for sensible
  /// knobs, and knobs can change the story itself (a grace shorter than a job aborts a worker in any
  /// order), which is then reported as seed 0 rather than blamed on an ordering.
  static func explore(
    _ scenario: Scenario, pattern: String, knobs: Knobs, seeds: Int
  ) -> (seed: UInt64, report: ScenarioReport, violations: [String])? {
    for seed in 0...UInt64(max(seeds, 1)) {
      let report = runScripted(scenario, pattern: pattern, knobs: knobs, seed: seed)
      let violations = violations(of: scenario, in: report)
      if !violations.isEmpty { return (seed, report, violations) }
    }
    return nil
  }

  /// Runs `scenario` on the default executor with the clock it is given (a live run passes the
  /// continuous clock): the same code as a scripted run, in real time.
  static func runLive(
    _ scenario: Scenario, pattern: String, knobs: Knobs, clock: some Clock<Duration>
  ) async -> ScenarioReport {
    let timeline = Timeline(clock: clock)
    let context = ScenarioContext(clock: clock, timeline: timeline, knobs: knobs)
    var failures: [String] = []
    var extra: [SummaryLine] = []
    do {
      extra = try await scenario.run(context)
    } catch {
      failures.append("the scenario threw: \(error)")
    }
    return report(
      scenario, pattern: pattern, knobs: knobs, events: timeline.events, extra: extra, failures: failures)
  }

  private static func report(
    _ scenario: Scenario, pattern: String, knobs: Knobs, events: [TimelineEvent],
    extra: [SummaryLine], failures: [String]
  ) -> ScenarioReport {
    ScenarioReport(
      pattern: pattern,
      scenario: scenario.name,
      headline: scenario.headline(knobs),
      knobs: scenario.knobs.map { (name: $0.rawValue, value: $0.value(in: knobs)) },
      events: events,
      summary: TimelineSummary(events: events, participants: scenario.participants(knobs)),
      extraSummary: extra,
      lesson: scenario.lesson,
      failures: failures)
  }
}

/// Hands the timeline, created inside the simulation, to the deadlock callback outside it.
/// Both run on the simulation's single thread; the lock is for the type system.
private final class TimelineBox: Sendable {
  private let storage = Mutex<Timeline?>(nil)
  var timeline: Timeline? {
    get { storage.withLock { $0 } }
    set { storage.withLock { $0 = newValue } }
  }
}
