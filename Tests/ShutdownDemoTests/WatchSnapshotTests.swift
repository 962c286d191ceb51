import Testing

/// `shutdown-demo watch`: the promised output of every scenario, and of knobs that change the story.
@Suite struct WatchSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "basic", arguments: ["watch"]),
    SnapshotCase(name: "basic-5-workers", arguments: ["watch", "--workers", "5"]),
    SnapshotCase(name: "slow-consumer", arguments: ["watch", "--scenario", "slow-consumer"]),
    SnapshotCase(
      name: "slow-consumer-delay-450ms",
      arguments: ["watch", "--scenario", "slow-consumer", "--consumer-delay", "450ms"]),
    SnapshotCase(name: "timeout", arguments: ["watch", "--scenario", "timeout"]),
    SnapshotCase(
      name: "timeout-grace-100ms", arguments: ["watch", "--scenario", "timeout", "--grace", "100ms"]),
    SnapshotCase(name: "late-subscriber", arguments: ["watch", "--scenario", "late-subscriber"]),
    SnapshotCase(
      name: "late-subscriber-1-worker",
      arguments: ["watch", "--scenario", "late-subscriber", "--workers", "1"]),
    SnapshotCase(name: "busy-loop", arguments: ["watch", "--scenario", "busy-loop"]),
    SnapshotCase(name: "all", arguments: ["watch", "--scenario", "all"]),
    SnapshotCase(name: "basic-json", arguments: ["watch", "--workers", "2", "--format", "json"]),
  ]

  @Test(arguments: WatchSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
