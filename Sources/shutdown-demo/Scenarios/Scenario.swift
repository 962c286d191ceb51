import Patterns

/// The knobs a learner turns. Each pattern reads the ones it needs; the header shows those.
struct Knobs: Sendable, Hashable {
  var workers = 3
  var shutdownAt: Duration = .seconds(1)
  var grace: Duration = .seconds(2)
  var capacity = 4
  var consumerDelay: Duration = .milliseconds(250)
}

/// Names a knob, for the header line "knobs: --workers 3 --grace 2s".
enum Knob: String, Sendable, CaseIterable {
  case workers, shutdownAt = "shutdown-at", grace, capacity, consumerDelay = "consumer-delay"

  func value(in knobs: Knobs) -> String {
    switch self {
    case .workers: "\(knobs.workers)"
    case .shutdownAt: formatDuration(knobs.shutdownAt)
    case .grace: formatDuration(knobs.grace)
    case .capacity: "\(knobs.capacity)"
    case .consumerDelay: formatDuration(knobs.consumerDelay)
    }
  }
}

/// What a running scenario gets: the clock, the timeline to write, the knobs.
/// Nothing here says whether time is virtual or real.
struct ScenarioContext: Sendable {
  var clock: any Clock<Duration>
  var timeline: Timeline
  var knobs: Knobs

  /// Waits `duration` on the scenario's clock; throws `CancellationError` if the task is cancelled.
  func sleep(for duration: Duration) async throws { try await clock.sleep(for: duration) }

  /// Records a step; shorthand for `timeline.record`.
  func record(_ actor: String, _ kind: TimelineEvent.Kind, _ detail: String, count: Int? = nil) {
    timeline.record(actor, kind, detail, count: count)
  }
}

/// A line the scenario adds to the summary: something it measured, not something it assumed.
struct SummaryLine: Sendable, Hashable {
  var label: String
  var value: String
}

/// One story: what it is, which knobs change it, how it runs, and what it teaches.
struct Scenario: Sendable {
  /// The `--scenario` value.
  var name: String
  /// One sentence of what happens, in the header. May quote the knobs.
  var headline: @Sendable (Knobs) -> String
  /// The knobs that change this story, shown in the header.
  var knobs: [Knob]
  /// The tasks expected to observe the shutdown (for "observed: 3 of 3").
  var participants: @Sendable (Knobs) -> [String]
  /// The single line the learner should take away.
  var lesson: String
  /// True when the story is *about* a deadlock (the simulation's report is the point, not a failure).
  var expectsDeadlock = false
  /// What must hold however the jobs ready at the same instant are ordered (`--explore`): returns
  /// the violations found in a finished run. Runs that failed (`failures`) always violate.
  var invariants: @Sendable (ScenarioReport) -> [String] = { _ in [] }
  /// The script. Returns extra measured summary lines.
  var run: @Sendable (ScenarioContext) async throws -> [SummaryLine]
}

/// A pattern's subcommand: its scenarios in the order `--scenario all` runs them.
struct PatternCatalog: Sendable {
  var pattern: String
  /// The knob values when the learner gives none; a pattern may pick its own (a capacity, say).
  var defaults = Knobs()
  var scenarios: [Scenario]

  func scenario(named name: String) -> Scenario? { scenarios.first { $0.name == name } }
}

/// "each of 3 workers", or "the one worker": headlines read right for every `--workers`.
func eachOf(workers count: Int) -> String {
  count == 1 ? "the one worker" : "each of \(count) workers"
}

/// "1 worker", "3 workers".
func workerCount(_ count: Int) -> String { count == 1 ? "1 worker" : "\(count) workers" }
