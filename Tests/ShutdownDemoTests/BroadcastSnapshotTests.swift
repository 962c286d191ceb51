import Testing

/// `shutdown-demo broadcast`: the promised output of every scenario, and of knobs that change the story.
@Suite struct BroadcastSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "basic", arguments: ["broadcast"]),
    SnapshotCase(name: "slow-consumer", arguments: ["broadcast", "--scenario", "slow-consumer"]),
    SnapshotCase(
      name: "slow-consumer-capacity-2-delay-1s",
      arguments: ["broadcast", "--scenario", "slow-consumer", "--capacity", "2", "--consumer-delay", "1s"]),
    SnapshotCase(
      name: "slow-consumer-capacity-16",
      arguments: ["broadcast", "--scenario", "slow-consumer", "--capacity", "16"]),
    SnapshotCase(name: "timeout", arguments: ["broadcast", "--scenario", "timeout"]),
    SnapshotCase(
      name: "timeout-grace-5s", arguments: ["broadcast", "--scenario", "timeout", "--grace", "5s"]),
    SnapshotCase(name: "late-subscriber", arguments: ["broadcast", "--scenario", "late-subscriber"]),
    SnapshotCase(name: "lagged-as-closed", arguments: ["broadcast", "--scenario", "lagged-as-closed"]),
    SnapshotCase(
      name: "lagged-as-closed-capacity-8",
      arguments: ["broadcast", "--scenario", "lagged-as-closed", "--capacity", "8"]),
    SnapshotCase(name: "all", arguments: ["broadcast", "--scenario", "all"]),
    SnapshotCase(
      name: "slow-consumer-json",
      arguments: ["broadcast", "--scenario", "slow-consumer", "--workers", "2", "--format", "json"]),
    SnapshotCase(name: "capacity-0", arguments: ["broadcast", "--capacity", "0"]),
  ]

  @Test(arguments: BroadcastSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
