import Testing

/// `shutdown-demo token`: the promised output of every scenario, and of knobs that change the story.
@Suite struct TokenSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "basic", arguments: ["token"]),
    SnapshotCase(
      name: "basic-5-workers-grace-100ms", arguments: ["token", "--workers", "5", "--grace", "100ms"]),
    SnapshotCase(name: "basic-json", arguments: ["token", "--workers", "2", "--format", "json"]),
    SnapshotCase(name: "all", arguments: ["token", "--scenario", "all"]),
  ]

  @Test(arguments: TokenSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
