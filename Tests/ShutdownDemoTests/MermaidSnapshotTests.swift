import Testing

/// `--format mermaid`: the promised picture of one story per pattern subcommand.
@Suite struct MermaidSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(
      name: "broadcast-slow-consumer",
      arguments: ["broadcast", "--scenario", "slow-consumer", "--format", "mermaid"]),
    SnapshotCase(name: "watch-basic", arguments: ["watch", "--format", "mermaid"]),
    SnapshotCase(name: "token-basic", arguments: ["token", "--format", "mermaid"]),
    SnapshotCase(
      name: "joinset-timeout", arguments: ["joinset", "--scenario", "timeout", "--format", "mermaid"]),
    SnapshotCase(name: "mpsc-drain", arguments: ["mpsc", "--scenario", "drain", "--format", "mermaid"]),
  ]

  @Test(arguments: MermaidSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
