import Patterns

/// Renders a finished scenario as JSON Lines: one `header` object, one `event` object per timeline
/// line, one `summary` object. Keys are stable and always in the order documented in
/// docs/json-output.md; times are integers in nanoseconds, plus the text form the timeline shows.
enum JSONLinesRenderer {
  static func render(_ report: ScenarioReport) -> String {
    let decimals = timestampDecimals(report.events.map(\.time))
    return header(report) + report.events.map { event(report, $0, decimals: decimals) }.joined()
      + summary(report)
  }

  /// The `header` line.
  static func header(_ report: ScenarioReport) -> String {
    let knobs = report.knobArguments.map { "\(string($0.name)):\(string($0.value))" }.joined(separator: ",")
    return object([
      ("type", string("header")), ("pattern", string(report.command)),
      ("scenario", string(report.scenario)), ("headline", string(report.headline)),
      ("knobs", "{\(knobs)}"), ("seed", "\(report.seed)"),
    ])
  }

  /// One `event` line; `decimals` is the precision of its text time.
  static func event(_ report: ScenarioReport, _ event: TimelineEvent, decimals: Int) -> String {
    var fields = [
      ("type", string("event")), ("scenario", string(report.scenario)),
      ("time_ns", nanoseconds(event.time)),
      ("time", string(formatTimestamp(event.time, decimals: decimals))),
      ("actor", string(event.actor)), ("kind", string(event.kind.rawValue)),
      ("detail", string(event.detail)),
    ]
    if let count = event.count { fields.append(("count", "\(count)")) }
    return object(fields)
  }

  /// The `summary` line.
  static func summary(_ report: ScenarioReport) -> String {
    let summary = report.summary
    let extra = report.measured.map { "\(string($0.label)):\(string($0.text))" }.joined(separator: ",")
    // Integer facts a story names (the flow's request counts and exit code) follow `measured`.
    let keyed = report.measured.flatMap(\.keyedIntegers).map { ($0.key, "\($0.value)") }
    return object(
      [
        ("type", string("summary")), ("scenario", string(report.scenario)),
        ("shutdown_at_ns", summary.shutdownAt.map(nanoseconds) ?? "null"),
        ("participants", array(summary.participants)), ("observed", array(summary.observed)),
        ("aborted", array(summary.aborted)), ("lost", "\(summary.lost)"), ("skipped", "\(summary.skipped)"),
        ("time_to_quiet_ns", summary.timeToQuiet.map(nanoseconds) ?? "null"),
        ("measured", "{\(extra)}"),
      ] + keyed + [("lesson", string(report.lesson)), ("failures", array(report.failures))])
  }

  private static func object(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}\n"
  }

  private static func array(_ values: [String]) -> String {
    "[" + values.map(string).joined(separator: ",") + "]"
  }

  private static func nanoseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    return "\(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)"
  }

  /// A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped.
  static func string(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
