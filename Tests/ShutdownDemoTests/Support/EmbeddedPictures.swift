import Foundation
import Testing

/// A diagram or picture a page embeds: a ```` ```mermaid ```` block, or an image of a `.svg` file in the
/// package, with the command that printed it named in the comment on the line before it:
///
///     <!-- output of: shutdown-demo token --format mermaid -->
///     ```mermaid
///     …
///
///     <!-- output of: shutdown-demo token --format svg -->
///     ![…](docs/pictures/token-basic.svg)
struct EmbeddedPicture: Sendable, Hashable, Codable, CustomTestStringConvertible {
  /// The markdown file, relative to the package root.
  let file: String
  /// The 1-based line of the block's fence or the image.
  let line: Int
  /// The words after `shutdown-demo`, or `nil` when the marker is missing or malformed.
  let arguments: [String]?
  /// The block's text (lines ending in `\n`), or the image's path relative to the package root.
  let content: Content

  enum Content: Sendable, Hashable, Codable {
    case diagram(String)
    case file(String)
  }

  var testDescription: String { "\(file):\(line)" }
}

enum EmbeddedPictures {
  static let markerPrefix = "<!-- output of: shutdown-demo "
  static let markerSuffix = " -->"

  /// Every embedded diagram and local SVG picture in the package's docs.
  static func packagePictures(root: URL = PackagePaths.root) -> [EmbeddedPicture] {
    ConsoleDocs.docsFiles(root: root).flatMap { file -> [EmbeddedPicture] in
      guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(file).path) else {
        return []
      }
      return pictures(inMarkdown: String(decoding: data, as: UTF8.self), file: file)
    }
  }

  /// The ```` ```mermaid ```` blocks and `![…](….svg)` images of `markdown`, each with its marker's command.
  static func pictures(inMarkdown markdown: String, file: String) -> [EmbeddedPicture] {
    let lines = splitLines(markdown)
    let image = try! Regex(#"^!\[[^\]]*\]\(([^)\s]+\.svg)\)$"#)
    var pictures: [EmbeddedPicture] = []
    var index = 0
    while index < lines.count {
      let line = lines[index]
      let marker = index > 0 ? arguments(ofMarker: lines[index - 1]) : nil
      if line == "```mermaid" {
        var body = ""
        var end = index + 1
        while end < lines.count && lines[end] != "```" {
          body += lines[end] + "\n"
          end += 1
        }
        pictures.append(
          EmbeddedPicture(file: file, line: index + 1, arguments: marker, content: .diagram(body)))
        index = end + 1
        continue
      }
      if let match = line.wholeMatch(of: image), let path = match.output[1].substring,
        !path.hasPrefix("http")
      {
        // Paths are relative to the page, as GitHub resolves them.
        let page = file.split(separator: "/").dropLast().joined(separator: "/")
        let resolved = page.isEmpty ? String(path) : page + "/" + path
        pictures.append(
          EmbeddedPicture(file: file, line: index + 1, arguments: marker, content: .file(resolved)))
      }
      index += 1
    }
    return pictures
  }

  /// The arguments a marker line names, or `nil` when the line is not a marker.
  static func arguments(ofMarker line: String) -> [String]? {
    guard line.hasPrefix(markerPrefix), line.hasSuffix(markerSuffix) else { return nil }
    let command = line.dropFirst(markerPrefix.count).dropLast(markerSuffix.count)
    return try? ShellWords.split(String(command))
  }

  /// Runs the marker's command and records an issue at the page's line when the picture is not
  /// exactly what it prints.
  static func check(_ picture: EmbeddedPicture, root: URL = PackagePaths.root) throws {
    let location = SourceLocation(
      fileID: "shutdown-demo/\(picture.file)", filePath: root.appendingPathComponent(picture.file).path,
      line: picture.line, column: 1)
    guard let arguments = picture.arguments else {
      recordIssue(
        "\(picture.file):\(picture.line): an embedded picture needs the line before it to name the command "
          + "that prints it: \(markerPrefix)…\(markerSuffix)", sourceLocation: location)
      return
    }
    let run = try BinaryRunner.run(arguments)
    let expected: String
    switch picture.content {
    case .diagram(let text):
      expected = text
    case .file(let path):
      guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(path).path) else {
        recordIssue("\(picture.file):\(picture.line): \(path) does not exist", sourceLocation: location)
        return
      }
      expected = String(decoding: data, as: UTF8.self)
    }
    if run.exitCode != 0 || run.stdout != expected {
      let diff = LineDiff.unified(
        old: expected, new: run.stdout, oldName: "\(picture.file):\(picture.line) (embedded)",
        newName: "shutdown-demo \(arguments.joined(separator: " "))")
      recordIssue(
        "\(picture.file):\(picture.line): not what the command prints today (exit \(run.exitCode)); "
          + "regenerate it with the command in the comment above it:\n\(diff)", sourceLocation: location)
    }
  }
}
