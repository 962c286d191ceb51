/// Lays out a ``ComparisonTable``: as text for a terminal, as GitHub markdown, or as JSON Lines.
/// Pure functions of the table: the same table always gives the same bytes.
enum ComparisonRenderer {
  /// The measured columns, as the text table heads them.
  static let columns = [
    "pattern", "notified", "first", "last", "lost", "skipped", "blocked", "aborted", "done", "quiet",
  ]

  /// The same columns, as the markdown table heads them.
  static let longColumns = [
    "pattern", "stops by", "notified", "first notice", "last notice", "jobs lost", "values skipped",
    "producer blocked", "aborted at the deadline", "main learned \"everyone is done\" from it",
    "time to quiet",
  ]

  // MARK: text

  static func text(_ table: ComparisonTable, width: Int, color: Bool) -> String {
    let style = Style(enabled: color)
    var out = style.bold(table.title) + "\n"
    out += TextRenderer.wrap(table.headline, width: width, indent: "") + "\n"
    out += knobLine(table) + "\n\n"

    out += style.bold("measured, one run per pattern (notices and quiet counted from the signal):") + "\n"
    let cells = table.rows.map { row in
      [
        row.pattern, "\(row.notified) of \(row.participants)", duration(row.firstNotice),
        duration(row.lastNotice), count(row.jobsLost), count(row.valuesSkipped),
        duration(row.producerBlocked),
        "\(row.aborted.count)", row.doneFromPattern ? "yes" : "no", duration(row.timeToQuiet),
      ]
    }
    out += grid([columns] + cells, indent: "  ")
    let participants = table.rows.first?.participants ?? 0
    let key = """
      notified: tasks that noticed the stop themselves, of \(participants). first, last: the first and \
      the last notice. lost: jobs the ring overwrote before the consumer read them. skipped: jobs a \
      newer value replaced. blocked: time the producer waited for room. aborted: tasks cut off at the \
      grace deadline. done: main learned "everyone is done" from the pattern itself. quiet: until the \
      last event. -: the pattern carries no jobs, or nobody noticed.
      """
    out += "\n" + indented(key, width: width, first: "  ", rest: "  ") + "\n"

    out += "\n" + style.bold("what each run shows:") + "\n"
    let labelWidth = table.aspects.map(\.name.count).max() ?? 0
    for (index, row) in table.rows.enumerated() {
      out += "  " + style.bold("\(row.pattern): \(row.stopsBy)") + "\n"
      for aspect in table.aspects where index < aspect.cells.count {
        let label =
          "    " + aspect.name + String(repeating: " ", count: labelWidth - aspect.name.count) + "  "
        out += indented(aspect.cells[index], width: width, first: label, rest: nil) + "\n"
      }
    }

    if !table.costs.isEmpty {
      out +=
        "\n"
        + style.bold(
          "cost of one stop to \(tasks(table)) waiting tasks, measured in this process (real time):") + "\n"
      let costCells = table.costs.map { cost in
        [
          cost.pattern, perTask(cost.nanosecondsPerNotifiedTask, "ns"),
          perTask(cost.bytesPerWaitingTask, "bytes"),
          cost.workload,
        ]
      }
      out += grid(
        [["pattern", "per notified task", "per waiting task", "the stop"]] + costCells, indent: "  ")
    }

    out += "\n" + style.bold("verdict:") + "\n"
    for sentence in table.verdict { out += indented(sentence, width: width, first: "  - ", rest: nil) + "\n" }
    for failure in table.failures { out += "  " + style.paint("FAILED: " + failure, for: .error) + "\n" }
    return out
  }

  /// Columns padded to their widest cell, two spaces apart; no trailing spaces.
  static func grid(_ rows: [[String]], indent: String) -> String {
    let widths = (0..<(rows.map(\.count).max() ?? 0)).map { column in
      rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0
    }
    return rows.map { row in
      var line = indent
      for (column, cell) in row.enumerated() {
        line +=
          cell
          + (column == row.count - 1 ? "" : String(repeating: " ", count: widths[column] - cell.count + 2))
      }
      return line
    }.joined(separator: "\n") + "\n"
  }

  /// `text` after `first`, wrapped to `width`, later lines under the text (or after `rest`).
  static func indented(_ text: String, width: Int, first: String, rest: String?) -> String {
    let hanging = rest ?? String(repeating: " ", count: first.count)
    let lines = wrapWords(text, width: max(width - first.count, 20))
    return first + lines.joined(separator: "\n" + hanging)
  }

  static func knobLine(_ table: ComparisonTable) -> String {
    let knobs = table.knobs + (table.seed == 0 ? [] : [.init(name: "seed", value: "\(table.seed)")])
    return "knobs: " + knobs.map { "--\($0.name) \($0.value)" }.joined(separator: "  ")
  }

  /// "10,000": how many tasks the costs were measured with.
  static func tasks(_ table: ComparisonTable) -> String {
    String(perTask(Double(table.costs.first?.waitingTasks ?? 0), "").dropLast())
  }

  static func duration(_ value: Duration?) -> String { value.map(formatDuration) ?? "-" }
  static func count(_ value: Int?) -> String { value.map { "\($0)" } ?? "-" }

  /// "37 ns", "1,204 bytes": whole units, since the figure varies more than that from run to run.
  static func perTask(_ value: Double, _ unit: String) -> String {
    let whole = Int(value.rounded())
    var digits = String(whole)
    var grouped = ""
    while digits.count > 3 {
      grouped = "," + digits.suffix(3) + grouped
      digits = String(digits.dropLast(3))
    }
    return digits + grouped + " " + unit
  }

  // MARK: markdown

  static func markdown(_ table: ComparisonTable) -> String {
    var out = "### \(table.title)\n\n\(table.headline)\n\n"
    let knobs = table.knobs + (table.seed == 0 ? [] : [.init(name: "seed", value: "\(table.seed)")])
    out += "knobs: " + knobs.map { "`--\($0.name) \($0.value)`" }.joined(separator: " ") + "\n\n"
    out += markdownRow(longColumns) + markdownRow(longColumns.map { _ in "---" })
    for row in table.rows {
      out += markdownRow([
        "`\(row.pattern)`", row.stopsBy, "\(row.notified) of \(row.participants)", duration(row.firstNotice),
        duration(row.lastNotice), count(row.jobsLost), count(row.valuesSkipped),
        duration(row.producerBlocked),
        row.aborted.isEmpty ? "none" : row.aborted.joined(separator: ", "),
        (row.doneFromPattern ? "yes" : "no") + " (\(row.doneHow))", duration(row.timeToQuiet),
      ])
    }
    out += "\n" + markdownRow([""] + table.rows.map { "`\($0.pattern)`" })
    out += markdownRow(["---"] + table.rows.map { _ in "---" })
    for aspect in table.aspects { out += markdownRow([aspect.name] + aspect.cells) }
    if !table.costs.isEmpty {
      out +=
        "\nThe cost of one stop to \(tasks(table)) waiting tasks, measured in this process (real time):\n\n"
      out += markdownRow(["pattern", "per notified task", "per waiting task", "the stop"])
      out += markdownRow(["---", "---", "---", "---"])
      for cost in table.costs {
        out += markdownRow([
          "`\(cost.pattern)`", perTask(cost.nanosecondsPerNotifiedTask, "ns"),
          perTask(cost.bytesPerWaitingTask, "bytes"), cost.workload,
        ])
      }
    }
    out += "\n**Verdict.**\n\n"
    for sentence in table.verdict { out += "- \(sentence)\n" }
    for failure in table.failures { out += "\n**FAILED:** \(failure)\n" }
    return out
  }

  /// One table row; a `|` inside a cell is escaped so it does not split the cell.
  static func markdownRow(_ cells: [String]) -> String {
    "| "
      + cells.map { $0.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|") }
      .joined(separator: " | ") + " |\n"
  }

  // MARK: json

  /// One `comparison` object, one `row` per pattern, one `aspect` per quality, one `cost` per pattern
  /// with `--with-costs`, one `verdict` (see docs/json-output.md).
  static func json(_ table: ComparisonTable) -> String {
    let string = JSONLinesRenderer.string
    func object(_ fields: [(String, String)]) -> String {
      "{" + fields.map { "\(string($0.0)):\($0.1)" }.joined(separator: ",") + "}\n"
    }
    func array(_ values: [String]) -> String { "[" + values.map(string).joined(separator: ",") + "]" }
    func ns(_ value: Duration?) -> String { value.map { "\(nanoseconds(of: $0))" } ?? "null" }
    func int(_ value: Int?) -> String { value.map { "\($0)" } ?? "null" }
    let knobs = table.knobs.map { "\(string($0.name)):\(string($0.value))" }.joined(separator: ",")
    var out = object([
      ("type", string("comparison")), ("scenario", string(table.scenario)),
      ("headline", string(table.headline)), ("knobs", "{\(knobs)}"), ("seed", "\(table.seed)"),
    ])
    for row in table.rows {
      out += object([
        ("type", string("row")), ("scenario", string(table.scenario)), ("pattern", string(row.pattern)),
        ("stops_by", string(row.stopsBy)), ("notified", "\(row.notified)"),
        ("participants", "\(row.participants)"), ("first_notice_ns", ns(row.firstNotice)),
        ("last_notice_ns", ns(row.lastNotice)), ("jobs_lost", int(row.jobsLost)),
        ("values_skipped", int(row.valuesSkipped)), ("producer_blocked_ns", ns(row.producerBlocked)),
        ("aborted", array(row.aborted)), ("done_from_pattern", row.doneFromPattern ? "true" : "false"),
        ("done_how", string(row.doneHow)), ("time_to_quiet_ns", ns(row.timeToQuiet)),
      ])
    }
    for aspect in table.aspects {
      let cells = zip(table.rows, aspect.cells).map { "\(string($0.pattern)):\(string($1))" }
      out += object([
        ("type", string("aspect")), ("scenario", string(table.scenario)), ("aspect", string(aspect.name)),
        ("cells", "{\(cells.joined(separator: ","))}"),
      ])
    }
    for cost in table.costs {
      out += object([
        ("type", string("cost")), ("scenario", string(table.scenario)), ("pattern", string(cost.pattern)),
        ("workload", string(cost.workload)), ("waiting_tasks", "\(cost.waitingTasks)"),
        ("ns_per_notified_task", "\(Int(cost.nanosecondsPerNotifiedTask.rounded()))"),
        ("bytes_per_waiting_task", "\(Int(cost.bytesPerWaitingTask.rounded()))"),
      ])
    }
    out += object([
      ("type", string("verdict")), ("scenario", string(table.scenario)), ("verdict", array(table.verdict)),
      ("failures", array(table.failures)),
    ])
    return out
  }
}
