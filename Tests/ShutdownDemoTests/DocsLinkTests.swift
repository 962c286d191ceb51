import Foundation
import Testing

/// Every relative link in README.md, CONTRIBUTING.md and the docs (kubernetes/ included) points at
/// a file or folder that exists, and every `#anchor` into a markdown file at one of its headings.
@Suite struct DocsLinkTests {
  static let root = PackagePaths.root

  static var files: [String] {
    var files = ["README.md", "CONTRIBUTING.md"]
    let docs = root.appendingPathComponent("docs")
    if let walker = FileManager.default.enumerator(atPath: docs.path) {
      for case let path as String in walker where path.hasSuffix(".md") { files.append("docs/" + path) }
    }
    return files.sorted()
  }

  /// `[text](target)` targets that are not web addresses.
  static func links(in text: String) -> [String] {
    var links: [String] = []
    var inCode = false
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("```") { inCode.toggle() }
      guard !inCode else { continue }
      var rest = Substring(line)
      while let open = rest.range(of: "](") {
        let after = rest[open.upperBound...]
        guard let close = after.firstIndex(of: ")") else { break }
        let target = String(after[..<close])
        if !target.contains("://"), !target.hasPrefix("mailto:"), !target.isEmpty { links.append(target) }
        rest = after[close...]
      }
    }
    return links
  }

  /// GitHub's anchor for a heading: lower-cased, punctuation dropped, spaces as hyphens.
  static func anchor(_ heading: String) -> String {
    let text = heading.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
    return String(
      text.compactMap { character -> Character? in
        if character == " " { return "-" }
        return character.isLetter || character.isNumber || character == "-" || character == "_"
          ? character : nil
      })
  }

  @Test(arguments: DocsLinkTests.files)
  func everyRelativeLinkResolves(_ file: String) throws {
    let url = Self.root.appendingPathComponent(file)
    let text = try String(contentsOf: url, encoding: .utf8)
    let directory = url.deletingLastPathComponent()
    for link in Self.links(in: text) {
      let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
      let path = String(parts[0])
      let target = path.isEmpty ? url : directory.appendingPathComponent(path).standardizedFileURL
      #expect(FileManager.default.fileExists(atPath: target.path), "\(file): \(link) points at nothing")
      if parts.count == 2, target.pathExtension == "md",
        let body = try? String(contentsOf: target, encoding: .utf8)
      {
        let anchors = body.split(separator: "\n").filter { $0.hasPrefix("#") }.map { Self.anchor(String($0)) }
        #expect(anchors.contains(String(parts[1])), "\(file): \(link): no such heading")
      }
    }
  }
}
