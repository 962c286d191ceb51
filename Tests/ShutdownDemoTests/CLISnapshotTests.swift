import Testing

/// Snapshots of the command line as a whole. These cases fit the current skeleton binary; replace them
/// when the real CLI lands.
@Suite struct CLISnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "no-arguments", arguments: []),
    SnapshotCase(name: "help", arguments: ["--help"]),
  ]

  @Test(arguments: CLISnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
