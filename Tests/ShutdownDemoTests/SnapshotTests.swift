import Testing

/// Every snapshot suite, one line each, so the orphan check knows which files should exist.
enum SnapshotSuites {
  static let all: [(directory: String, cases: [SnapshotCase])] = [
    CLISnapshotTests.registration,
    BroadcastSnapshotTests.registration,
    WatchSnapshotTests.registration,
    TokenSnapshotTests.registration,
    JoinSetSnapshotTests.registration,
    MPSCSnapshotTests.registration,
    FlowSnapshotTests.registration,
    MermaidSnapshotTests.registration,
    ChartSnapshotTests.registration,
    SVGSnapshotTests.registration,
    CompareSnapshotTests.registration,
    PitfallSnapshotTests.registration,
  ]
}

/// Checks that `__Snapshots__` and the registered cases agree, so a forgotten or stale file fails CI.
@Suite struct SnapshotTests {
  /// `<directory>/<name>.txt` for every registered case.
  static var expectedFiles: Set<String> {
    Set(SnapshotSuites.all.flatMap { suite in suite.cases.map { "\(suite.directory)/\($0.name).txt" } })
  }

  @Test func everySnapshotFileBelongsToARegisteredCase() {
    for file in Snapshotting.filesOnDisk() where !Self.expectedFiles.contains(file) {
      recordIssue(
        "Orphaned snapshot __Snapshots__/\(file): no registered case (SnapshotSuites.all) uses it; "
          + "delete it or register its case"
      )
    }
  }

  @Test func everyRegisteredCaseHasASnapshotFile() {
    let onDisk = Set(Snapshotting.filesOnDisk())
    for file in Self.expectedFiles.sorted() where !onDisk.contains(file) {
      recordIssue(
        "Missing snapshot __Snapshots__/\(file); record it with "
          + "\(SnapshotRecordMode.variable)=missing swift test --filter Snapshot"
      )
    }
  }

  @Test func suiteDirectoriesAndCaseNamesAreUniqueAndFileSafe() {
    var directories: Set<String> = []
    for suite in SnapshotSuites.all {
      #expect(directories.insert(suite.directory).inserted, "suite \(suite.directory) is registered twice")
      var names: Set<String> = []
      for snapshotCase in suite.cases {
        #expect(Snapshotting.isValidName(snapshotCase.name), "bad case name \"\(snapshotCase.name)\"")
        #expect(
          names.insert(snapshotCase.name).inserted, "\(suite.directory) has two cases \(snapshotCase.name)")
      }
    }
  }
}
