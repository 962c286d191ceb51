import Testing

/// `shutdown-demo mpsc`: the promised output of every scenario, and of knobs that change the story.
@Suite struct MPSCSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "basic", arguments: ["mpsc"]),
    SnapshotCase(name: "basic-5-workers", arguments: ["mpsc", "--workers", "5"]),
    SnapshotCase(name: "forgot-drop", arguments: ["mpsc", "--scenario", "forgot-drop"]),
    SnapshotCase(name: "backpressure", arguments: ["mpsc", "--scenario", "backpressure"]),
    SnapshotCase(
      name: "backpressure-capacity-1", arguments: ["mpsc", "--scenario", "backpressure", "--capacity", "1"]),
    SnapshotCase(
      name: "backpressure-fast-consumer",
      arguments: ["mpsc", "--scenario", "backpressure", "--consumer-delay", "40ms"]),
    SnapshotCase(name: "drain", arguments: ["mpsc", "--scenario", "drain"]),
    SnapshotCase(
      name: "drain-slow-consumer", arguments: ["mpsc", "--scenario", "drain", "--consumer-delay", "600ms"]),
    SnapshotCase(name: "close-then-drain", arguments: ["mpsc", "--scenario", "close-then-drain"]),
    SnapshotCase(name: "timeout", arguments: ["mpsc", "--scenario", "timeout"]),
    SnapshotCase(name: "timeout-grace-5s", arguments: ["mpsc", "--scenario", "timeout", "--grace", "5s"]),
    SnapshotCase(
      name: "forgot-drop-json",
      arguments: ["mpsc", "--scenario", "forgot-drop", "--workers", "1", "--format", "json"]),
    SnapshotCase(name: "all", arguments: ["mpsc", "--scenario", "all"]),
    SnapshotCase(name: "bad-capacity", arguments: ["mpsc", "--capacity", "0"]),
  ]

  @Test(arguments: MPSCSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
