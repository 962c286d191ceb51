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
    SnapshotCase(
      name: "explore-knob-changes-the-outcome",
      arguments: ["token", "--scenario", "timeout", "--grace", "5s", "--explore", "10"]),
    SnapshotCase(name: "unused-knob", arguments: ["token", "--scenario", "tree", "--workers", "7"]),
    SnapshotCase(name: "option-of-another-subcommand", arguments: ["token", "--capacity", "2"]),
    SnapshotCase(name: "help-alias", arguments: ["help", "task-group"]),
    SnapshotCase(name: "help-after-subcommand", arguments: ["token", "help"]),
    SnapshotCase(name: "help-help", arguments: ["help", "help"]),
    SnapshotCase(name: "seeded-run", arguments: ["token", "--workers", "2", "--seed", "3"]),
    SnapshotCase(
      name: "seeded-run-json", arguments: ["token", "--workers", "1", "--seed", "3", "--format", "json"]),
    SnapshotCase(name: "grace-0s-exits-1", arguments: ["token", "--grace", "0s"]),
    SnapshotCase(
      name: "sub-millisecond-knobs",
      arguments: ["token", "--workers", "1", "--shutdown-at", "500us", "--grace", "250us"]),
    SnapshotCase(
      name: "one-worker",
      arguments: ["broadcast", "--scenario", "slow-consumer", "--workers", "1", "--capacity", "1"]),
  ]

  @Test(arguments: CLISnapshotTests.cases)
  func snapshot(_ snapshotCase: SnapshotCase) throws {
    try Self.assertSnapshot(snapshotCase)
  }
}
