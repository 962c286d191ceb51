import Patterns

/// Renders a finished scenario as the text a learner reads: header, timeline, summary, lesson.
/// A pure function of the report: the same report always gives the same bytes.
enum TextRenderer {
  static func render(_ report: ScenarioReport, width: Int, color: Bool) -> String {
    let style = Style(enabled: color)
    var out = header(report, width: width, style: style)
    let decimals = timestampDecimals(report.events.map(\.time))
    let times = report.events.map { formatTimestamp($0.time, decimals: decimals) }
    let columns = TimelineColumns(
      time: max(4, times.map(\.count).max() ?? 0), who: max(3, report.events.map(\.actor.count).max() ?? 0))
    out += columns.heading
    for (event, time) in zip(report.events, times) {
      out += columns.line(event, time: time, width: width, style: style)
    }
    return out + footer(report, width: width, style: style)
  }

  /// The header: subcommand and story, the headline, the knobs, and a blank line.
  static func header(_ report: ScenarioReport, width: Int, style: Style) -> String {
    var out = style.bold("\(report.command) · \(report.scenario)") + "\n"
    out += wrap(report.headline, width: width, indent: "") + "\n"
    // The seed is part of the record, so a saved run says how to reproduce it (0, the default, needs no flag).
    let knobs = report.knobArguments + (report.seed == 0 ? [] : [(name: "seed", value: "\(report.seed)")])
    if !knobs.isEmpty {
      out += "knobs: " + knobs.map { "--\($0.name) \($0.value)" }.joined(separator: "  ") + "\n"
    }
    return out + "\n"
  }

  /// After the timeline: the summary, any failures, and the lesson.
  static func footer(_ report: ScenarioReport, width: Int, style: Style) -> String {
    var out = "\n" + style.bold("summary:") + "\n"
    let rows = summaryRows(report)
    let labelWidth = rows.map(\.label.count).max() ?? 0
    for row in rows { out += "  " + pad(row.label, labelWidth) + "  " + row.text + "\n" }
    for failure in report.failures { out += "  " + style.paint("FAILED: " + failure, for: .error) + "\n" }
    out += wrap(style.bold("lesson:") + " " + report.lesson, width: width, indent: "  ") + "\n"
    return out
  }

  /// The measured facts, in words: the timeline's own, then the story's. Only what the story has:
  /// "aborted at the deadline" only where a deadline did the aborting, counts that are zero left out.
  static func summaryRows(_ report: ScenarioReport) -> [SummaryLine] {
    let summary = report.summary
    var rows: [SummaryLine] = []
    if !summary.participants.isEmpty {
      let missed = summary.participants.filter { !summary.observed.contains($0) }
      rows.append(
        SummaryLine(
          "observed the shutdown", .fraction(summary.observed.count, of: summary.participants.count),
          note: missed.isEmpty ? nil : "(not: \(missed.joined(separator: ", ")))"))
    }
    if let cutter = report.abortedBy, !summary.aborted.isEmpty {
      rows.append(SummaryLine("aborted by \(cutter)", .names(summary.aborted)))
    } else if report.hasGraceDeadline {
      rows.append(SummaryLine("aborted at the deadline", .names(summary.aborted)))
    } else if !summary.aborted.isEmpty {
      rows.append(SummaryLine("aborted", .names(summary.aborted)))
    }
    if summary.lost > 0 { rows.append(SummaryLine("messages lost", .count(summary.lost))) }
    if summary.skipped > 0 { rows.append(SummaryLine("values skipped", .count(summary.skipped))) }
    if let quiet = summary.timeToQuiet {
      rows.append(SummaryLine("time to quiet", .duration(quiet), note: "after the signal"))
    }
    return rows + report.measured
  }

  static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
  }

  /// The headline and lesson, wrapped like help text. ANSI codes count as width, which only matters
  /// on a terminal, where a few columns of slack do no harm.
  static func wrap(_ text: String, width: Int, indent: String) -> String {
    wrapWords(text, width: width, indent: indent).joined(separator: "\n")
  }
}

/// The timeline's three columns (`time  who  what`) at given widths: a finished report sizes them
/// to its widest entries; a live run, which cannot know those yet, widens them as it goes.
struct TimelineColumns: Sendable, Equatable {
  var time: Int
  var who: Int

  /// The column titles.
  var heading: String {
    "  " + TextRenderer.pad("time", time, right: true) + "  " + TextRenderer.pad("who", who) + "  what\n"
  }

  /// One event's line. A long "what" wraps under its own column, not at column 0 where the terminal
  /// would put it. `actorColor` paints the "who" column (a live run's colour per actor).
  func line(
    _ event: TimelineEvent, time stamp: String, width: Int, style: Style, actorColor: String? = nil
  ) -> String {
    let whatColumn = 2 + time + 2 + who + 2
    let hanging = String(repeating: " ", count: whatColumn)
    let actor = TextRenderer.pad(event.actor, who)
    let who = actorColor.map { style.enabled ? "\u{1B}[\($0)m\(actor)\u{1B}[0m" : actor } ?? actor
    let what = wrapWords(event.detail, width: max(width - whatColumn, 20))
    return "  " + TextRenderer.pad(stamp, time, right: true) + "  " + who + "  "
      + what.map { style.paint($0, for: event.kind) }.joined(separator: "\n" + hanging) + "\n"
  }
}

/// Time as the timeline shows it: seconds with `decimals` places (3: milliseconds, "1.250s").
func formatTimestamp(_ time: Duration, decimals: Int = 3) -> String {
  let (seconds, attoseconds) = time.components
  var unit: Int64 = 1_000_000_000_000_000_000
  for _ in 0..<decimals { unit /= 10 }
  let fraction = String(attoseconds / unit)
  return "\(seconds)." + String(repeating: "0", count: decimals - fraction.count) + fraction + "s"
}

/// How many decimals a timeline needs so that no two different times print alike: milliseconds,
/// unless some event falls between them (a knob of `500us`), then micro- or nanoseconds.
func timestampDecimals(_ times: [Duration]) -> Int {
  var decimals = 3
  for time in times {
    let attoseconds = time.components.attoseconds
    if attoseconds % 1_000_000_000_000 != 0 { return 9 }  // finer than a microsecond
    if attoseconds % 1_000_000_000_000_000 != 0 { decimals = 6 }  // finer than a millisecond
  }
  return decimals
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
