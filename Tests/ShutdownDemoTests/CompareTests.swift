import Foundation
import Patterns
import Testing

@testable import shutdown_demo

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `shutdown-demo compare`: every cell comes from its pattern's run, the knobs change the cells they
/// promise to, and every format prints what a reader or a program can take in.
@Suite struct CompareTests {
  typealias Kind = CompareStories.Kind

  static func table(_ kind: Kind, _ change: (inout Knobs) -> Void = { _ in }) -> ComparisonTable {
    var knobs = CompareStories.defaults
    change(&knobs)
    let reports = (CompareStories.rows[kind] ?? []).map {
      ScenarioRunner.runScripted($0, command: CompareStories.command, knobs: knobs)
    }
    return ComparisonTable(kind: kind, knobs: knobs, seed: 0, reports: reports)
  }

  static func row(_ table: ComparisonTable, _ pattern: String) -> ComparisonTable.Row? {
    table.rows.first { $0.pattern == pattern }
  }

  @Test(arguments: Kind.allCases)
  func everyRow_holdsItsFactsAndItsOutcome_underEverySeed_atTheDefaults(_ kind: Kind) {
    for scenario in CompareStories.rows[kind] ?? [] {
      let broken = ScenarioRunner.explore(
        scenario, command: CompareStories.command, knobs: CompareStories.defaults, seeds: 100,
        includingOutcome: true)
      #expect(broken == nil, "\(scenario.name): seed \(broken?.seed ?? 0) breaks \(broken?.violations ?? [])")
    }
  }

  @Test func everyRow_runsTheSameWorkload_andHasOneRowPerPattern() {
    for kind in Kind.allCases {
      let table = Self.table(kind)
      #expect(table.rows.map(\.pattern) == ["broadcast", "watch", "token", "joinset", "mpsc"])
      #expect(Set(table.rows.map(\.participants)) == [CompareStories.defaults.workers + 1])
      #expect(table.failures == [])
      #expect(
        table.aspects.map(\.name) == [
          "propagation", "semantics", "many consumers", "back-pressure", "cost", "fit",
        ])
      for aspect in table.aspects { #expect(aspect.cells.count == 5, "\(aspect.name)") }
    }
  }

  @Test func cells_areReadOffEachRowsOwnTimeline() throws {
    var knobs = CompareStories.defaults
    knobs.capacity = 2
    knobs.consumerDelay = .milliseconds(400)
    let scenarios = try #require(CompareStories.rows[.slowConsumer])
    let reports = scenarios.map { ScenarioRunner.runScripted($0, command: "compare", knobs: knobs) }
    let table = ComparisonTable(kind: .slowConsumer, knobs: knobs, seed: 0, reports: reports)
    for (row, report) in zip(table.rows, reports) {
      let signal = try #require(report.summary.shutdownAt)
      let notices = report.events.filter {
        $0.kind == .observe && report.summary.participants.contains($0.actor)
      }
      #expect(row.notified == notices.count, "\(row.pattern)")
      #expect(row.firstNotice == notices.first.map { $0.time - signal }, "\(row.pattern)")
      #expect(row.lastNotice == notices.last.map { $0.time - signal }, "\(row.pattern)")
      #expect(row.aborted == report.events.filter { $0.kind == .abort }.map(\.actor), "\(row.pattern)")
      #expect(row.timeToQuiet == (report.events.last?.time).map { $0 - signal }, "\(row.pattern)")
      let lost = report.events.filter { $0.kind == .lost }.compactMap(\.count).reduce(0, +)
      let skipped = report.events.filter { $0.kind == .skipped }.compactMap(\.count).reduce(0, +)
      if row.jobsLost != nil {
        #expect(row.jobsLost == lost && row.valuesSkipped == skipped, "\(row.pattern)")
      }
    }
  }

  @Test func smallerCapacity_andSlowerConsumer_makeBroadcastLoseJobs_andMPSCPushBack() throws {
    let defaults = Self.table(.slowConsumer)
    let squeezed = Self.table(.slowConsumer) {
      $0.capacity = 2
      $0.consumerDelay = .milliseconds(400)
    }
    #expect(Self.row(defaults, "broadcast")?.jobsLost == 0)
    #expect(Self.row(defaults, "mpsc")?.producerBlocked == .zero)
    let lost = try #require(Self.row(squeezed, "broadcast")?.jobsLost)
    #expect(lost > 0)
    let blocked = try #require(Self.row(squeezed, "mpsc")?.producerBlocked)
    #expect(blocked > .zero)
    #expect(Self.row(squeezed, "mpsc")?.jobsLost == 0, "back-pressure loses nothing")
    #expect(Self.row(squeezed, "broadcast")?.producerBlocked == .zero, "a broadcast send never waits")
    #expect((Self.row(squeezed, "watch")?.valuesSkipped ?? 0) > 0)
  }

  @Test func graceShorterThanTheLongestJob_cutsTheStragglerOff() {
    // worker-3's job takes 4s from the start: with the signal at 1s it needs 3s of grace.
    let short = Self.table(.timeout)
    let long = Self.table(.timeout) { $0.grace = .seconds(5) }
    for pattern in ["broadcast", "watch", "token", "mpsc"] {
      #expect(Self.row(short, pattern)?.aborted == ["worker-3"], "\(pattern): 2s of grace")
      #expect(Self.row(long, pattern)?.aborted == [], "\(pattern): 5s of grace")
      #expect(Self.row(long, pattern)?.notified == 4, "\(pattern)")
    }
    // A join set tells nobody: whatever the grace, everyone is still running at its end.
    #expect(Self.row(long, "joinset")?.aborted.count == 4)
  }

  @Test func onlyJoinSetAndMPSC_tellMainThatEveryoneIsDone() {
    let table = Self.table(.basic)
    #expect(table.rows.filter(\.doneFromPattern).map(\.pattern) == ["joinset", "mpsc"])
  }

  @Test func markdown_isOneWellFormedTable_perPart() throws {
    let run = try BinaryRunner.run(["compare", "--scenario", "slow-consumer", "--format", "markdown"])
    #expect(run.exitCode == 0)
    let tables = run.stdout.components(separatedBy: "\n\n").filter { $0.hasPrefix("|") }
    #expect(tables.count == 2, "the measured table and the qualitative table")
    for table in tables {
      let lines = table.split(separator: "\n")
      let cells = lines.map { line in line.split(separator: "|", omittingEmptySubsequences: false).count }
      #expect(Set(cells).count == 1, "every line of a table has as many cells as its header")
      #expect(lines.count >= 3)
      #expect(lines[1].allSatisfy { "|- ".contains($0) }, "the second line is the delimiter row")
    }
  }

  @Test func json_isOneObjectPerLine_ofTheDocumentedTypes() throws {
    let run = try BinaryRunner.run(["compare", "--scenario", "all", "--format", "json"])
    #expect(run.exitCode == 0)
    var types: [String] = []
    for line in run.stdout.split(separator: "\n") {
      let object = try #require(
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
      types.append(try #require(object["type"] as? String))
    }
    let one =
      ["comparison"] + Array(repeating: "row", count: 5) + Array(repeating: "aspect", count: 6) + ["verdict"]
    #expect(types == one + one + one)
  }

  @Test func mermaid_isOneDiagramPerPattern_followingTheGrammar() throws {
    let run = try BinaryRunner.run(["compare", "--scenario", "all", "--format", "mermaid"])
    #expect(run.exitCode == 0)
    let diagrams = run.stdout.components(separatedBy: "\n\n")
    #expect(diagrams.count == 15)
    for diagram in diagrams {
      for problem in MermaidGrammar.violations(in: diagram) { recordIssue("\(problem)") }
    }
  }

  @Test func svg_isOneDocument_withAPanelPerPattern() throws {
    let run = try BinaryRunner.run(["compare", "--scenario", "slow-consumer", "--format", "svg"])
    #expect(run.exitCode == 0)
    let document = try XMLDocument(xmlString: run.stdout, options: [])
    let root = try #require(document.rootElement())
    #expect(root.localName == "svg")
    #expect(SVGRendererTests.children(root, named: "g").count == 5)
  }

  @Test func withCosts_addsARealTimeFigure_perPattern() throws {
    let run = ShutdownDemo.run(arguments: ["compare", "--with-costs", "--format", "json"])
    #expect(run.exitCode == 0)
    let costs = run.stdout.split(separator: "\n").filter { $0.contains(#""type":"cost""#) }
    #expect(costs.count == 5)
    for line in costs {
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      #expect((object["ns_per_notified_task"] as? Int ?? 0) > 0, "\(line)")
      #expect((object["bytes_per_waiting_task"] as? Int ?? 0) > 0, "\(line)")
    }
  }
}
