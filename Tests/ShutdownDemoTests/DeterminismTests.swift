import Testing

@testable import shutdown_demo

/// Scripted output must be byte-identical on every run: run each scenario many times in one
/// process (sharing caches, allocator state and hash seeds) and compare.
@Suite struct DeterminismTests {
  static var everyScenario: [(command: String, scenario: String)] {
    ShutdownDemo.catalogs.flatMap { catalog in catalog.scenarios.map { (catalog.command, $0.name) } }
  }

  @Test(arguments: DeterminismTests.everyScenario.map { "\($0.command) \($0.scenario)" })
  func scenario_printsIdenticalOutput_twentyTimes(_ invocation: String) {
    let arguments = invocation.split(separator: " ").map(String.init)
    for format in OutputFormat.allCases.map(\.rawValue) {
      let first = ShutdownDemo.run(
        arguments: arguments[...0] + ["--scenario", arguments[1], "--format", format])
      #expect(first.exitCode == 0, "\(invocation): \(first.stderr)")
      #expect(!first.stdout.isEmpty)
      for _ in 1..<20 {
        let again = ShutdownDemo.run(
          arguments: arguments[...0] + ["--scenario", arguments[1], "--format", format])
        #expect(
          again.stdout == first.stdout && again.stderr == first.stderr && again.exitCode == first.exitCode)
      }
    }
  }

  @Test func theRealToolsSpecsAreConsistent() {
    #expect(ShutdownDemo.tool.specProblems() == [])
  }
}
