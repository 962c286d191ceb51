import Testing

/// `shutdown-demo token`: the promised output of every scenario, and of knobs that change the story.
@Suite struct TokenSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "basic", arguments: ["token"]),
    SnapshotCase(
      name: "basic-5-workers-grace-100ms", arguments: ["token", "--workers", "5", "--grace", "100ms"]),
    SnapshotCase(name: "basic-json", arguments: ["token", "--workers", "2", "--format", "json"]),
    SnapshotCase(name: "all", arguments: ["token", "--scenario", "all"]),
    SnapshotCase(name: "tree", arguments: ["token", "--scenario", "tree"]),
    SnapshotCase(name: "not-propagated", arguments: ["token", "--scenario", "not-propagated"]),
    SnapshotCase(
      name: "not-propagated-grace-500ms",
      arguments: ["token", "--scenario", "not-propagated", "--grace", "500ms"]),
    SnapshotCase(name: "timeout", arguments: ["token", "--scenario", "timeout"]),
    SnapshotCase(name: "timeout-grace-5s", arguments: ["token", "--scenario", "timeout", "--grace", "5s"]),
    SnapshotCase(name: "drop-guard", arguments: ["token", "--scenario", "drop-guard"]),
    SnapshotCase(
      name: "drop-guard-json",
      arguments: ["token", "--scenario", "drop-guard", "--workers", "1", "--format", "json"]),
  ]

  @Test(arguments: TokenSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
