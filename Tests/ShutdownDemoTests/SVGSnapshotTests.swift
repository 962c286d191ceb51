import Testing

/// `--format svg`: the promised picture of one story per pattern subcommand.
@Suite struct SVGSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(
      name: "broadcast-slow-consumer",
      arguments: ["broadcast", "--scenario", "slow-consumer", "--format", "svg"]),
    SnapshotCase(name: "watch-basic", arguments: ["watch", "--format", "svg"]),
    SnapshotCase(name: "token-basic", arguments: ["token", "--format", "svg"]),
    SnapshotCase(
      name: "joinset-timeout", arguments: ["joinset", "--scenario", "timeout", "--format", "svg"]),
    SnapshotCase(name: "mpsc-drain", arguments: ["mpsc", "--scenario", "drain", "--format", "svg"]),
  ]

  @Test(arguments: SVGSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
