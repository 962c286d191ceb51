import Testing

/// `shutdown-demo flow`: the promised output of every scenario, and of the knobs that change its outcome.
@Suite struct FlowSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "basic", arguments: ["flow"]),
    SnapshotCase(name: "basic-json", arguments: ["flow", "--format", "json"]),
    SnapshotCase(name: "naive", arguments: ["flow", "--scenario", "naive"]),
    SnapshotCase(name: "slow-request", arguments: ["flow", "--scenario", "slow-request"]),
    SnapshotCase(
      name: "slow-request-grace-10s", arguments: ["flow", "--scenario", "slow-request", "--grace", "10s"]),
    SnapshotCase(name: "second-signal", arguments: ["flow", "--scenario", "second-signal"]),
    SnapshotCase(name: "cleanup-failure", arguments: ["flow", "--scenario", "cleanup-failure"]),
    SnapshotCase(name: "k8s", arguments: ["flow", "--scenario", "k8s"]),
    SnapshotCase(name: "k8s-prestop-3s", arguments: ["flow", "--scenario", "k8s", "--prestop", "3s"]),
    SnapshotCase(
      name: "k8s-prestop-3s-termination-grace-4s",
      arguments: ["flow", "--scenario", "k8s", "--prestop", "3s", "--termination-grace", "4s"]),
    SnapshotCase(name: "drain-delay", arguments: ["flow", "--scenario", "drain-delay"]),
    SnapshotCase(
      name: "drain-delay-0s", arguments: ["flow", "--scenario", "drain-delay", "--drain-delay", "0s"]),
    SnapshotCase(name: "reload", arguments: ["flow", "--scenario", "reload"]),
    SnapshotCase(name: "restart", arguments: ["flow", "--scenario", "restart"]),
    SnapshotCase(
      name: "basic-request-time-2s", arguments: ["flow", "--request-time", "2s", "--grace", "1s"]),
    SnapshotCase(name: "help", arguments: ["flow", "--help"]),
  ]

  @Test(arguments: FlowSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
