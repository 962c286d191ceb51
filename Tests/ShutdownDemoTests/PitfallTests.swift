import Testing

@testable import shutdown_demo

/// What the pitfall catalogue promises: every wrong version shows its failure and every right one
/// is clean, the racy drain hangs only in some schedules, and bad input is a usage error.
@Suite struct PitfallTests {
  @Test func theCatalogueHasAtLeast14Pitfalls_withUniqueNames() {
    let names = PitfallCatalog.all.map(\.name)
    #expect(names.count >= 14)
    #expect(Set(names).count == names.count)
    #expect(!names.contains("all"))
  }

  @Test(arguments: PitfallCatalog.all.map(\.name))
  func wrongShowsItsFailure_andRightIsClean(_ name: String) throws {
    let pitfall = try #require(PitfallCatalog.pitfall(named: name))
    let result = PitfallRunner.run(pitfall)
    #expect(result.wrongFailure != nil, "\(name): the wrong version did not fail")
    #expect(result.rightFailure == nil, "\(name): the right version failed: \(result.rightFailure ?? "")")
    #expect(result.defects.isEmpty, "\(name): \(result.defects)")
    #expect(result.wrongValue != result.rightValue, "\(name): the number does not tell them apart")
  }

  @Test func everyPitfallRunsTheSameEveryTime() throws {
    let first = ShutdownDemo.run(arguments: ["pitfalls", "all"])
    #expect(first.exitCode == 0)
    #expect(first.stdout == ShutdownDemo.run(arguments: ["pitfalls", "all"]).stdout)
  }

  @Test func racyDrain_hangsInSomeSchedulesButNotAll_andTheTrackerNeverHangs() throws {
    let result = PitfallRunner.run(DrainPitfalls.racyDrain, schedules: 200)
    var hung = 0
    for seed in 0..<UInt64(200) {
      let wrong = PitfallRunner.run(DrainPitfalls.racyDrain, version: .wrong, seed: seed)
      if !wrong.deadlocks.isEmpty {
        hung += 1
        #expect(wrong.deadlocks.first == "deadlock: main waits on notified; 0 connections active")
      }
      let right = PitfallRunner.run(DrainPitfalls.racyDrain, version: .right, seed: seed)
      #expect(right.deadlocks.isEmpty, "seed \(seed): the ConnectionTracker drain hung")
      #expect(right.failures.isEmpty)
    }
    #expect(hung > 0 && hung < 200, "the race must depend on the schedule: \(hung) of 200 hung")
    #expect(result.wrongValue == .text("\(hung) of 200 schedules"))
    #expect(result.rightValue == .text("0 of 200 schedules"))
  }

  @Test func exitCodeIsOne_whenAWrongVersionDoesNotShowItsFailure() {
    var broken = DeadlinePitfalls.sleepOutGrace
    broken.wrong = broken.right  // a "mistake" that is the fix: a defect of the catalogue
    let result = PitfallRunner.run(broken)
    #expect(!result.isSound)
    #expect(result.defects == ["the wrong version did not show its failure"])
  }

  @Test func twoColumns_onAWideTerminal_oneAfterTheOther_onANarrowOne() {
    let wide = ShutdownDemo.run(
      arguments: ["pitfalls", "sleep-out-grace"], environment: ["NO_COLOR": "1", "COLUMNS": "170"])
    #expect(wide.stdout.contains("✗ wrong") && wide.stdout.contains(" | ✓ right"))
    #expect(wide.stdout.split(separator: "\n").allSatisfy { $0.count <= 170 })
    let narrow = ShutdownDemo.run(arguments: ["pitfalls", "sleep-out-grace"])
    #expect(!narrow.stdout.contains(" | "))
    #expect(narrow.stdout.contains("\n✓ right\n"))
  }

  @Test(arguments: [
    (["pitfalls", "sleep-out-grac"], "Unknown pitfall 'sleep-out-grac'. Did you mean 'sleep-out-grace'?"),
    (["pitfalls", "nonsense-name"], "Unknown pitfall 'nonsense-name'."),
    (["pitfalls", "racy-drain", "extra"], "Unexpected argument 'extra'"),
    (["pitfalls", "--format", "json"], "the list prints text only"),
    (["pitfalls", "racy-drain", "--explore", "0"], "--explore"),
    (["pitfalls", "racy-drain", "--format", "pdf"], "--format"),
  ])
  func badInput_isOneErrorLineAndUsage_exit64(_ arguments: [String], _ message: String) {
    let run = ShutdownDemo.run(arguments: arguments)
    #expect(run.exitCode == 64)
    #expect(run.stdout.isEmpty)
    let lines = run.stderr.split(separator: "\n")
    #expect(lines.first?.hasPrefix("Error: ") == true)
    #expect(lines.first?.contains(message) == true, "\(run.stderr)")
    #expect(run.stderr.contains("Usage: shutdown-demo pitfalls"))
  }
}
