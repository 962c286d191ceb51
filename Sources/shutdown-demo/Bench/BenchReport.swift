/// Formats bench results. Figures are rounded for reading; JSON keeps full precision.
enum BenchReport {
  /// The width the table keeps to.
  static let width = 100

  /// A row of the table. `scale` is what `--quick` divides the sizes by, so the title says what ran.
  static func text(_ result: BenchResult, _ comparison: Comparison, first: Bool, scale: Int = 1) -> String {
    var out = ""
    if first {
      out += "\n\(comparison.id)  \(scaled(comparison.title, by: scale))\n"
      out += wrapWords("vs \(scaled(comparison.counterpart, by: scale))", width: width - 5, indent: "   ").map
      {
        "     " + $0 + "\n"
      }
      .joined()
      out += "     target: \(comparison.target)\n"
    }
    var line = "     " + result.executor.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)
    line += "ours \(format(result.ours))"
    if let theirs = result.theirs { line += "   theirs \(format(theirs))" }
    var parts: [String] = []
    if let value = result.ratio { parts.append("ratio \(fixed(value, 2))× (ours ÷ \(comparison.versus))") }
    for (name, value) in result.extra { parts.append("\(name) \(fixed(value, 0))") }
    if let met = comparison.meets(result) { parts.append(met ? "target met" : "target missed") }
    // Past the table's width, the rest goes on lines of their own, under the figures.
    var last = line
    var lines: [String] = []
    for part in parts {
      if last.count + 3 + part.count <= width {
        last += "   " + part
      } else {
        lines.append(last)
        last = String(repeating: " ", count: 22) + part
      }
    }
    line = (lines + [last]).joined(separator: "\n")
    return out + line + "\n"
  }

  /// The title with each size (a number written with thousands separators) divided by `scale`.
  static func scaled(_ title: String, by scale: Int) -> String {
    guard scale > 1 else { return title }
    return title.replacing(/\d{1,3}(,\d{3})+/) { match in
      grouped((Int(match.output.0.filter(\.isNumber)) ?? 0) / scale)
    }
  }

  /// "100,000": thousands separated by commas, whatever the locale.
  static func grouped(_ value: Int) -> String {
    var digits = String(value)
    var groups: [String] = []
    while digits.count > 3 {
      groups.insert(String(digits.suffix(3)), at: 0)
      digits.removeLast(3)
    }
    return ([digits] + groups).joined(separator: ",")
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
