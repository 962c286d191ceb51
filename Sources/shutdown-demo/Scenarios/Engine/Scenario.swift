import Patterns

/// One story: what it is, which knobs change it, how it runs, and what it teaches.
///
/// A story's file reads like what it prints: the set-up, the script of events, what it measured
/// (the returned summary lines), and the lesson. It records events and never formats output; it
/// sleeps only on `context.clock`, and learns of the shutdown only from
/// ``ScenarioContext/waitForShutdownSignal()``, so the same code runs scripted and live.
struct Scenario: Sendable {
  /// The `--scenario` value.
  var name: String
  /// One sentence of what happens, in the header. May quote the knobs.
  var headline: @Sendable (Knobs) -> String
  /// The knobs that change this story, shown in the header. Any other knob given is reported as unused.
  var knobs: [Knob]
  /// The tasks expected to observe the shutdown (for "observed: 3 of 3").
  var participants: @Sendable (Knobs) -> [String]
  /// The single line the learner should take away.
  var lesson: String
  /// The scripted signals, in time order: by default one SIGTERM at `--shutdown-at`. A story with
  /// more (a second Ctrl-C, a SIGHUP) lists them all; the first shutdown signal is "the" signal
  /// that ``ScenarioContext/waitForShutdownSignal()`` returns. A live run ignores the script.
  var script: @Sendable (Knobs) -> [ScriptedSignals.Delivery] = { [.init(at: $0.shutdownAt, .terminate)] }
  /// True when the story is *about* a deadlock (the simulation's report is the point, not a failure).
  var expectsDeadlock = false
  /// True when the story is *about* a livelock: a loop that never lets time move, stopped by the
  /// run's job budget.
  var expectsLivelock = false
  /// What must hold under every order of the jobs ready at the same instant, for any knobs: nothing
  /// accepted goes missing, every task ends, the summary's equations add up. `--explore` checks these.
  var invariants: [Invariant] = []
  /// What the story shows with its default knobs (who observed, who was aborted). A knob may change
  /// these on purpose (a grace of 0s aborts everyone), so only the tests check them, at the defaults.
  var outcome: [Invariant] = []
  /// The script. Returns the measured summary lines.
  var run: @Sendable (ScenarioContext) async throws -> [SummaryLine]
}

/// A subcommand's stories, with the words its help shows: the stories of one pattern, and later
/// stories that are not a pattern (a service's shutdown flow, a comparison).
struct StoryCatalog: Sendable {
  /// The subcommand's name (`token`).
  var command: String
  /// Other names the subcommand answers to (`task-group` for `joinset`).
  var aliases: [String] = []
  /// One line, in the root help's list and as the subcommand's overview.
  var abstract: String
  /// The subcommand's help paragraph; the list of scenarios is added after it.
  var discussion: String
  /// The knob values when the learner gives none; a catalog may pick its own (a capacity, say).
  var defaults = Knobs()
  /// In the order `--scenario all` runs them; the first is the default.
  var scenarios: [Scenario]

  func scenario(named name: String) -> Scenario? { scenarios.first { $0.name == name } }

  /// Every knob some story of this catalog reads, in `Knob` order: the subcommand's options.
  var knobs: [Knob] { Knob.allCases.filter { knob in scenarios.contains { $0.knobs.contains(knob) } } }
}

/// The knobs a learner turns. Each story reads the ones it needs; the header shows those.
struct Knobs: Sendable, Hashable {
  var workers = 3
  var shutdownAt: Duration = .seconds(1)
  var grace: Duration = .seconds(2)
  var capacity = 4
  var consumerDelay: Duration = .milliseconds(250)
  /// The service flow's load: requests per second, and how long each takes.
  var rate = 5
  var requestTime: Duration = .milliseconds(300)
  /// How long the listener keeps accepting after the signal while readiness says draining.
  var drainDelay: Duration = .seconds(3)
  /// How long a load balancer keeps sending after it should have stopped.
  var endpointLag: Duration = .seconds(2)
  /// Kubernetes: the preStop hook's sleep, and the termination grace period (counted from deletion).
  var prestop: Duration = .zero
  var terminationGrace: Duration = .seconds(30)
}

/// Names a knob, for the header line "knobs: --workers 3 --grace 2s".
enum Knob: String, Sendable, CaseIterable {
  case workers, shutdownAt = "shutdown-at", grace, capacity, consumerDelay = "consumer-delay"
  case rate, requestTime = "request-time", drainDelay = "drain-delay", endpointLag = "endpoint-lag"
  case prestop, terminationGrace = "termination-grace"

  func value(in knobs: Knobs) -> String {
    switch self {
    case .workers: "\(knobs.workers)"
    case .shutdownAt: formatDuration(knobs.shutdownAt)
    case .grace: formatDuration(knobs.grace)
    case .capacity: "\(knobs.capacity)"
    case .consumerDelay: formatDuration(knobs.consumerDelay)
    case .rate: "\(knobs.rate)"
    case .requestTime: formatDuration(knobs.requestTime)
    case .drainDelay: formatDuration(knobs.drainDelay)
    case .endpointLag: formatDuration(knobs.endpointLag)
    case .prestop: formatDuration(knobs.prestop)
    case .terminationGrace: formatDuration(knobs.terminationGrace)
    }
  }
}
