import Foundation
import Patterns
import Testing

@testable import shutdown_demo

/// `--format chart`: lanes drawn where the events put them, at the terminal's width, plain ASCII
/// unless colour is asked for.
@Suite struct ChartRendererTests {
  /// a: works, notices at 5s, exits at 7s. b: waits from 2s until aborted at 10s. main tells at 5s.
  static let picture = StoryPicture(
    title: "demo · lanes", subtitle: "Two workers and main.",
    events: [
      TimelineEvent(time: .zero, actor: "main", kind: .start, detail: "starts a and b"),
      TimelineEvent(time: .zero, actor: "a", kind: .start, detail: "starts"),
      TimelineEvent(time: .zero, actor: "b", kind: .start, detail: "starts"),
      TimelineEvent(time: .seconds(2), actor: "b", kind: .wait, detail: "waits"),
      TimelineEvent(time: .seconds(5), actor: "signal", kind: .signal, detail: "SIGTERM"),
      TimelineEvent(time: .seconds(5), actor: "main", kind: .notify, detail: "tells everyone"),
      TimelineEvent(time: .seconds(5), actor: "a", kind: .observe, detail: "notices"),
      TimelineEvent(time: .seconds(7), actor: "a", kind: .exit, detail: "exits"),
      TimelineEvent(time: .seconds(10), actor: "b", kind: .abort, detail: "cut off"),
      TimelineEvent(time: .seconds(10), actor: "main", kind: .exit, detail: "exits"),
    ],
    graceDeadline: .seconds(10))

  /// The row of `actor`, without its name.
  static func lane(_ actor: String, in chart: String) -> [Character] {
    let row = chart.split(separator: "\n").first { $0.hasPrefix(actor + " ") } ?? ""
    // Names are padded to the longest (4 at least) plus two spaces.
    return Array(row.dropFirst(6))
  }

  @Test func lanes_putEachGlyphWhereItsEventFalls() {
    // 80 columns: names take 6, so 73 columns of plot for 10s; column = t * 72 / 10s.
    let chart = ChartRenderer.render(Self.picture, width: 80, color: false)
    let a = Self.lane("a", in: chart)
    let b = Self.lane("b", in: chart)
    let main = Self.lane("main", in: chart)
    #expect(String(a[0..<36]) == String(repeating: "=", count: 36))
    #expect(a[36] == "!", "noticed at 5s: column 36")
    #expect(String(a[37..<50]) == String(repeating: "~", count: 13))
    #expect(a[50] == "]", "exited at 7s: column 50")
    #expect(String(a[51..<72]) == String(repeating: " ", count: 21), "nothing after the exit")
    #expect(a[72] == ":", "but the grace deadline marker at 10s")
    #expect(String(b[0..<14]) == String(repeating: "=", count: 14))
    #expect(String(b[14..<36]) == String(repeating: ".", count: 22), "waiting from 2s")
    #expect(b[36] == "|", "the signal marker crosses the lane")
    #expect(b[72] == "X", "aborted at 10s, the last column")
    #expect(main[36] == ">", "told others at 5s: the instant wins over the marker")
    #expect(main[72] == "]")
  }

  @Test func markers_andLegend_nameTheSignalAndTheDeadline() {
    let chart = ChartRenderer.render(Self.picture, width: 80, color: false)
    let lines = chart.split(separator: "\n").map(String.init)
    // Two rows: the deadline's name, ending at its marker near the edge, would touch the signal's.
    let signalRow = Array(lines.first { $0.contains("| SIGTERM 5.000s") } ?? "")
    let deadlineRow = Array(lines.first { $0.hasSuffix("grace deadline 10.000s :") } ?? "")
    #expect(signalRow.count == 6 + 73 && signalRow[6 + 36] == "|" && signalRow[6 + 72] == ":")
    #expect(deadlineRow.count == 6 + 73 && deadlineRow[6 + 36] == "|")
    #expect(chart.contains("| SIGTERM at 5.000s"))
    #expect(chart.contains(": grace deadline at 10.000s"))
    for glyph in [
      "= working", ". waiting", "> told others to stop", "! noticed the shutdown", "~ winding down",
      "] exited", "X aborted",
    ] {
      #expect(chart.contains(glyph), "legend explains \(glyph)")
    }
  }

  @Test(arguments: [40, 60, 80, 120])
  func markerNames_stayWhole_atEveryWidth(_ width: Int) {
    let chart = ChartRenderer.render(Self.picture, width: width, color: false)
    #expect(chart.contains("| SIGTERM 5.000s"), "the other marker's glyph never lands inside a name")
    #expect(chart.contains("grace deadline 10.000s :"))
  }

  @Test func axis_labelsStartAtZero_andNeverTouch() {
    let chart = ChartRenderer.render(Self.picture, width: 80, color: false)
    let lines = chart.split(separator: "\n").map(String.init)
    guard let tickIndex = lines.firstIndex(where: { $0.hasPrefix("      +") }) else {
      Issue.record("no tick row")
      return
    }
    let labels = lines[tickIndex + 1]
    #expect(labels.hasPrefix("      0s "))
    #expect(!labels.contains("s1") && !labels.contains("s2"), "labels are apart: \(labels)")
    #expect(labels.hasSuffix("10s"))
  }

  @Test func graceDeadline_farBeyondTheEnd_isNamedNotDrawn() {
    var picture = Self.picture
    picture.graceDeadline = .seconds(3600)
    let chart = ChartRenderer.render(picture, width: 80, color: false)
    #expect(chart.contains("grace deadline at 3600.000s, off the chart"))
    #expect(!Self.lane("a", in: chart).contains(":"))
  }

  @Test func colour_onlyAddsEscapes() {
    let plain = ChartRenderer.render(Self.picture, width: 80, color: false)
    let coloured = ChartRenderer.render(Self.picture, width: 80, color: true)
    #expect(!plain.contains("\u{1B}"))
    #expect(coloured.contains("\u{1B}[31mX\u{1B}[0m"), "aborted in red")
    #expect(coloured.replacing(try! Regex("\u{1B}\\[[0-9;]*m"), with: "") == plain)
  }

  @Test(arguments: ["40", "80", "132"])
  func everyStory_fitsTheColumns_inPlainASCII(_ columns: String) throws {
    for subcommand in MermaidRendererTests.subcommands {
      let run = try BinaryRunner.run(
        [subcommand, "--scenario", "all", "--format", "chart"], environment: ["COLUMNS": columns])
      #expect(run.exitCode == 0)
      #expect(run.stderr == "")
      // A story's title and headline are its own words (the title has a "·", the headline may have
      // arrows); the picture, from the first blank line after the title on, is ASCII.
      var inHeader = false
      var previous = ""
      var pictureLines = 0
      for line in run.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
        if line.contains(" · ") && previous.isEmpty { inHeader = true }
        if line.isEmpty { inHeader = false }
        #expect(line.count <= Int(columns)!, "\(subcommand) at \(columns) columns: \(line)")
        if !inHeader {
          pictureLines += 1
          #expect(line.allSatisfy { $0.isASCII }, "\(subcommand): \(line)")
        }
        previous = String(line)
      }
      #expect(pictureLines > 10)
    }
  }
}
