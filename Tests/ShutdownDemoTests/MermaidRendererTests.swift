import Foundation
import Patterns
import Testing

@testable import shutdown_demo

/// `--format mermaid`: the output follows Mermaid's sequenceDiagram grammar for every story, and the
/// diagram says what the timeline says.
@Suite struct MermaidRendererTests {
  static let subcommands = ["broadcast", "watch", "token", "joinset", "mpsc"]

  @Test(arguments: MermaidRendererTests.subcommands)
  func everyStory_followsTheSequenceDiagramGrammar(_ subcommand: String) throws {
    let run = try BinaryRunner.run([subcommand, "--scenario", "all", "--format", "mermaid"])
    #expect(run.exitCode == 0)
    #expect(run.stderr == "")
    let diagrams = run.stdout.components(separatedBy: "\n\n")
    #expect(diagrams.count > 1, "--scenario all prints one diagram per story, a blank line apart")
    for diagram in diagrams {
      for problem in MermaidGrammar.violations(in: diagram) { recordIssue("\(subcommand): \(problem)") }
    }
  }

  @Test func labels_escapeWhatMermaidWouldReadAsSyntax() {
    let picture = StoryPicture(
      title: "t", subtitle: "",
      events: [TimelineEvent(time: .zero, actor: "a", kind: .note, detail: "x;y#z:w<v>u%%q&r\"s\nnext")],
      graceDeadline: nil)
    let lines = MermaidRenderer.render(picture).split(separator: "\n").map(String.init)
    #expect(lines.last == "  Note over a: 0.000s x#59;y#35;z#58;w#60;v#62;u#37;#37;q#38;r#34;s<br/>next")
    #expect(MermaidGrammar.violations(in: lines.joined(separator: "\n") + "\n").isEmpty)
  }

  @Test func participantIDs_areSafe_unique_andDeclaredInOrderOfAppearance() {
    let events = [
      TimelineEvent(time: .zero, actor: "worker-1", kind: .start, detail: "starts"),
      TimelineEvent(time: .zero, actor: "worker_1", kind: .start, detail: "starts"),
      TimelineEvent(time: .zero, actor: "end", kind: .start, detail: "starts"),
      TimelineEvent(time: .zero, actor: "1s-check", kind: .start, detail: "starts"),
      TimelineEvent(time: .seconds(1), actor: "signal", kind: .signal, detail: "SIGTERM"),
      TimelineEvent(
        time: .seconds(1), actor: "OS", kind: .note, detail: "an actor that happens to be called OS"),
    ]
    let text = MermaidRenderer.render(
      StoryPicture(title: "t", subtitle: "", events: events, graceDeadline: nil))
    let declarations = text.split(separator: "\n").filter { $0.hasPrefix("  participant ") }
    #expect(
      declarations == [
        "  participant worker_1 as worker-1", "  participant worker_1_2 as worker_1",
        "  participant p_end as end", "  participant p_1s_check as 1s-check", "  participant OS",
        "  participant OS_2 as OS",
      ])
    #expect(text.contains("  OS->>OS_2: 1.000s SIGTERM"), "no one notifies: the next to act gets the signal")
    #expect(text.contains("  Note over OS_2: 1.000s an actor that happens to be called OS"))
    #expect(MermaidGrammar.violations(in: text).isEmpty)
  }

  @Test func notice_goesToEachObserverUntilTheNextNotice_andTheDeadlineCrossesTheAborted() {
    let events = [
      TimelineEvent(time: .zero, actor: "main", kind: .start, detail: "starts"),
      TimelineEvent(time: .zero, actor: "a", kind: .start, detail: "starts"),
      TimelineEvent(time: .zero, actor: "b", kind: .start, detail: "starts"),
      TimelineEvent(time: .zero, actor: "c", kind: .start, detail: "starts"),
      TimelineEvent(time: .seconds(1), actor: "signal", kind: .signal, detail: "SIGTERM"),
      TimelineEvent(time: .seconds(1), actor: "main", kind: .notify, detail: "cancels a and b"),
      TimelineEvent(time: .seconds(2), actor: "b", kind: .observe, detail: "stops"),
      TimelineEvent(time: .seconds(2), actor: "a", kind: .observe, detail: "stops"),
      TimelineEvent(time: .seconds(2), actor: "a", kind: .observe, detail: "stops again"),
      TimelineEvent(time: .seconds(3), actor: "main", kind: .notify, detail: "cancels c"),
      TimelineEvent(time: .seconds(5), actor: "main", kind: .deadline, detail: "out of time"),
      TimelineEvent(time: .seconds(5), actor: "c", kind: .abort, detail: "cut off"),
    ]
    let text = MermaidRenderer.render(
      StoryPicture(title: "t", subtitle: "", events: events, graceDeadline: .seconds(5)))
    let messages = text.split(separator: "\n").filter { $0.contains("->>") || $0.contains("-x") }
    #expect(
      messages == [
        "  OS->>main: 1.000s SIGTERM", "  main->>b: 1.000s shutdown notice",
        "  main->>a: 1.000s shutdown notice",
        "  main-xc: 5.000s cancelled",
      ])
    #expect(text.contains("  Note over c: 5.000s cut off"))
    #expect(MermaidGrammar.violations(in: text).isEmpty)
  }

  @Test func grammarCheck_catchesWhatMermaidRejects() {
    #expect(!MermaidGrammar.violations(in: "graph TD\n").isEmpty)
    #expect(!MermaidGrammar.violations(in: "sequenceDiagram\n  a->>b: hi\n").isEmpty, "undeclared")
    #expect(!MermaidGrammar.violations(in: "sequenceDiagram\n  participant a\n  Note over a: x; y\n").isEmpty)
    #expect(
      !MermaidGrammar.violations(in: "sequenceDiagram\n  participant a\n  Note over a: x # y\n").isEmpty)
    #expect(!MermaidGrammar.violations(in: "sequenceDiagram\n  participant a-1\n").isEmpty)
    #expect(!MermaidGrammar.violations(in: "sequenceDiagram\n  participant a\n  a ~> a: hi\n").isEmpty)
    #expect(MermaidGrammar.violations(in: "sequenceDiagram\n  participant a\n  a->>a: #35; ok\n").isEmpty)
  }

  /// docs/formats.md shows the diagram GitHub draws: it must be the one the console block above it prints.
  @Test func formatsDoc_mermaidBlock_isWhatTheCommandPrints() throws {
    let doc = try String(
      contentsOf: PackagePaths.root.appendingPathComponent("docs/formats.md"), encoding: .utf8)
    let parts = doc.components(separatedBy: "```mermaid\n")
    #expect(parts.count == 2, "docs/formats.md has one ```mermaid block")
    guard parts.count == 2, let block = parts[1].components(separatedBy: "```\n").first else { return }
    let run = try BinaryRunner.run(["token", "--format", "mermaid"])
    #expect(block == run.stdout)
  }
}

/// The statements of Mermaid's sequenceDiagram grammar this tool writes, and the rules its lexer
/// imposes on them (mermaid-js, `sequenceDiagram.jison`).
enum MermaidGrammar {
  private static let keywords = [
    "participant", "actor", "create", "destroy", "box", "loop", "rect", "opt", "alt", "else", "par", "and",
    "critical", "option", "break", "end", "links", "link", "properties", "details", "over", "note",
    "activate", "deactivate", "title", "acc", "sequencediagram", "autonumber", "off",
  ]

  /// Every way `diagram` (one diagram, lines ending in `\n`) breaks the grammar; empty when it follows it.
  static func violations(in diagram: String) -> [String] {
    let id = #"[A-Za-z_][A-Za-z0-9_]*"#
    let participant = try! Regex(#"^\s*(participant|actor) (\#(id))( as (.+))?$"#)
    let message = try! Regex(#"^\s*(\#(id))(->>|-->>|-x)(\#(id)): (.+)$"#)
    let note = try! Regex(#"^\s*Note (over|right of|left of) (\#(id))(,(\#(id)))?: (.+)$"#)
    let other = try! Regex(#"^\s*(autonumber|end|rect .+|title .+)$"#)
    // Text may hold no `#` but in an entity code, no `;` or `%%`, no `<`/`>` but in `<br/>`.
    let entity = try! Regex(#"#[0-9]+;|#[a-z]+;"#)
    var problems: [String] = []
    var lines = diagram.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    guard lines.first == "sequenceDiagram" else {
      return ["first line is not sequenceDiagram: \(lines.first ?? "")"]
    }
    var declared: Set<String> = []
    var depth = 0
    func use(_ name: String, _ line: String) {
      if !declared.contains(name) { problems.append("'\(name)' used before it is declared: \(line)") }
    }
    func checkText(_ text: String, _ line: String) {
      let bare = text.replacing(entity, with: "").replacing("<br/>", with: "")
      if text.trimmingCharacters(in: .whitespaces).isEmpty { problems.append("empty text: \(line)") }
      for forbidden in ["#", ";", "<", ">", "%%"] where bare.contains(forbidden) {
        problems.append("raw '\(forbidden)' in text: \(line)")
      }
    }
    for line in lines.dropFirst() {
      if let match = line.wholeMatch(of: participant) {
        let name = String(match.output[2].substring ?? "")
        if keywords.contains(where: { name.lowercased().hasPrefix($0) }) {
          problems.append("id starts with a keyword: \(line)")
        }
        if !declared.insert(name).inserted { problems.append("declared twice: \(line)") }
        if let label = match.output[4].substring { checkText(String(label), line) }
      } else if let match = line.wholeMatch(of: message) {
        use(String(match.output[1].substring ?? ""), line)
        use(String(match.output[3].substring ?? ""), line)
        checkText(String(match.output[4].substring ?? ""), line)
      } else if let match = line.wholeMatch(of: note) {
        use(String(match.output[2].substring ?? ""), line)
        if let second = match.output[4].substring { use(String(second), line) }
        checkText(String(match.output[5].substring ?? ""), line)
      } else if let match = line.wholeMatch(of: other) {
        let statement = String(match.output[1].substring ?? "")
        if statement.hasPrefix("rect ") { depth += 1 }
        if statement == "end" { depth -= 1 }
        if statement.hasPrefix("title ") { checkText(String(statement.dropFirst(6)), line) }
        if depth < 0 { problems.append("'end' without a block: \(line)") }
      } else {
        problems.append("not a known statement: \(line)")
      }
    }
    if depth != 0 { problems.append("a block is left open") }
    return problems
  }
}
