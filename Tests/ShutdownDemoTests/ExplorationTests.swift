import Testing

@testable import shutdown_demo

/// Every scenario's invariants must hold under any legal order of the jobs ready at the same instant,
/// not only the first-in first-out order the snapshots use.
@Suite struct ExplorationTests {
  static let seedsPerScenario = 100

  /// At the default knobs, the story's outcome holds in every order too, not only its invariants.
  @Test(arguments: DeterminismTests.everyScenario.map { "\($0.command) \($0.scenario)" })
  func invariantsAndOutcomeHold_underEverySeed_atTheDefaults(_ invocation: String) throws {
    let parts = invocation.split(separator: " ").map(String.init)
    let catalog = try #require(ShutdownDemo.catalogs.first { $0.command == parts[0] })
    let scenario = try #require(catalog.scenario(named: parts[1]))
    let broken = ScenarioRunner.explore(
      scenario, command: catalog.command, knobs: catalog.defaults, seeds: Self.seedsPerScenario,
      includingOutcome: true)
    #expect(broken == nil, "\(invocation): seed \(broken?.seed ?? 0) breaks \(broken?.violations ?? [])")
  }

  @Test func aSeed_reordersOnlyWhatIsReadyAtTheSameInstant_andIsReproducible() {
    let fifo = ShutdownDemo.run(arguments: ["token"]).stdout
    let seeded = ShutdownDemo.run(arguments: ["token", "--seed", "5"]).stdout
    #expect(seeded == ShutdownDemo.run(arguments: ["token", "--seed", "5"]).stdout)
    #expect(seeded != fifo)
    // The same lines in another order; only the header's knobs line differs, and it records the seed.
    let lines = { (text: String) in text.split(separator: "\n").filter { !$0.hasPrefix("knobs:") }.sorted() }
    #expect(lines(seeded) == lines(fifo))
    #expect(seeded.contains("knobs: --workers 3  --shutdown-at 1s  --grace 2s  --seed 5\n"))
  }

  /// An invariant that depends on the order of two jobs ready at the same instant: FIFO keeps it,
  /// and exploring must find the smallest seed that breaks it. A check that cannot fail is a defect.
  static let orderDependent = Scenario(
    name: "order-dependent",
    headline: { _ in "first and second start at the same instant" },
    knobs: [],
    participants: { _ in [] },
    lesson: "",
    invariants: [
      Invariant(what: "first observes before second") { report in
        let order = report.events.filter { $0.kind == .observe }.map(\.actor)
        return order == ["first", "second"] ? nil : "observed in the order \(order.joined(separator: ", "))"
      }
    ]
  ) { context in
    await withTaskGroup(of: Void.self) { group in
      for name in ["first", "second"] {
        group.addTask { context.record(name, .observe, "ran") }
      }
    }
    return []
  }

  @Test func explore_findsTheSmallestSeedThatBreaksAnOrderDependentInvariant() throws {
    let scenario = Self.orderDependent
    #expect(
      ScenarioRunner.violations(
        of: scenario, in: ScenarioRunner.runScripted(scenario, command: "t", knobs: Knobs())
      ).isEmpty)
    let found = try #require(ScenarioRunner.explore(scenario, command: "t", knobs: Knobs(), seeds: 100))
    #expect(found.seed > 0)
    #expect(found.violations == ["observed in the order second, first"])
    for seed in 1..<found.seed {
      let report = ScenarioRunner.runScripted(scenario, command: "t", knobs: Knobs(), seed: seed)
      #expect(ScenarioRunner.violations(of: scenario, in: report).isEmpty)
    }
  }

  /// A knob that changes the story on purpose (a grace shorter than a job aborts workers) is not a
  /// broken ordering: the invariants still hold, only the default outcome does not.
  @Test func explore_passes_whenAKnobChangesTheOutcomeButNothingUnsafeHappens() throws {
    var knobs = BroadcastStories.catalog.defaults
    knobs.grace = .milliseconds(100)
    let scenario = BroadcastStories.basic
    #expect(ScenarioRunner.explore(scenario, command: "broadcast", knobs: knobs, seeds: 10) == nil)
    let report = ScenarioRunner.runScripted(scenario, command: "broadcast", knobs: knobs)
    #expect(!ScenarioRunner.violations(of: scenario, in: report, includingOutcome: true).isEmpty)
  }

  /// An invariant broken in every order is reported at seed 0, the plain run.
  @Test func explore_reportsSeedZero_whenTheFirstInFirstOutOrderAlreadyBreaksAnInvariant() throws {
    var scenario = Self.orderDependent
    scenario.invariants = [Invariant(what: "never holds") { _ in "broken in every order" }]
    let found = try #require(ScenarioRunner.explore(scenario, command: "t", knobs: Knobs(), seeds: 10))
    #expect(found.seed == 0)
    #expect(found.violations == ["broken in every order"])
  }
}
