import Patterns
import Synchronization

/// A finished story: everything a renderer needs, and nothing it has to decide.
struct ScenarioReport: Sendable {
  /// The subcommand that ran it (`token`).
  var command: String
  var scenario: String
  var headline: String
  /// Every knob's value in this run, and which of them the story reads (the header shows those).
  var knobs: Knobs
  var shownKnobs: [Knob]
  /// The order of simultaneous jobs: 0 is first-in first-out.
  var seed: UInt64
  var events: [TimelineEvent]
  var summary: TimelineSummary
  /// Whether the story waits under a grace deadline, so "aborted at the deadline" means something.
  var hasGraceDeadline: Bool
  /// Who aborted the unfinished work when the deadline did not (a repeated signal).
  var abortedBy: String? = nil
  /// The story's own measured lines.
  var measured: [SummaryLine]
  var lesson: String
  /// Problems that make the run a real failure (exit 1): an unexpected deadlock, an error thrown,
  /// a job from another thread in a scripted run.
  var failures: [String]
  /// Tasks still running when the story's main task returned.
  var leftovers: [String]
  /// Every deadlock the simulation found, in words, in order.
  var deadlocks: [String] = []
  /// The livelock that stopped the run, in words, if one did.
  var livelock: String? = nil

  /// The measured value labelled `label`, if the story measured it.
  func measure(_ label: String) -> Measure? { measured.first { $0.label == label }?.value }

  /// The header's knobs, as `--name value` pairs.
  var knobArguments: [(name: String, value: String)] {
    shownKnobs.map { (name: $0.rawValue, value: $0.value(in: knobs)) }
  }
}

/// Runs stories, scripted (virtual time, deterministic) or live (real clock).
enum ScenarioRunner {
  /// Runs `scenario` in the simulation: byte-identical output on every run.
  /// - Parameter jobBudget: jobs that may run at one instant before the run is stopped as a
  ///   livelock (see `Simulation.run`); `nil` for no limit.
  static func runScripted(
    _ scenario: Scenario, command: String, knobs: Knobs, seed: UInt64 = 0, jobBudget: Int? = nil
  ) -> ScenarioReport {
    let timelineBox = TimelineBox()
    let notes = StoryNotes()
    let trigger = ScriptedSignal(script: scenario.script(knobs))
    let result = Simulation.run(
      seed: seed,
      onDeadlock: { report in timelineBox.timeline?.record("simulation", .error, report.description) },
      jobBudget: jobBudget,
      onLivelock: { report in timelineBox.timeline?.record("simulation", .error, report.description) }
    ) { clock in
      let timeline = Timeline(clock: clock)
      timelineBox.timeline = timeline
      let context = ScenarioContext(
        clock: clock, timeline: timeline, knobs: knobs, trigger: trigger, notes: notes)
      return try await scenario.run(context)
    }
    var failures: [String] = []
    var measured: [SummaryLine] = []
    switch result.value {
    case .success(let lines): measured = lines
    case .failure(let error): failures.append("the scenario threw: \(error)")
    case nil:
      if result.livelock == nil || !scenario.expectsLivelock {
        failures.append("the scenario never finished")
      }
    }
    if let livelock = result.livelock, !scenario.expectsLivelock {
      failures.append("unexpected \(livelock)")
    }
    if !result.deadlocks.isEmpty, !scenario.expectsDeadlock {
      failures.append("unexpected \(result.deadlocks[0])")
    }
    if result.foreignEnqueues > 0 {
      failures.append("\(result.foreignEnqueues) job(s) arrived from another thread during a scripted run")
    }
    let leftovers = result.leftovers.map(\.task)
    if !leftovers.isEmpty {
      measured.append(SummaryLine("still running when main returned", .names(leftovers)))
    }
    var finished = report(
      scenario, command: command, knobs: knobs, seed: seed, events: timelineBox.timeline?.events ?? [],
      measured: measured, failures: failures, leftovers: leftovers)
    finished.abortedBy = notes.abortedBy
    finished.deadlocks = result.deadlocks.map(\.description)
    finished.livelock = result.livelock?.description
    return finished
  }

  /// What breaks a run under any order: its failures, the facts every summary must keep, and the
  /// story's own invariants. `includingOutcome` adds the facts of the default story.
  static func violations(
    of scenario: Scenario, in report: ScenarioReport, includingOutcome: Bool = false
  ) -> [String] {
    checks(of: scenario, includingOutcome: includingOutcome).compactMap { $0.check(report) }
  }

  /// The checks `violations` makes, in order.
  static func checks(of scenario: Scenario, includingOutcome: Bool = false) -> [Invariant] {
    Invariant.always + scenario.invariants + (includingOutcome ? scenario.outcome : [])
  }

  /// Runs `scenario` under seeds 0…`seeds` (each a different, reproducible order of the jobs ready
  /// at the same instant) and returns the first seed whose run breaks an invariant, with that run.
  /// `progress` hears of each seed done.
  static func explore(
    _ scenario: Scenario, command: String, knobs: Knobs, seeds: Int, includingOutcome: Bool = false,
    progress: (_ done: Int) -> Void = { _ in }
  ) -> (seed: UInt64, report: ScenarioReport, violations: [String])? {
    for seed in 0...UInt64(max(seeds, 1)) {
      let report = runScripted(scenario, command: command, knobs: knobs, seed: seed)
      let violations = violations(of: scenario, in: report, includingOutcome: includingOutcome)
      if !violations.isEmpty { return (seed, report, violations) }
      progress(Int(seed))
    }
    return nil
  }

  /// Runs `scenario` on the default executor with the clock and signal it is given (a live run
  /// passes the continuous clock and a real signal): the same code as a scripted run, in real time.
  static func runLive(
    _ scenario: Scenario, command: String, knobs: Knobs, clock: some Clock<Duration>,
    trigger: any StorySignal, timeline: Timeline? = nil
  ) async -> ScenarioReport {
    let timeline = timeline ?? Timeline(clock: clock)
    let context = ScenarioContext(
      clock: clock, timeline: timeline, knobs: knobs, trigger: trigger, realTime: true)
    var failures: [String] = []
    var measured: [SummaryLine] = []
    do {
      measured = try await scenario.run(context)
    } catch is CancellationError where Task.isCancelled {
      // The run stopped the story on purpose (a repeated signal): its summary still follows.
    } catch {
      failures.append("the scenario threw: \(error)")
    }
    var finished = report(
      scenario, command: command, knobs: knobs, seed: 0, events: timeline.events, measured: measured,
      failures: failures, leftovers: [])
    finished.abortedBy = context.notes.abortedBy
    return finished
  }

  /// The report of `scenario` with these events and results; with none, what a live run's header shows
  /// before anything has happened.
  static func report(
    _ scenario: Scenario, command: String, knobs: Knobs, seed: UInt64 = 0, events: [TimelineEvent] = [],
    measured: [SummaryLine] = [], failures: [String] = [], leftovers: [String] = []
  ) -> ScenarioReport {
    ScenarioReport(
      command: command,
      scenario: scenario.name,
      headline: scenario.headline(knobs),
      knobs: knobs,
      shownKnobs: scenario.knobs,
      seed: seed,
      events: events,
      summary: TimelineSummary(events: events, participants: scenario.participants(knobs)),
      hasGraceDeadline: scenario.knobs.contains(.grace),
      measured: measured,
      lesson: scenario.lesson,
      failures: failures,
      leftovers: leftovers)
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
