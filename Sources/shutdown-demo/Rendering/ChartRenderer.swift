import Patterns

/// Renders a finished story as swimlanes in the terminal (`--format chart`): one lane per actor, time
/// across, scaled to the terminal's width (`COLUMNS`, 80 by default).
///
/// ```text
///                    | SIGTERM 1.000s
/// main      =========>~~~~~~~~~~~~~~~~~]
/// worker-1  =========|=====!~~]
/// ```
///
/// Each column is a slice of virtual time. A span's glyph fills the columns it covers; an instant's
/// glyph (`>`, `!`, `]`, `X`) takes its column and wins over the span and the markers, so two events
/// in one column show the one that matters most (aborted, then exited, noticed, told). The signal and
/// the grace deadline are vertical markers through every lane, named above the lanes. Plain ASCII, so
/// it survives any terminal and a copy into a bug report; colour only when asked for.
enum ChartRenderer {
  static func render(_ picture: StoryPicture, width: Int, color: Bool) -> String {
    let lanes = Swimlanes(picture)
    let paint = Paint(enabled: color)
    let labelWidth = max(4, picture.actors.map(\.count).max() ?? 0) + 2
    let plotWidth = max(20, width - labelWidth - 1)
    let scale = Scale(span: lanes.span, columns: plotWidth)
    let indent = String(repeating: " ", count: labelWidth)

    var out = paint.bold(picture.title) + "\n"
    out += wrapWords(picture.subtitle, width: width).joined(separator: "\n") + "\n\n"

    // The markers: (column, glyph, label) for the signal and the grace deadline in view.
    var markers: [(column: Int, glyph: Character, label: String)] = []
    if let signal = picture.signalTime {
      markers.append(
        (scale.column(signal), "|", "\(picture.signalName ?? "signal") \(formatTimestamp(signal))"))
    }
    if let deadline = picture.graceDeadline, lanes.showsGraceDeadline {
      markers.append((scale.column(deadline), ":", "grace deadline \(formatTimestamp(deadline))"))
    }
    for row in markerLabelRows(markers, plotWidth: plotWidth) {
      out += indent + paintRow(row, paint: paint, legend: true) + "\n"
    }

    for lane in lanes.lanes {
      var cells = [Character](repeating: " ", count: plotWidth)
      for span in lane.spans {
        let first = scale.column(span.start)
        let last = scale.column(span.end)
        for column in first..<max(first, last) { cells[column] = glyph(span.state) }
      }
      for marker in markers
      where [" ", glyph(.working), glyph(.waiting), glyph(.windingDown)].contains(
        cells[marker.column])
      {
        cells[marker.column] = marker.glyph
      }
      for mark in Swimlanes.Mark.allCases {
        for instant in lane.instants where instant.mark == mark {
          cells[scale.column(instant.time)] = glyph(mark)
        }
      }
      let name = lane.actor + String(repeating: " ", count: labelWidth - lane.actor.count)
      out += name + paintRow(String(cells), paint: paint).trimmingTrailingSpaces() + "\n"
    }

    let axis = axisRows(scale: scale)
    out += indent + axis.ticks + "\n" + indent + axis.labels + "\n\n"
    out += legend(picture, lanes: lanes, width: width, paint: paint)
    return out
  }

  /// Maps virtual time to a column: zero at column 0, the whole span at the last column.
  struct Scale {
    var span: Duration
    var columns: Int

    func column(_ time: Duration) -> Int {
      let total = nanoseconds(of: span)
      let at = min(max(nanoseconds(of: time), 0), total)
      // Integer arithmetic: the same column on every machine and build.
      return Int((Int128(at) * Int128(columns - 1)) / Int128(max(total, 1)))
    }
  }

  static func glyph(_ state: Swimlanes.State) -> Character {
    switch state {
    case .working: "="
    case .waiting: "."
    case .windingDown: "~"
    }
  }

  static func glyph(_ mark: Swimlanes.Mark) -> Character {
    switch mark {
    case .told: ">"
    case .noticed: "!"
    case .exited: "]"
    case .aborted: "X"
    }
  }

  /// Marker names above the lanes, each starting at its marker's column (or ending there when it would
  /// run off the right edge); a name that would touch another goes on a row of its own.
  private static func markerLabelRows(
    _ markers: [(column: Int, glyph: Character, label: String)], plotWidth: Int
  ) -> [String] {
    var rows: [[Character]] = []
    // The cells each row's names cover, spaces between their words included.
    var taken: [[Bool]] = []
    for marker in markers {
      // The glyph stands over its column, with the name to its right, or to its left near the edge.
      var text = Array("\(marker.glyph) \(marker.label)")
      var start = marker.column
      if start + text.count > plotWidth {
        text = Array("\(marker.label) \(marker.glyph)")
        start = max(0, marker.column - text.count + 1)
      }
      let range = start..<min(plotWidth, start + text.count)
      let around = max(0, range.lowerBound - 1)..<min(plotWidth, range.upperBound + 1)
      let index =
        taken.firstIndex { row in around.allSatisfy { !row[$0] } }
        ?? {
          rows.append([Character](repeating: " ", count: plotWidth))
          taken.append([Bool](repeating: false, count: plotWidth))
          return rows.count - 1
        }()
      for (offset, column) in range.enumerated() {
        rows[index][column] = text[offset]
        taken[index][column] = true
      }
    }
    // The glyph also stands over its column on rows that hold another marker's name.
    for marker in markers {
      for index in rows.indices where !taken[index][marker.column] {
        rows[index][marker.column] = marker.glyph
      }
    }
    return rows.map { String($0).trimmingTrailingSpaces() }
  }

  /// A tick row (`+` at each step, `-` between) and the step's times under it, the step chosen so that
  /// the labels never touch.
  static func axisRows(scale: Scale) -> (ticks: String, labels: String) {
    let span = nanoseconds(of: scale.span)
    let step = Swimlanes.tickStep(span: span, length: scale.columns - 1) { $0 + 2 }
    var ticks = [Character](repeating: "-", count: scale.columns)
    var labels = [Character](repeating: " ", count: scale.columns)
    for time in stride(from: Int64(0), through: span, by: Int(step)) {
      let column = scale.column(.nanoseconds(time))
      ticks[column] = "+"
      let text = Array(formatDuration(.nanoseconds(time)))
      let start = max(0, min(column, scale.columns - text.count))
      let end = min(scale.columns, start + text.count)
      // The last label may have to move left to fit; it is left out if it would then touch another.
      guard labels[max(0, start - 1)..<min(scale.columns, end + 1)].allSatisfy({ $0 == " " }) else {
        continue
      }
      for offset in 0..<(end - start) { labels[start + offset] = text[offset] }
    }
    return (String(ticks), String(labels).trimmingTrailingSpaces())
  }

  /// What each glyph means, wrapped to the width.
  private static func legend(_ picture: StoryPicture, lanes: Swimlanes, width: Int, paint: Paint) -> String {
    var items = [
      "\(glyph(.working)) working", "\(glyph(.waiting)) waiting", "\(glyph(.told)) told others to stop",
      "\(glyph(.noticed)) noticed the shutdown", "\(glyph(.windingDown)) winding down",
      "\(glyph(.exited)) exited",
      "\(glyph(.aborted)) aborted",
    ]
    if let signal = picture.signalTime {
      items.append("| \(picture.signalName ?? "signal") at \(formatTimestamp(signal))")
    }
    if let deadline = picture.graceDeadline {
      items.append(
        lanes.showsGraceDeadline
          ? ": grace deadline at \(formatTimestamp(deadline))"
          : "grace deadline at \(formatTimestamp(deadline)), off the chart")
    }
    var lines: [String] = []
    var line = "legend:"
    for item in items {
      if line.count + 2 + item.count > width, line != "legend:" {
        lines.append(line)
        line = "       "
      }
      line += "  " + item
    }
    lines.append(line)
    return lines.map { paintRow($0, paint: paint, legend: true) }.joined(separator: "\n") + "\n"
  }

  /// Colours a row of glyphs (or, in the legend, the glyph that starts each item).
  private static func paintRow(_ row: String, paint: Paint, legend: Bool = false) -> String {
    guard paint.enabled else { return row }
    var out = ""
    var previous: Character = " "
    for character in row {
      // In the legend only a glyph standing alone (after a space) is a glyph; in lanes every one is.
      let isGlyph = !legend || previous == " "
      out += isGlyph ? paint.glyph(character) : String(character)
      previous = character
    }
    return out
  }

  /// ANSI colours for the glyphs; everything passes through unchanged when colour is off.
  struct Paint {
    var enabled: Bool

    func bold(_ text: String) -> String { enabled ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

    func glyph(_ character: Character) -> String {
      let code: String
      switch character {
      case "=": code = "34"  // blue: busy
      case ".": code = "2"  // dim: blocked
      case ">", "!", "~": code = "33"  // yellow: the shutdown travelling
      case "]": code = "32"  // green: a clean stop
      case "X", "|": code = "31"  // red: cut off, and the signal
      case ":": code = "35"  // magenta: the clock ran out
      default: return String(character)
      }
      return "\u{1B}[\(code)m\(character)\u{1B}[0m"
    }
  }
}

extension String {
  /// The text without the spaces at its end (lanes and rows are padded while they are drawn).
  func trimmingTrailingSpaces() -> String {
    var text = self
    while text.last == " " { text.removeLast() }
    return text
  }
}
