import Patterns

/// One classic shutdown mistake, written twice: as a learner would write it (wrong) and fixed
/// (right). Both run in virtual time; one definition of the failure judges both, so the wrong one
/// must show it and the right one must not.
struct Pitfall: Sendable {
  /// The name on the command line (`sleep-out-grace`).
  var name: String
  /// What goes wrong, in a few words, for the list.
  var goesWrong: String
  /// One sentence of the set-up both versions share.
  var headline: String
  /// What the one number measures ("quiet at"), the column of the outcome table.
  var metric: String
  var wrong: PitfallSide
  var right: PitfallSide
  /// Why the wrong one fails and the right one does not.
  var why: String
  /// The number, read off a finished run.
  var measure: @Sendable (ScenarioReport) -> Measure
  /// The failure this pitfall is about, in words, or `nil` when the run does not show it.
  var failure: @Sendable (ScenarioReport) -> String?
  /// For a failure that only some orders show: how many schedules (seeds 0..<n) a plain run
  /// explores, and the number becomes "in k of n schedules".
  var schedules: Int? = nil
}

/// One version of a pitfall: the code a learner would write, and the story that runs it.
struct PitfallSide: Sendable {
  /// A few lines, as they would appear in a service.
  var code: [String]
  /// The run; its name is "wrong" or "right", its lesson unused.
  var story: Scenario
}

extension PitfallSide {
  /// A side whose story has the pitfall's participants and no knobs.
  init(
    _ code: [String], participants: [String] = [], expectsDeadlock: Bool = false,
    expectsLivelock: Bool = false, script: [ScriptedSignals.Delivery] = [.init(at: .seconds(1), .terminate)],
    _ run: @escaping @Sendable (ScenarioContext) async throws -> [SummaryLine]
  ) {
    self.code = code
    var story = Scenario(
      name: "", headline: { _ in "" }, knobs: [], participants: { _ in participants }, lesson: "", run: run)
    story.script = { _ in script }
    story.expectsDeadlock = expectsDeadlock
    story.expectsLivelock = expectsLivelock
    self.story = story
  }
}

/// Which version: the mistake or its fix.
enum PitfallVersion: String, Sendable, CaseIterable {
  case wrong, right

  /// "✗ wrong", "✓ right".
  var title: String { self == .wrong ? "✗ wrong" : "✓ right" }
}

/// A pitfall run both ways: the reports to draw and the verdict.
struct PitfallResult: Sendable {
  var pitfall: Pitfall
  /// The run shown for each version: seed 0, or for an explored pitfall the smallest seed that
  /// shows the failure (the wrong one) and seed 0 (the right one).
  var wrong: ScenarioReport
  var right: ScenarioReport
  var wrongValue: Measure
  var rightValue: Measure
  /// The failure each shows, in words; the wrong one must have one and the right one must not.
  var wrongFailure: String?
  var rightFailure: String?
  /// Whether the numbers count schedules (seeds) rather than measure one run.
  var explored = false

  func report(_ version: PitfallVersion) -> ScenarioReport { version == .wrong ? wrong : right }
  func value(_ version: PitfallVersion) -> Measure { version == .wrong ? wrongValue : rightValue }
  func failure(_ version: PitfallVersion) -> String? { version == .wrong ? wrongFailure : rightFailure }

  /// What keeps this result from teaching the pitfall: a wrong version that does not fail, a right
  /// one that does, or a run that broke for a reason the pitfall is not about.
  var defects: [String] {
    var defects: [String] = []
    if wrongFailure == nil { defects.append("the wrong version did not show its failure") }
    if let rightFailure { defects.append("the right version failed: \(rightFailure)") }
    for failure in wrong.failures { defects.append("the wrong version broke: \(failure)") }
    for failure in right.failures { defects.append("the right version broke: \(failure)") }
    return defects
  }

  var isSound: Bool { defects.isEmpty }
}

/// Runs pitfalls in the simulation.
enum PitfallRunner {
  /// Enough for any story here at one instant; a loop that never lets time move spends it quickly.
  static let jobBudget = 20_000

  static func run(_ pitfall: Pitfall, version: PitfallVersion, seed: UInt64 = 0) -> ScenarioReport {
    var story = version == .wrong ? pitfall.wrong.story : pitfall.right.story
    story.name = "\(pitfall.name) (\(version.rawValue))"
    story.headline = { _ in pitfall.headline }
    story.lesson = pitfall.why
    return ScenarioRunner.runScripted(
      story, command: "pitfalls", knobs: Knobs(), seed: seed, jobBudget: jobBudget)
  }

  /// Runs both versions. `schedules` overrides the pitfall's own: every version then runs under
  /// seeds 0..<schedules and the number says in how many the failure showed.
  static func run(_ pitfall: Pitfall, schedules override: Int? = nil) -> PitfallResult {
    guard let schedules = override ?? pitfall.schedules else {
      let wrong = run(pitfall, version: .wrong)
      let right = run(pitfall, version: .right)
      return PitfallResult(
        pitfall: pitfall, wrong: wrong, right: right, wrongValue: pitfall.measure(wrong),
        rightValue: pitfall.measure(right), wrongFailure: pitfall.failure(wrong),
        rightFailure: pitfall.failure(right))
    }
    func explore(_ version: PitfallVersion) -> (shown: ScenarioReport, failing: Int, failure: String?) {
      var first: (ScenarioReport, String)?
      var failing = 0
      var seedZero: ScenarioReport?
      for seed in 0..<UInt64(schedules) {
        let report = run(pitfall, version: version, seed: seed)
        if seed == 0 { seedZero = report }
        if let failure = pitfall.failure(report) {
          failing += 1
          if first == nil { first = (report, failure) }
        }
      }
      let shown = version == .wrong ? (first?.0 ?? seedZero!) : seedZero!
      return (shown, failing, first.map { "\($0.1) (in \(failing) of \(schedules) schedules)" })
    }
    let wrong = explore(.wrong)
    let right = explore(.right)
    let label = "schedules"
    return PitfallResult(
      pitfall: pitfall, wrong: wrong.shown, right: right.shown,
      wrongValue: .text("\(wrong.failing) of \(schedules) \(label)"),
      rightValue: .text("\(right.failing) of \(schedules) \(label)"),
      wrongFailure: wrong.failure, rightFailure: right.failure, explored: true)
  }
}
