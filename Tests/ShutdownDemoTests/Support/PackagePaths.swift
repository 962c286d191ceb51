import Foundation
import Testing

/// Locations inside the package checkout, derived from this source file's path so the tests find the
/// snapshots and docs wherever the package is cloned and whatever the working directory is.
enum PackagePaths {
  /// The package root: this file is `Tests/ShutdownDemoTests/Support/PackagePaths.swift`.
  static let root: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Support
    .deletingLastPathComponent()  // ShutdownDemoTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()

  /// `Tests/ShutdownDemoTests/__Snapshots__`, following swift-snapshot-testing's layout.
  static let snapshots: URL = root.appendingPathComponent("Tests/ShutdownDemoTests/__Snapshots__")

  /// `url` relative to the package root, for messages that reviewers can click or paste.
  static func relative(_ url: URL) -> String {
    let rootPath = root.standardizedFileURL.path + "/"
    let path = url.standardizedFileURL.path
    return path.hasPrefix(rootPath) ? String(path.dropFirst(rootPath.count)) : path
  }
}

/// Splits text into lines on `\n` bytes only (so `\r\n` keeps its `\r`, which exact comparisons must see);
/// a final `\n` terminates the last line instead of starting an empty one.
func splitLines(_ text: String) -> [String] {
  if text.isEmpty { return [] }
  var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    .map { String(decoding: $0, as: UTF8.self) }
  if text.utf8.last == UInt8(ascii: "\n") { lines.removeLast() }
  return lines
}

/// Records a test failure with a message built at run time (`Issue.record` wants a `Comment` literal).
func recordIssue(_ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
  Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
}
