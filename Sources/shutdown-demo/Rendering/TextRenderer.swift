import Patterns

/// Renders a finished scenario as the text a learner reads: header, timeline, summary, lesson.
/// A pure function of the report: the same report always gives the same bytes.
enum TextRenderer {
  static func render(_ report: ScenarioReport, width: Int, color: Bool) -> String {
    let style = Style(enabled: color)
    var out = ""
    out += style.bold("\(report.pattern) · \(report.scenario)") + "\n"
    out += wrap(report.headline, width: width, indent: "") + "\n"
    if !report.knobs.isEmpty {
      out += "knobs: " + report.knobs.map { "--\($0.name) \($0.value)" }.joined(separator: "  ") + "\n"
    }
    out += "\n"

    let times = report.events.map { formatTimestamp($0.time) }
    let timeWidth = max(4, times.map(\.count).max() ?? 0)
    let whoWidth = max(3, report.events.map(\.actor.count).max() ?? 0)
    out += "  " + pad("time", timeWidth, right: true) + "  " + pad("who", whoWidth) + "  what\n"
    for (event, time) in zip(report.events, times) {
      let line = pad(time, timeWidth, right: true) + "  " + pad(event.actor, whoWidth) + "  "
      out += "  " + line + style.paint(event.detail, for: event.kind) + "\n"
    }

    out += "\n" + style.bold("summary:") + "\n"
    let rows = summaryRows(report)
    let labelWidth = rows.map(\.label.count).max() ?? 0
    for row in rows { out += "  " + pad(row.label, labelWidth) + "  " + row.value + "\n" }
    for failure in report.failures { out += "  " + style.paint("FAILED: " + failure, for: .error) + "\n" }
    out += wrap(style.bold("lesson:") + " " + report.lesson, width: width, indent: "  ") + "\n"
    return out
  }

  /// The measured invariants, in words. Counts that are zero and not the point are left out.
  static func summaryRows(_ report: ScenarioReport) -> [SummaryLine] {
    let summary = report.summary
    var rows: [SummaryLine] = []
    if !summary.participants.isEmpty {
      var observed = "\(summary.observed.count) of \(summary.participants.count)"
      let missed = summary.participants.filter { !summary.observed.contains($0) }
      if !missed.isEmpty { observed += " (not: \(missed.joined(separator: ", ")))" }
      rows.append(SummaryLine(label: "observed the shutdown", value: observed))
    }
    rows.append(
      SummaryLine(
        label: "aborted at the deadline",
        value: summary.aborted.isEmpty ? "none" : summary.aborted.joined(separator: ", ")))
    if summary.lost > 0 { rows.append(SummaryLine(label: "messages lost", value: "\(summary.lost)")) }
    if summary.skipped > 0 { rows.append(SummaryLine(label: "values skipped", value: "\(summary.skipped)")) }
    if let quiet = summary.timeToQuiet {
      rows.append(SummaryLine(label: "time to quiet", value: "\(formatDuration(quiet)) after the signal"))
    }
    return rows + report.extraSummary
  }

  private static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
  }

  /// The headline and lesson, wrapped like help text. ANSI codes count as width, which only matters
  /// on a terminal, where a few columns of slack do no harm.
  static func wrap(_ text: String, width: Int, indent: String) -> String {
    wrapWords(text, width: width, indent: indent).joined(separator: "\n")
  }
}

/// Virtual time as the timeline shows it: seconds with milliseconds, "1.250s".
func formatTimestamp(_ time: Duration) -> String {
  let (seconds, attoseconds) = time.components
  let millis = attoseconds / 1_000_000_000_000_000
  let fraction = String(millis)
  return "\(seconds)." + String(repeating: "0", count: 3 - fraction.count) + fraction + "s"
}

/// ANSI colours by event kind; everything passes through unchanged when colour is off.
struct Style {
  var enabled: Bool

  func bold(_ text: String) -> String { enabled ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

  func paint(_ text: String, for kind: TimelineEvent.Kind) -> String {
    guard enabled else { return text }
    let code: String
    switch kind {
    case .signal, .abort, .error, .lost: code = "31"  // red: something was cut or lost
    case .notify, .observe, .skipped: code = "33"  // yellow: the shutdown travelling
    case .exit: code = "32"  // green: a clean stop
    case .deadline: code = "35"  // magenta: the clock ran out
    case .work: code = "2"  // dim: routine
    default: return text
    }
    return "\u{1B}[\(code)m\(text)\u{1B}[0m"
  }
}
