import Testing

@testable import shutdown_demo

/// Every scenario's invariants must hold under any legal order of the jobs ready at the same instant,
/// not only the first-in first-out order the snapshots use.
@Suite struct ExplorationTests {
  static let seedsPerScenario = 100

  @Test(arguments: DeterminismTests.everyScenario.map { "\($0.pattern) \($0.scenario)" })
  func invariantsHold_underEverySeed(_ invocation: String) throws {
    let parts = invocation.split(separator: " ").map(String.init)
    let catalog = try #require(ShutdownDemo.catalogs.first { $0.pattern == parts[0] })
    let scenario = try #require(catalog.scenario(named: parts[1]))
    let broken = ScenarioRunner.explore(
      scenario, pattern: catalog.pattern, knobs: catalog.defaults, seeds: Self.seedsPerScenario)
    #expect(broken == nil, "\(invocation): seed \(broken?.seed ?? 0) breaks \(broken?.violations ?? [])")
  }

  @Test func aSeed_reordersOnlyWhatIsReadyAtTheSameInstant_andIsReproducible() {
    let fifo = ShutdownDemo.run(arguments: ["token"]).stdout
    let seeded = ShutdownDemo.run(arguments: ["token", "--seed", "5"]).stdout
    #expect(seeded == ShutdownDemo.run(arguments: ["token", "--seed", "5"]).stdout)
    #expect(seeded != fifo)
    #expect(seeded.split(separator: "\n").sorted() == fifo.split(separator: "\n").sorted())
  }

  /// An invariant that depends on the order of two jobs ready at the same instant: FIFO keeps it,
  /// and exploring must find the smallest seed that breaks it. A check that cannot fail is a defect.
  static let orderDependent = Scenario(
    name: "order-dependent",
    headline: { _ in "first and second start at the same instant" },
    knobs: [],
    participants: { _ in [] },
    lesson: "",
    invariants: { report in
      let order = report.events.filter { $0.kind == .observe }.map(\.actor)
      return order == ["first", "second"] ? [] : ["observed in the order \(order)"]
    }
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
        of: scenario, in: ScenarioRunner.runScripted(scenario, pattern: "t", knobs: Knobs())
      ).isEmpty)
    let found = try #require(ScenarioRunner.explore(scenario, pattern: "t", knobs: Knobs(), seeds: 100))
    #expect(found.seed > 0)
    #expect(found.violations == ["observed in the order [\"second\", \"first\"]"])
    for seed in 1..<found.seed {
      let report = ScenarioRunner.runScripted(scenario, pattern: "t", knobs: Knobs(), seed: seed)
      #expect(ScenarioRunner.violations(of: scenario, in: report).isEmpty)
    }
  }

  @Test func explore_reportsSeedZero_whenTheKnobsThemselvesBreakTheStory() throws {
    var knobs = BroadcastScenarios.catalog.defaults
    knobs.grace = .milliseconds(100)
    let found = try #require(
      ScenarioRunner.explore(BroadcastScenarios.basic, pattern: "broadcast", knobs: knobs, seeds: 10))
    #expect(found.seed == 0)
  }
}
