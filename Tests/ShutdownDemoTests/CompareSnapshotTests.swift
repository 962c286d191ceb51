import Testing

/// `shutdown-demo compare`: the promised table of every workload, as text, markdown and json; the
/// knobs that show each pattern's weakness; and each picture format of one workload.
@Suite struct CompareSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "basic", arguments: ["compare"]),
    SnapshotCase(name: "slow-consumer", arguments: ["compare", "--scenario", "slow-consumer"]),
    SnapshotCase(name: "timeout", arguments: ["compare", "--scenario", "timeout"]),
    SnapshotCase(name: "basic-markdown", arguments: ["compare", "--format", "markdown"]),
    SnapshotCase(
      name: "slow-consumer-markdown",
      arguments: ["compare", "--scenario", "slow-consumer", "--format", "markdown"]),
    SnapshotCase(
      name: "timeout-markdown", arguments: ["compare", "--scenario", "timeout", "--format", "markdown"]),
    SnapshotCase(name: "all-json", arguments: ["compare", "--scenario", "all", "--format", "json"]),
    SnapshotCase(
      name: "slow-consumer-capacity-2-delay-400ms",
      arguments: ["compare", "--scenario", "slow-consumer", "--capacity", "2", "--consumer-delay", "400ms"]),
    SnapshotCase(name: "timeout-grace-5s", arguments: ["compare", "--scenario", "timeout", "--grace", "5s"]),
    SnapshotCase(
      name: "slow-consumer-mermaid",
      arguments: ["compare", "--scenario", "slow-consumer", "--format", "mermaid"]),
    SnapshotCase(
      name: "slow-consumer-chart", arguments: ["compare", "--scenario", "slow-consumer", "--format", "chart"]),
    SnapshotCase(name: "timeout-svg", arguments: ["compare", "--scenario", "timeout", "--format", "svg"]),
    SnapshotCase(name: "explore", arguments: ["compare", "--scenario", "all", "--explore", "20"]),
    SnapshotCase(name: "help", arguments: ["compare", "--help"]),
  ]

  @Test(arguments: CompareSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
