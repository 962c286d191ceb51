/// Formats bench results. Figures are rounded for reading; JSON keeps full precision.
enum BenchReport {
  static func text(_ result: BenchResult, _ comparison: Comparison, first: Bool) -> String {
    var out = ""
    if first {
      out += "\n\(comparison.id)  \(comparison.title)\n"
      out += "     vs \(comparison.counterpart)\n"
      out += "     target: \(comparison.target)\n"
    }
    var line = "     " + result.executor.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)
    line += "ours \(format(result.ours))"
    if let theirs = result.theirs { line += "   theirs \(format(theirs))" }
    if let ratio = result.ratio { line += "   ratio \(fixed(ratio, 2))× (ours ÷ \(comparison.versus))" }
    for (name, value) in result.extra { line += "   \(name) \(fixed(value, 0))" }
    return out + line + "\n"
  }

  static func text(_ rows: [ScenarioBench.Row]) -> String {
    var out = "\nS    scripted scenarios in-process: median wall time, and virtual time ÷ wall time\n"
    let width = rows.map(\.name.count).max() ?? 0
    for row in rows {
      out += "     " + row.name.padding(toLength: width + 2, withPad: " ", startingAt: 0)
      out += "\(fixed(seconds(row.medianWall) * 1e3, 3)) ms   \(fixed(row.speedUp, 0))× real time\n"
    }
    return out
  }

  static func json(_ result: BenchResult, _ comparison: Comparison) -> String {
    var fields = [
      "\"id\":\"\(comparison.id)\"", "\"executor\":\"\(result.executor.rawValue)\"",
      "\"ours_ns_per_op\":\(summary(result.ours))",
    ]
    if let theirs = result.theirs { fields.append("\"theirs_ns_per_op\":\(summary(theirs))") }
    if let ratio = result.ratio {
      fields.append("\"ratio\":\(ratio)")
      fields.append("\"versus\":\"\(comparison.versus)\"")  // short names, no quotes to escape
    }
    for (name, value) in result.extra {
      fields.append("\"\(name.replacingOccurrences(of: " ", with: "_"))\":\(value)")
    }
    return "{" + fields.joined(separator: ",") + "}\n"
  }

  static func json(_ rows: [ScenarioBench.Row]) -> String {
    rows.map {
      "{\"id\":\"S\",\"scenario\":\"\($0.name)\",\"wall_ms\":\(seconds($0.medianWall) * 1e3),"
        + "\"virtual_s\":\(seconds($0.virtual)),\"speed_up\":\($0.speedUp)}\n"
    }.joined()
  }

  private static func summary(_ summary: BenchResult.Summary) -> String {
    "{\"median\":\(summary.median),\"min\":\(summary.min),\"max\":\(summary.max)}"
  }

  private static func format(_ summary: BenchResult.Summary) -> String {
    "\(fixed(summary.median, 1)) ns (\(fixed(summary.min, 1))–\(fixed(summary.max, 1)))"
  }

  /// `value` with `digits` decimals, without Foundation's locale-dependent formatting.
  static func fixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if text.hasSuffix(".0") && digits == 0 { text.removeLast(2) }
    if let dot = text.firstIndex(of: ".") {
      let decimals = text.distance(from: dot, to: text.endIndex) - 1
      if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    } else if digits > 0 {
      text += "." + String(repeating: "0", count: digits)
    }
    return text
  }
}
