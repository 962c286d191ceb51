import Foundation
import Testing

/// One run of the binary whose exact output is pinned in `__Snapshots__/<suite>/<name>.txt`.
struct SnapshotCase: Sendable, Hashable, Codable, CustomTestStringConvertible {
  /// The file name without `.txt`: letters, digits, `.`, `_` and `-`, unique within its suite.
  let name: String
  /// The arguments after `shutdown-demo`.
  let arguments: [String]

  init(name: String, arguments: [String]) {
    self.name = name
    self.arguments = arguments
  }

  var testDescription: String { name }
}

/// A type holding one pattern's snapshot cases. Its snapshots live in a directory named after the type
/// (which is also its file's name), as swift-snapshot-testing names them after the test file.
protocol SnapshotSuite {
  static var cases: [SnapshotCase] { get }
}

extension SnapshotSuite {
  /// The directory under `__Snapshots__` holding this suite's files.
  static var directory: String { String(describing: Self.self) }

  /// This suite's entry in `SnapshotSuites.all`.
  static var registration: (directory: String, cases: [SnapshotCase]) { (directory, cases) }

  /// Runs `snapshotCase` and compares it with (or records) its snapshot file.
  static func assertSnapshot(_ snapshotCase: SnapshotCase, sourceLocation: SourceLocation = #_sourceLocation)
    throws
  {
    try Snapshotting.assert(snapshotCase, directory: directory, sourceLocation: sourceLocation)
  }
}

/// When snapshot files may be written, named as in swift-snapshot-testing's `SNAPSHOT_TESTING_RECORD`.
enum SnapshotRecordMode: String, CaseIterable, Sendable {
  /// Write nothing; a missing snapshot fails the test (the default).
  case never
  /// Write snapshots that do not exist yet.
  case missing
  /// Write snapshots that do not exist or do not match.
  case failed
  /// Write every snapshot.
  case all

  static let variable = "SNAPSHOT_TESTING_RECORD"

  /// The mode `environment` asks for; unset or empty means `.never`.
  init(environment: [String: String]) throws {
    let value = environment[Self.variable] ?? ""
    if value.isEmpty {
      self = .never
      return
    }
    guard let mode = Self(rawValue: value) else {
      let names = Self.allCases.map(\.rawValue).joined(separator: ", ")
      throw SnapshotError(description: "\(Self.variable)=\(value) is not one of: \(names)")
    }
    self = mode
  }
}

/// A snapshot problem that is not a mismatch (bad configuration, refused recording).
struct SnapshotError: Error, CustomStringConvertible {
  let description: String
}

/// The snapshot file format and the compare-or-record step.
enum Snapshotting {
  /// Ends a section whose output does not end in a newline, like diff's marker, so that "a" and "a\n"
  /// produce different files.
  static let noNewlineMarker = "\\ No newline at end of output"

  /// The snapshot file for a run:
  ///
  ///     $ shutdown-demo <arguments, shell-quoted>
  ///     ? <exit code>
  ///     --- stdout
  ///     <stdout>
  ///     --- stderr
  ///     <stderr>
  ///
  /// A section's text is written as is; empty output writes no lines; output that does not end in `\n`
  /// is followed by a newline and `noNewlineMarker`. The file therefore always ends in `\n`.
  static func render(arguments: [String], output: BinaryRunner.Output) -> String {
    "$ " + ShellWords.quote(["shutdown-demo"] + arguments) + "\n"
      + "? \(output.exitCode)\n"
      + "--- stdout\n" + section(output.stdout)
      + "--- stderr\n" + section(output.stderr)
  }

  private static func section(_ text: String) -> String {
    if text.isEmpty || text.utf8.last == UInt8(ascii: "\n") { return text }
    return text + "\n" + noNewlineMarker + "\n"
  }

  /// Whether the environment says this is CI, where snapshots are checked but never written.
  static func isCI(_ environment: [String: String]) -> Bool {
    guard let value = environment["CI"]?.lowercased() else { return false }
    return !["", "0", "false", "no"].contains(value)
  }

  /// The file holding `name`'s snapshot in `directory`.
  static func file(directory: String, name: String) -> URL {
    PackagePaths.snapshots.appendingPathComponent(directory).appendingPathComponent(name + ".txt")
  }

  /// Runs the case, then compares with or records its snapshot according to `SNAPSHOT_TESTING_RECORD`.
  /// Recording a new or changed file fails the test ("recorded, re-run"), as swift-snapshot-testing does,
  /// so a recording run can never be mistaken for a passing one.
  static func assert(
    _ snapshotCase: SnapshotCase,
    directory: String,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    sourceLocation: SourceLocation
  ) throws {
    let mode = try SnapshotRecordMode(environment: environment)
    if mode != .never && isCI(environment) {
      throw SnapshotError(
        description: "CI never records snapshots: unset \(SnapshotRecordMode.variable) "
          + "(it is \(mode.rawValue)), record locally and commit the files"
      )
    }
    let output = try BinaryRunner.run(snapshotCase.arguments)
    let actual = render(arguments: snapshotCase.arguments, output: output)
    let url = file(directory: directory, name: snapshotCase.name)
    let path = PackagePaths.relative(url)
    let rerun = "swift test --filter \(directory)"

    guard let recordedData = FileManager.default.contents(atPath: url.path) else {
      guard mode != .never else {
        recordIssue(
          "No snapshot at \(path). After checking the output below, record it with:\n"
            + "  \(SnapshotRecordMode.variable)=missing \(rerun)\n\n\(actual)",
          sourceLocation: sourceLocation
        )
        return
      }
      try write(actual, to: url)
      recordIssue(
        "Recorded new snapshot \(path); review it, then re-run the tests:\n\n\(actual)",
        sourceLocation: sourceLocation
      )
      return
    }
    // Bytes, not String ==, which would treat canonically equivalent Unicode as equal.
    if recordedData == Data(actual.utf8) { return }
    let recorded = String(decoding: recordedData, as: UTF8.self)
    let diff = LineDiff.unified(old: recorded, new: actual, oldName: path, newName: "actual output")
    if mode == .failed || mode == .all {
      try write(actual, to: url)
      recordIssue(
        "Re-recorded snapshot \(path); read this diff, then re-run the tests:\n\(diff)",
        sourceLocation: sourceLocation
      )
    } else {
      recordIssue(
        "Snapshot \(path) does not match (- recorded, + actual):\n\(diff)\n"
          + "If the change is intended, re-record with \(SnapshotRecordMode.variable)=failed \(rerun) "
          + "and say why in the commit message.",
        sourceLocation: sourceLocation
      )
    }
  }

  private static func write(_ text: String, to url: URL) throws {
    try FileManager.default.createDirectory(
      at: url.deletingLastPathComponent(),
      withIntermediateDirectories: true
    )
    try Data(text.utf8).write(to: url, options: .atomic)
  }

  /// Every file under the snapshots directory, relative to it, skipping hidden files such as `.gitkeep`.
  static func filesOnDisk() -> [String] {
    let root = PackagePaths.snapshots
    guard
      let enumerator = FileManager.default.enumerator(
        at: root,
        includingPropertiesForKeys: [.isRegularFileKey],
        options: [.skipsHiddenFiles]
      )
    else { return [] }
    var files: [String] = []
    for case let url as URL in enumerator
    where (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
      files.append(String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1)))
    }
    return files.sorted()
  }

  /// Whether `name` can be used as a file name on every platform without quoting.
  static func isValidName(_ name: String) -> Bool {
    guard let first = name.unicodeScalars.first, first != "." && first != "-" else { return false }
    return name.unicodeScalars.allSatisfy { scalar in
      scalar.isASCII
        && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
          || "._-".unicodeScalars.contains(scalar))
    }
  }
}
