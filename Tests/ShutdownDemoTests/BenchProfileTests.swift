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

  /// W7b's counterpart must really be cancellable, or the row compares with less than it claims.
  @Test func aCancellableMailboxTakeEndsWithNilWhenItsTaskIsCancelled() async {
    let mailbox = Mailbox()
    let cancelledFirst = Task { await mailbox.takeCancellable() }
    cancelledFirst.cancel()  // most likely before the wait begins
    #expect(await cancelledFirst.value == nil)
    let parked = Task { await mailbox.takeCancellable() }
    while !mailbox.hasWaiter { await Task.yield() }
    parked.cancel()  // the wait has begun: the handler must end it
    #expect(await parked.value == nil)
    #expect(!mailbox.hasWaiter)
    mailbox.put(7)
    #expect(await mailbox.takeCancellable() == 7)
    mailbox.put(8)
    #expect(await mailbox.take() == 8)
  }
}
