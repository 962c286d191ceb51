import Foundation
import Testing

/// One `$ shutdown-demo …` command found in a ```` ```console ```` block of the docs, with the output
/// and exit code the docs promise.
struct DocsCommand: Sendable, Hashable, Codable, CustomTestStringConvertible {
  /// The markdown file, relative to the package root.
  let file: String
  /// The 1-based line of the `$ shutdown-demo` line in `file`.
  let line: Int
  /// The command as written, without the `$ ` prompt.
  let commandLine: String
  /// The words after `shutdown-demo`; empty when `parseError` is set.
  let arguments: [String]
  /// Why the command line or its `? <code>` line could not be understood.
  let parseError: String?
  /// From a `? <code>` line right after the command; 0 without one.
  let expectedExitCode: Int32
  /// The lines up to the next `$ ` line or the end of the block; a line `...` matches any run of lines.
  let expectedOutput: [String]

  var testDescription: String { "\(file):\(line) $ \(commandLine)" }
}

/// Finds and checks the console transcripts in the docs.
enum ConsoleDocs {
  /// The line that, in expected output, matches any run of zero or more lines.
  static let ellipsis = "..."

  /// `README.md` (if present) and `docs/*.md`, relative to the package root.
  static func docsFiles(root: URL = PackagePaths.root) -> [String] {
    var files: [String] = []
    if FileManager.default.fileExists(atPath: root.appendingPathComponent("README.md").path) {
      files.append("README.md")
    }
    let docs =
      (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)) ?? []
    files += docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    return files
  }

  /// Every `$ shutdown-demo` command in the package's docs files.
  static func packageCommands(root: URL = PackagePaths.root) -> [DocsCommand] {
    docsFiles(root: root).flatMap { file -> [DocsCommand] in
      guard let data = FileManager.default.contents(atPath: root.appendingPathComponent(file).path) else {
        return []
      }
      return commands(inMarkdown: String(decoding: data, as: UTF8.self), file: file)
    }
  }

  /// The `$ shutdown-demo` commands in the ```` ```console ```` blocks of `markdown`. Other `$ ` commands
  /// (e.g. `$ swift test`) and their output are skipped; lines before a block's first `$ ` are ignored.
  static func commands(inMarkdown markdown: String, file: String) -> [DocsCommand] {
    var commands: [DocsCommand] = []
    for block in consoleBlocks(markdown) {
      var index = 0
      while index < block.count {
        let (lineNumber, text) = block[index]
        index += 1
        guard text.hasPrefix("$ ") else { continue }
        let commandLine = String(text.dropFirst(2))
        var body: [(Int, String)] = []
        while index < block.count && !block[index].text.hasPrefix("$ ") {
          body.append(block[index])
          index += 1
        }
        guard commandLine == "shutdown-demo" || commandLine.hasPrefix("shutdown-demo ") else { continue }
        commands.append(command(commandLine, line: lineNumber, body: body.map(\.1), file: file))
      }
    }
    return commands
  }

  private static func command(_ commandLine: String, line: Int, body: [String], file: String) -> DocsCommand {
    var body = body[...]
    var parseError: String?
    var arguments: [String] = []
    do {
      arguments = Array(try ShellWords.split(commandLine).dropFirst())
    } catch {
      parseError = "\(error)"
    }
    var exitCode: Int32 = 0
    if let first = body.first, first.hasPrefix("? ") {
      body = body.dropFirst()
      if let code = Int32(first.dropFirst(2)) {
        exitCode = code
      } else {
        parseError = parseError ?? "`\(first)` after line \(line) is not `? <exit code>`"
      }
    }
    return DocsCommand(
      file: file,
      line: line,
      commandLine: commandLine,
      arguments: parseError == nil ? arguments : [],
      parseError: parseError,
      expectedExitCode: exitCode,
      expectedOutput: Array(body)
    )
  }

  /// The lines (with 1-based line numbers) inside each ```` ```console ```` fence. Lines are un-indented
  /// by the fence's indentation so blocks nested in lists work.
  static func consoleBlocks(_ markdown: String) -> [[(line: Int, text: String)]] {
    var blocks: [[(line: Int, text: String)]] = []
    var current: [(line: Int, text: String)]?
    var fence = ""
    var indentation = 0
    var isConsole = false
    for (offset, rawLine) in splitLines(markdown).enumerated() {
      let line = rawLine.last == "\r" ? String(rawLine.dropLast()) : rawLine
      let stripped = line.drop { $0 == " " }
      if current == nil {
        let marker = stripped.prefix { $0 == "`" || $0 == "~" }
        guard marker.count >= 3, Set(marker).count == 1, line.count - stripped.count <= 3 else { continue }
        fence = String(marker)
        indentation = line.count - stripped.count
        let info = stripped.dropFirst(marker.count).trimmingCharacters(in: .whitespaces)
        isConsole = info.split(separator: " ").first == "console"
        current = []
      } else if stripped.hasPrefix(fence)
        && stripped.drop(while: { $0 == fence.first }).allSatisfy(\.isWhitespace)
      {
        if isConsole, let block = current { blocks.append(block) }
        current = nil
      } else {
        let removable = min(indentation, line.prefix { $0 == " " }.count)
        current?.append((offset + 1, String(line.dropFirst(removable))))
      }
    }
    return blocks
  }

  /// Whether `actual` matches `expected` line for line, where an `expected` line `...` matches any run of
  /// zero or more lines.
  static func matches(expected: [String], actual: [String]) -> Bool {
    let rows = expected.count
    let columns = actual.count
    // matched[i][j]: expected[i...] matches actual[j...].
    var matched = Array(repeating: Array(repeating: false, count: columns + 1), count: rows + 1)
    matched[rows][columns] = true
    for i in stride(from: rows - 1, through: 0, by: -1) {
      for j in stride(from: columns, through: 0, by: -1) {
        if expected[i] == ellipsis {
          matched[i][j] = matched[i + 1][j] || (j < columns && matched[i][j + 1])
        } else {
          matched[i][j] = j < columns && expected[i] == actual[j] && matched[i + 1][j + 1]
        }
      }
    }
    return matched[0][0]
  }

  /// Runs `command` and records an issue at the markdown line when it does not do what the docs say.
  static func check(_ command: DocsCommand, root: URL = PackagePaths.root) throws {
    let location = SourceLocation(
      fileID: "shutdown-demo/\(command.file)",
      filePath: root.appendingPathComponent(command.file).path,
      line: command.line,
      column: 1
    )
    if let parseError = command.parseError {
      recordIssue("\(command.file):\(command.line): \(parseError)", sourceLocation: location)
      return
    }
    let output = try BinaryRunner.run(command.arguments)
    let actual = splitLines(output.stdout + output.stderr)
    var problems: [String] = []
    if output.exitCode != command.expectedExitCode {
      problems.append(
        "exit code \(output.exitCode), docs say \(command.expectedExitCode)"
          + (command.expectedExitCode == 0 ? " (add a `? <code>` line after the command)" : "")
      )
    }
    if !matches(expected: command.expectedOutput, actual: actual) {
      let diff = LineDiff.unified(
        old: command.expectedOutput.map { $0 + "\n" }.joined(),
        new: actual.map { $0 + "\n" }.joined(),
        oldName: "\(command.file) (expected; a `...` line matches any lines)",
        newName: "actual stdout+stderr"
      )
      problems.append("output differs (- docs, + actual):\n\(diff)")
    }
    if !problems.isEmpty {
      recordIssue(
        "\(command.file):\(command.line): $ \(command.commandLine)\n" + problems.joined(separator: "\n"),
        sourceLocation: location
      )
    }
  }
}
