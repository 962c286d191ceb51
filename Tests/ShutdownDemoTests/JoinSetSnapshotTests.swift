import Testing

/// `shutdown-demo joinset` (alias `task-group`): every scenario, knobs that change the story, the alias.
@Suite struct JoinSetSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "basic", arguments: ["joinset"]),
    SnapshotCase(name: "basic-5-workers", arguments: ["joinset", "--workers", "5"]),
    SnapshotCase(name: "timeout", arguments: ["joinset", "--scenario", "timeout"]),
    SnapshotCase(name: "timeout-grace-4s", arguments: ["joinset", "--scenario", "timeout", "--grace", "4s"]),
    SnapshotCase(name: "failure", arguments: ["joinset", "--scenario", "failure"]),
    SnapshotCase(name: "forgot-to-await", arguments: ["joinset", "--scenario", "forgot-to-await"]),
    SnapshotCase(name: "tracker", arguments: ["joinset", "--scenario", "tracker"]),
    SnapshotCase(name: "task-group", arguments: ["joinset", "--scenario", "task-group"]),
    SnapshotCase(
      name: "alias-task-group", arguments: ["task-group", "--scenario", "task-group", "--grace", "500ms"]),
    SnapshotCase(name: "all", arguments: ["joinset", "--scenario", "all"]),
    SnapshotCase(name: "help", arguments: ["joinset", "--help"]),
    SnapshotCase(name: "unknown-scenario", arguments: ["task-group", "--scenario", "taskgroup"]),
  ]

  @Test(arguments: JoinSetSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
