import Testing

@testable import shutdown_demo

/// `bench --profile`: one side of the chosen rows, once, untimed, so a profiler sees only that side.
/// Run in-process at `--quick` size on the smallest workload; nothing here is timed.
@Suite struct BenchProfileTests {
  @Test func runsOneSideOfEachChosenRowAndSaysHowMuchWork() {
    let (stdout, _, code) = ShutdownDemo.run(arguments: [
      "bench", "--profile", "ours", "--only", "W5a", "--quick",
    ])
    #expect(code == 0)
    #expect(stdout == "W5a ours: 10000 operations on one thread\n")
  }

  @Test func aRowWithoutCounterpartIsSkippedAndSaysSo() {
    let (stdout, _, code) = ShutdownDemo.run(arguments: [
      "bench", "--profile", "theirs", "--only", "W5a", "--quick",
    ])
    #expect(code == 0)
    #expect(stdout == "W5a theirs: no counterpart, skipped\n")
  }

  @Test func aWorkloadIDSelectsEachOfItsRowsAndARowIDOnlyItself() {
    #expect(
      BenchCommand.comparisons.filter { BenchCommand.isSelected($0, by: ["W7"]) }.map(\.id) == ["W7a", "W7b"])
    #expect(BenchCommand.comparisons.filter { BenchCommand.isSelected($0, by: ["W7b"]) }.map(\.id) == ["W7b"])
    #expect(BenchCommand.comparisons.filter { BenchCommand.isSelected($0, by: ["S"]) }.isEmpty)
  }
}
