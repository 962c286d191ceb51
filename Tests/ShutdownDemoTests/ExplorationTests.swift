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
}
