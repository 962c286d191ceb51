import Testing

@testable import shutdown_demo

/// `shutdown-demo pitfalls`: the promised list, every pitfall's text, and each picture format.
@Suite struct PitfallSnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] =
    [SnapshotCase(name: "list", arguments: ["pitfalls"])]
    + PitfallCatalog.all.map { SnapshotCase(name: $0.name, arguments: ["pitfalls", $0.name]) }
    + ["json", "mermaid", "chart", "svg"].map {
      SnapshotCase(name: "sleep-out-grace-\($0)", arguments: ["pitfalls", "sleep-out-grace", "--format", $0])
    }
    + [
      SnapshotCase(name: "racy-drain-explore-50", arguments: ["pitfalls", "racy-drain", "--explore", "50"]),
      SnapshotCase(name: "unknown-name", arguments: ["pitfalls", "sleep-out-grac"]),
    ]

  @Test(arguments: PitfallSnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
