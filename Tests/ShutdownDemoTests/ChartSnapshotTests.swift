import Testing

/// `--format chart`: the promised picture of one story per pattern subcommand.
@Suite struct ChartSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(
      name: "broadcast-slow-consumer",
      arguments: ["broadcast", "--scenario", "slow-consumer", "--format", "chart"]),
    SnapshotCase(name: "watch-basic", arguments: ["watch", "--format", "chart"]),
    SnapshotCase(name: "token-basic", arguments: ["token", "--format", "chart"]),
    SnapshotCase(
      name: "joinset-timeout", arguments: ["joinset", "--scenario", "timeout", "--format", "chart"]),
    SnapshotCase(name: "mpsc-drain", arguments: ["mpsc", "--scenario", "drain", "--format", "chart"]),
  ]

  @Test(arguments: ChartSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
