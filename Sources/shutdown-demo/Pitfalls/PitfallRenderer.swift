import Patterns

/// Renders pitfalls as text (next to the pitfalls, since it reads their results; the pictures and
/// JSON go through the shared renderers): the list, and one pitfall's two timelines (side by side when the
/// terminal is wide enough), the outcome table, the code of each version and why. Pure functions
/// of finished results.
enum PitfallRenderer {
  /// Below this width the two timelines are printed one after the other.
  static let twoColumnWidth = 160

  /// One line per pitfall: its name, what goes wrong, and the number, wrong and right.
  static func renderList(_ results: [PitfallResult], width: Int, color: Bool) -> String {
    let style = Style(enabled: color)
    var out = style.bold("pitfalls") + "\n"
    out +=
      TextRenderer.wrap(
        "\(results.count) classic shutdown mistakes, each run wrong and right in virtual time; "
          + "the number is the wrong version's, then the right one's.", width: width, indent: "") + "\n\n"
    let nameWidth = results.map(\.pitfall.name.count).max() ?? 0
    for result in results {
      let number = "\(metric(of: result)): \(result.wrongValue.text) vs \(result.rightValue.text)"
      let mark =
        result.isSound
        ? "" : "  " + style.paint("FAILED: " + result.defects.joined(separator: "; "), for: .error)
      // Wrapped under its own column, like the options in help, so each pitfall stays one block.
      let prefix = "  " + pad(result.pitfall.name, nameWidth) + "  "
      let lines = wrapWords(
        result.pitfall.goesWrong + " (" + number + ")", width: max(20, width - prefix.count))
      let indent = String(repeating: " ", count: prefix.count)
      out += prefix + lines.joined(separator: "\n" + indent) + mark + "\n"
    }
    out += "\nrun one: shutdown-demo pitfalls <name>; every one: shutdown-demo pitfalls all\n"
    return out
  }

  /// The metric's name: the pitfall's own, or, when exploration turned the number into a count of
  /// schedules for a pitfall that is not about schedules, what that count means.
  static func metric(of result: PitfallResult) -> String {
    result.explored && result.pitfall.schedules == nil ? "shows its failure in" : result.pitfall.metric
  }

  /// One pitfall: header, both timelines, outcome table, code, why.
  static func render(_ result: PitfallResult, width: Int, color: Bool) -> String {
    let style = Style(enabled: color)
    let pitfall = result.pitfall
    var out = style.bold("pitfalls · \(pitfall.name)") + "\n"
    out += TextRenderer.wrap(pitfall.headline, width: width, indent: "") + "\n\n"

    let titles = PitfallVersion.allCases.map { version in
      let report = result.report(version)
      return version.title + (report.seed == 0 ? "" : " (seed \(report.seed))")
    }
    if width >= twoColumnWidth {
      let column = (width - 3) / 2
      let left = [titles[0]] + timeline(result.wrong, width: column, style: style)
      let right = [titles[1]] + timeline(result.right, width: column, style: style)
      for row in 0..<max(left.count, right.count) {
        let a = row < left.count ? left[row] : ""
        let b = row < right.count ? right[row] : ""
        let line = visiblePad(a, column) + " | " + b
        out += trimmedRight(line) + "\n"
      }
    } else {
      for (index, version) in PitfallVersion.allCases.enumerated() {
        if index > 0 { out += "\n" }
        out += titles[index] + "\n"
        for line in timeline(result.report(version), width: width, style: style) { out += line + "\n" }
      }
    }

    out += "\n" + style.bold("outcome:") + "\n"
    let label = metric(of: result)
    let values = PitfallVersion.allCases.map { result.value($0).text }
    let valueWidth = max(label.count, values.map(\.count).max() ?? 0)
    out += "  " + pad("", 7) + "  " + pad(label, valueWidth) + "  what it shows\n"
    for (version, value) in zip(PitfallVersion.allCases, values) {
      let shows = result.failure(version) ?? "clean"
      let prefix = "  " + pad(version.title, 7) + "  " + pad(value, valueWidth) + "  "
      let wrapped = wrapWords(shows, width: max(width - prefix.count, 20))
      out += prefix + wrapped.joined(separator: "\n" + String(repeating: " ", count: prefix.count)) + "\n"
    }
    for defect in result.defects { out += "  " + style.paint("FAILED: " + defect, for: .error) + "\n" }

    out += "\n" + style.bold("code:") + "\n"
    for version in PitfallVersion.allCases {
      out += "  " + version.title + "\n"
      let side = version == .wrong ? pitfall.wrong : pitfall.right
      for line in side.code { out += "    " + line + "\n" }
    }
    out += TextRenderer.wrap(style.bold("why:") + " " + pitfall.why, width: width, indent: "  ") + "\n"
    return out
  }

  /// The timeline table of one run, each line at most `width` columns where words allow.
  static func timeline(_ report: ScenarioReport, width: Int, style: Style) -> [String] {
    let decimals = timestampDecimals(report.events.map(\.time))
    let times = report.events.map { formatTimestamp($0.time, decimals: decimals) }
    let timeWidth = max(4, times.map(\.count).max() ?? 0)
    let whoWidth = max(3, report.events.map(\.actor.count).max() ?? 0)
    var lines = ["  " + pad("time", timeWidth, right: true) + "  " + pad("who", whoWidth) + "  what"]
    let whatColumn = 2 + timeWidth + 2 + whoWidth + 2
    for (event, time) in zip(report.events, times) {
      let what = wrapWords(event.detail, width: max(width - whatColumn, 20))
      for (index, part) in what.enumerated() {
        let lead =
          index == 0
          ? "  " + pad(time, timeWidth, right: true) + "  " + pad(event.actor, whoWidth) + "  "
          : String(repeating: " ", count: whatColumn)
        lines.append(lead + style.paint(part, for: event.kind))
      }
    }
    return lines
  }

  private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
  }

  /// Pads to `width` visible columns: ANSI colour codes take no room on screen.
  private static func visiblePad(_ text: String, _ width: Int) -> String {
    var visible = 0
    var inEscape = false
    for character in text {
      if character == "\u{1B}" {
        inEscape = true
      } else if inEscape {
        if character == "m" { inEscape = false }
      } else {
        visible += 1
      }
    }
    return text + String(repeating: " ", count: max(0, width - visible))
  }

  private static func trimmedRight(_ text: String) -> String {
    var text = text
    while text.last == " " { text.removeLast() }
    return text
  }

  /// A JSON Lines object describing one pitfall's verdict, written before its two runs.
  static func jsonHeader(_ result: PitfallResult) -> String {
    let string = JSONLinesRenderer.string
    let fields: [(String, String)] = [
      ("type", string("pitfall")), ("name", string(result.pitfall.name)),
      ("goes_wrong", string(result.pitfall.goesWrong)), ("metric", string(metric(of: result))),
      ("wrong", string(result.wrongValue.text)), ("right", string(result.rightValue.text)),
      ("wrong_failure", result.wrongFailure.map(string) ?? "null"),
      ("right_failure", result.rightFailure.map(string) ?? "null"),
      ("sound", result.isSound ? "true" : "false"),
    ]
    return "{" + fields.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}\n"
  }
}
