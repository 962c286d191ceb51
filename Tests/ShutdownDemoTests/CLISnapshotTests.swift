import Testing

/// Snapshots of the command line as a whole: help, version, and how bad input is refused.
@Suite struct CLISnapshotTests: SnapshotSuite {
  static let cases: [SnapshotCase] = [
    SnapshotCase(name: "no-arguments", arguments: []),
    SnapshotCase(name: "help", arguments: ["--help"]),
    SnapshotCase(name: "help-token", arguments: ["help", "token"]),
    SnapshotCase(name: "token-help-flag", arguments: ["token", "-h"]),
    SnapshotCase(name: "version", arguments: ["--version"]),
    SnapshotCase(name: "unknown-subcommand", arguments: ["tokn"]),
    SnapshotCase(name: "misspelled-option", arguments: ["token", "--wokers", "3"]),
    SnapshotCase(name: "bad-duration", arguments: ["token", "--grace", "1x"]),
    SnapshotCase(name: "negative-duration", arguments: ["token", "--grace=-1s"]),
    SnapshotCase(name: "zero-workers", arguments: ["token", "--workers", "0"]),
    SnapshotCase(name: "missing-value", arguments: ["token", "--workers"]),
    SnapshotCase(name: "explore", arguments: ["token", "--explore", "25"]),
    SnapshotCase(name: "explore-with-seed", arguments: ["token", "--explore", "5", "--seed", "2"]),
    SnapshotCase(name: "unknown-scenario", arguments: ["token", "--scenario", "basik"]),
  ]

  @Test(arguments: CLISnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
