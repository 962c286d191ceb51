import Foundation
import Testing

/// The layers, checked on the sources: primitives know nothing of the simulation, the timeline or the
/// tool built on them, and renderers know nothing of the stories whose reports they render.
///
/// The rule is about code, the direction of dependencies: comments and the text of string literals
/// are skipped (a doc comment may well say "inside a simulation"), while identifiers in code,
/// string interpolations included, count.
@Suite struct LayeringTests {
  /// The folders of `Sources/Patterns` that hold primitives and what they share.
  static let primitiveFolders = [
    "Broadcast", "Watch", "CancellationToken", "JoinSet", "MPSC", "Support", "Shutdown",
  ]
  /// Folders that must exist, so that renaming one cannot make the test pass by checking nothing.
  static let requiredFolders = ["Broadcast", "Watch", "CancellationToken", "JoinSet", "MPSC", "Support"]

  @Test func primitives_mentionNeitherSimulationNorTimelineNorTheTool() throws {
    let sources = try SourceTree(root: Self.sourcesRoot)
    for folder in Self.requiredFolders {
      #expect(
        !sources.files(under: "Patterns/\(folder)").isEmpty, "no Swift file under Sources/Patterns/\(folder)")
    }
    // Types of the layers above: the simulation, the timeline, and the tool.
    let above = sources.topLevelTypes(under: "Patterns/Simulation")
      .union(sources.topLevelTypes(under: "Patterns/Timeline"))
      .union(sources.topLevelTypes(under: "shutdown-demo").subtracting(sources.allTypes(under: "Patterns")))
    let rule = LayerRule(
      forbiddenNames: above.union(["Scenario", "ScenarioReport"]),
      forbiddenParts: ["Simulation", "Timeline", "VirtualClock"],
      why: "a primitive must not depend on the simulation, the timeline or the shutdown-demo tool")
    for folder in Self.primitiveFolders {
      for file in sources.files(under: "Patterns/\(folder)") {
        for violation in rule.violations(in: file) { Issue.record("\(violation)") }
      }
    }
  }

  @Test func renderers_mentionNoScenarioType() throws {
    let sources = try SourceTree(root: Self.sourcesRoot)
    let renderers = sources.files(under: "shutdown-demo/Rendering")
    #expect(!renderers.isEmpty, "no Swift file under Sources/shutdown-demo/Rendering")
    let rule = LayerRule(
      forbiddenNames: ["Scenario", "ScenarioContext", "ScenarioRunner", "StoryCatalog", "PatternCatalog"],
      forbiddenSuffixes: ["Scenarios"],
      why: "a renderer formats a finished report and must not depend on the stories that make it")
    for file in renderers {
      for violation in rule.violations(in: file) { Issue.record("\(violation)") }
    }
  }

  // MARK: the checker itself

  @Test func rule_flagsCode_withFileLineAndWord() {
    let file = SourceFile(
      path: "Patterns/MPSC/Bad.swift",
      text: """
        struct Bad {
          let clock: VirtualClock
          func run() { _ = TimelineSummary.self }
        }
        """)
    let rule = LayerRule(forbiddenNames: [], forbiddenParts: ["Timeline", "VirtualClock"], why: "why")
    #expect(
      rule.violations(in: file).map(\.description) == [
        "Sources/Patterns/MPSC/Bad.swift:2 mentions `VirtualClock`: why",
        "Sources/Patterns/MPSC/Bad.swift:3 mentions `TimelineSummary`: why",
      ])
  }

  @Test func rule_skipsCommentsAndStringText_butReadsInterpolations() {
    let file = SourceFile(
      path: "Patterns/Watch/Prose.swift",
      text: ##"""
        /// Inside a `Simulation`, this waits in virtual time.
        // Simulation
        /* a block comment: Simulation /* nested: Simulation */ still a comment: Simulation */
        let label = "simulation \"Simulation\" wait"
        let raw = #"Simulation \(Simulation) \#(Ok)"#
        let long = """
          Simulation "quoted" Simulation
          """
        let told = "waits on \(Simulation.name)"
        """##)
    let rule = LayerRule(forbiddenNames: [], forbiddenParts: ["Simulation"], why: "why")
    #expect(rule.violations(in: file).map(\.line) == [9])
    #expect(rule.violations(in: file).map(\.word) == ["Simulation"])
  }

  @Test func rule_matchesWholeNamesAndSuffixes() {
    let file = SourceFile(
      path: "shutdown-demo/Rendering/R.swift",
      text: "func f(_ r: ScenarioReport, _ s: Scenario, _ t: TokenScenarios) {}")
    let rule = LayerRule(forbiddenNames: ["Scenario"], forbiddenSuffixes: ["Scenarios"], why: "why")
    #expect(rule.violations(in: file).map(\.word) == ["Scenario", "TokenScenarios"])
  }

  @Test func declarations_areReadAtTopLevelOnly() {
    let file = SourceFile(
      path: "shutdown-demo/X.swift",
      text: """
        @MainActor final class Runner {
          struct State {}
        }
        package enum Catalog {}
        extension Runner { typealias Nested = Int }
        """)
    #expect(file.declaredTypes(topLevelOnly: true) == ["Runner", "Catalog"])
    #expect(file.declaredTypes(topLevelOnly: false) == ["Runner", "State", "Catalog", "Nested"])
  }

  /// `Sources/`, found from this file: `Tests/PatternsTests/LayeringTests.swift`.
  static var sourcesRoot: URL {
    URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent()
      .appendingPathComponent("Sources")
  }
}

/// Names one layer's files must not use.
struct LayerRule {
  /// Whole identifiers.
  var forbiddenNames: Set<String> = []
  /// Words that may not appear anywhere in an identifier (`Simulation` also catches `SimulationExecutor`).
  var forbiddenParts: [String] = []
  /// Endings (`Scenarios` catches `TokenScenarios`).
  var forbiddenSuffixes: [String] = []
  /// Said with every violation.
  var why: String

  func isForbidden(_ name: String) -> Bool {
    forbiddenNames.contains(name) || forbiddenParts.contains { name.contains($0) }
      || forbiddenSuffixes.contains { name.hasSuffix($0) }
  }

  func violations(in file: SourceFile) -> [Violation] {
    file.identifiers.filter { isForbidden($0.name) }.map {
      Violation(path: file.path, line: $0.line, word: $0.name, why: why)
    }
  }

  struct Violation: CustomStringConvertible {
    var path: String
    var line: Int
    var word: String
    var why: String
    var description: String { "Sources/\(path):\(line) mentions `\(word)`: \(why)" }
  }
}

/// Every Swift file below `Sources/`, read once.
struct SourceTree {
  var files: [SourceFile] = []

  init(root: URL) throws {
    let paths = FileManager.default.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
    for path in paths.sorted() where path.hasSuffix(".swift") {
      let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
      files.append(SourceFile(path: path, text: text))
    }
  }

  func files(under folder: String) -> [SourceFile] { files.filter { $0.path.hasPrefix(folder + "/") } }

  func topLevelTypes(under folder: String) -> Set<String> {
    Set(files(under: folder).flatMap { $0.declaredTypes(topLevelOnly: true) })
  }

  func allTypes(under folder: String) -> Set<String> {
    Set(files(under: folder).flatMap { $0.declaredTypes(topLevelOnly: false) })
  }
}

/// One Swift file, as the identifiers its code uses.
struct SourceFile {
  /// Relative to `Sources/`.
  var path: String
  var identifiers: [SwiftIdentifiers.Identifier]

  init(path: String, text: String) {
    self.path = path
    identifiers = SwiftIdentifiers.scan(text)
  }

  /// The types this file declares (`struct`, `enum`, `class`, `protocol`, `actor`, `typealias`).
  func declaredTypes(topLevelOnly: Bool) -> [String] {
    let keywords: Set<String> = ["struct", "enum", "class", "protocol", "actor", "typealias"]
    return zip(identifiers, identifiers.dropFirst()).compactMap { keyword, name in
      guard keywords.contains(keyword.name), !topLevelOnly || keyword.braceDepth == 0 else { return nil }
      return name.name
    }
  }
}

/// A small Swift lexer: just enough to tell code from comments and string text.
enum SwiftIdentifiers {
  struct Identifier: Equatable {
    var name: String
    var line: Int
    /// How many `{` enclose it: 0 at the top level of the file.
    var braceDepth: Int
  }

  private enum Context {
    /// Code: the file itself, or a string interpolation (which ends at its unmatched `)`).
    case code(parentheses: Int)
    /// The text of a string literal opened with `hashes` `#` signs, on one line or several.
    case string(hashes: Int, multiline: Bool)
  }

  /// The identifiers (and keywords) in code, in order, skipping comments and string text.
  static func scan(_ text: String) -> [Identifier] {
    let bytes = Array(text.utf8)
    var found: [Identifier] = []
    var stack: [Context] = [.code(parentheses: 0)]
    var index = 0
    var line = 1
    var braces = 0

    func at(_ offset: Int) -> UInt8? { index + offset < bytes.count ? bytes[index + offset] : nil }
    func isIdentifierByte(_ byte: UInt8) -> Bool {
      (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
        || byte == 0x5F || byte >= 0x80
    }
    func count(_ byte: UInt8, from start: Int) -> Int {
      var end = start
      while end < bytes.count, bytes[end] == byte { end += 1 }
      return end - start
    }
    /// Moves past one byte, counting lines.
    func step() {
      if bytes[index] == UInt8(ascii: "\n") { line += 1 }
      index += 1
    }

    while index < bytes.count {
      let byte = bytes[index]
      switch stack[stack.count - 1] {
      case .code(let parentheses):
        if byte == UInt8(ascii: "/"), at(1) == UInt8(ascii: "/") {
          while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
        } else if byte == UInt8(ascii: "/"), at(1) == UInt8(ascii: "*") {
          var depth = 0
          repeat {
            if bytes[index] == UInt8(ascii: "/"), at(1) == UInt8(ascii: "*") {
              depth += 1
              index += 2
            } else if bytes[index] == UInt8(ascii: "*"), at(1) == UInt8(ascii: "/") {
              depth -= 1
              index += 2
            } else {
              step()
            }
          } while depth > 0 && index < bytes.count
        } else if byte == UInt8(ascii: "\"")
          || (byte == UInt8(ascii: "#") && at(count(UInt8(ascii: "#"), from: index)) == UInt8(ascii: "\""))
        {
          let hashes = count(UInt8(ascii: "#"), from: index)
          index += hashes
          let multiline = count(UInt8(ascii: "\""), from: index) >= 3
          index += multiline ? 3 : 1
          stack.append(.string(hashes: hashes, multiline: multiline))
        } else if isIdentifierByte(byte), !(byte >= 0x30 && byte <= 0x39) {
          let start = index
          while index < bytes.count, isIdentifierByte(bytes[index]) { index += 1 }
          let name = String(decoding: bytes[start..<index], as: UTF8.self)
          found.append(Identifier(name: name, line: line, braceDepth: braces))
        } else if byte >= 0x30 && byte <= 0x39 {
          while index < bytes.count, isIdentifierByte(bytes[index]) { index += 1 }  // 0x1F, 1_000
        } else {
          if byte == UInt8(ascii: "{") { braces += 1 }
          if byte == UInt8(ascii: "}") { braces = max(0, braces - 1) }
          if byte == UInt8(ascii: "(") { stack[stack.count - 1] = .code(parentheses: parentheses + 1) }
          if byte == UInt8(ascii: ")") {
            if parentheses == 0, stack.count > 1 {
              stack.removeLast()  // the end of an interpolation: back in the string
            } else {
              stack[stack.count - 1] = .code(parentheses: max(0, parentheses - 1))
            }
          }
          step()
        }
      case .string(let hashes, let multiline):
        if byte == UInt8(ascii: "\\"), count(UInt8(ascii: "#"), from: index + 1) == hashes {
          index += 1 + hashes
          if at(0) == UInt8(ascii: "(") {
            index += 1
            stack.append(.code(parentheses: 0))
          } else if index < bytes.count {
            step()  // the escaped character
          }
        } else if byte == UInt8(ascii: "\""),
          !multiline || count(UInt8(ascii: "\""), from: index) >= 3,
          count(UInt8(ascii: "#"), from: index + (multiline ? 3 : 1)) >= hashes
        {
          index += (multiline ? 3 : 1) + hashes
          stack.removeLast()
        } else {
          step()
        }
      }
    }
    return found
  }
}
