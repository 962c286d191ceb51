import Patterns
import Testing

@testable import shutdown_demo

/// The scripted scenarios are ordinary async code: given the real clock and the default executor
/// instead of the simulation's, the same code runs live. Nothing here measures time; it checks
/// that the story still happens.
@Suite struct LiveModeTests {
  @Test func tokenBasic_runsOnTheRealClockAndDefaultExecutor() async {
    var knobs = Knobs()
    knobs.workers = 2
    knobs.shutdownAt = .milliseconds(20)
    let report = await ScenarioRunner.runLive(
      TokenStories.basic, command: "token", knobs: knobs, clock: ContinuousClock(),
      trigger: ScriptedSignal(at: knobs.shutdownAt))
    #expect(report.failures.isEmpty)
    #expect(report.summary.observed == ["worker-1", "worker-2"])
    #expect(report.summary.aborted.isEmpty)
    #expect(report.events.last?.detail == "every worker has stopped; exit 0")
  }
}
