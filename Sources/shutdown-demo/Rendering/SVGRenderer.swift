import Patterns

/// Renders finished stories as one standalone SVG document (`--format svg`): the chart's swimlanes as
/// a picture, for a web page or a README. Several stories (`--scenario all`) are stacked in the one
/// document, one panel each.
///
/// The document needs nothing else: no external font (the generic `sans-serif`), stylesheet or script.
/// It is valid XML (text and attributes escaped) and readable without sight: `role="img"` with
/// `aria-labelledby` naming its `<title>` and `<desc>`, real `<text>` for every name and time, and a
/// `<title>` on every span and mark saying who did what, when. Numbers are printed by hand with one
/// decimal, so the bytes are the same on every machine and build.
enum SVGRenderer {
  /// Picture geometry, in pixels.
  private static let width = 960
  private static let margin = 16
  private static let labelWidth = 128
  private static let laneHeight = 26
  private static let plotLeft = margin + labelWidth
  private static let plotWidth = width - plotLeft - margin

  static func render(_ pictures: [StoryPicture]) -> String {
    var body = ""
    var top = 0
    for (index, picture) in pictures.enumerated() {
      let panel = self.panel(picture, number: index + 1)
      body += "<g id=\"story-\(index + 1)\" transform=\"translate(0 \(top))\">\n" + panel.text + "</g>\n"
      top += panel.height
    }
    let title = pictures.map(\.title).joined(separator: "; ")
    let description = pictures.map(describe).joined(separator: " ")
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    out +=
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(top)\" "
      + "viewBox=\"0 0 \(width) \(top)\" role=\"img\" aria-labelledby=\"title desc\" "
      + "font-family=\"sans-serif\" font-size=\"12\">\n"
    out += "<title id=\"title\">\(escape(title))</title>\n"
    out += "<desc id=\"desc\">\(escape(description))</desc>\n"
    out += "<rect width=\"\(width)\" height=\"\(top)\" fill=\"#ffffff\"/>\n"
    return out + body + "</svg>\n"
  }

  /// In words, for a screen reader: what happens, who has a lane, and when the markers fall.
  static func describe(_ picture: StoryPicture) -> String {
    var text = "\(picture.title): \(picture.subtitle) Lanes: \(picture.actors.joined(separator: ", "))."
    if let signal = picture.signalTime {
      text += " \(picture.signalName ?? "The signal") at \(formatTimestamp(signal))."
    }
    if let deadline = picture.graceDeadline { text += " Grace deadline at \(formatTimestamp(deadline))." }
    text += " Quiet at \(formatTimestamp(picture.endTime))."
    return text
  }

  private static func panel(_ picture: StoryPicture, number: Int) -> (text: String, height: Int) {
    let lanes = Swimlanes(picture)
    let total = nanoseconds(of: lanes.span)
    /// x of a time, in tenths of a pixel.
    func x(_ time: Duration) -> Int64 {
      let at = min(max(nanoseconds(of: time), 0), total)
      return Int64(plotLeft * 10) + Int64(Int128(at) * Int128(plotWidth * 10) / Int128(max(total, 1)))
    }
    var out = ""
    var y = margin + 14
    out += text(x: margin * 10, y: y * 10, picture.title, extra: " font-size=\"16\" font-weight=\"bold\"")
    for line in wrapWords(picture.subtitle, width: 130) {
      y += 18
      out += text(x: margin * 10, y: y * 10, line, extra: " fill=\"#333333\"")
    }

    // Marker names, above the lanes: the signal's on the upper row when there are two.
    var markers: [(time: Duration, label: String, style: String)] = []
    if let signal = picture.signalTime {
      markers.append(
        (
          signal, "\(picture.signalName ?? "signal") \(formatTimestamp(signal))",
          "stroke=\"#c62828\" stroke-width=\"2\""
        ))
    }
    if let deadline = picture.graceDeadline, lanes.showsGraceDeadline {
      markers.append(
        (
          deadline, "grace deadline \(formatTimestamp(deadline))",
          "stroke=\"#8e24aa\" stroke-width=\"2\" stroke-dasharray=\"6 4\""
        ))
    }
    y += markers.count > 1 ? 40 : 26
    let markerLabelY = y
    let lanesTop = y + 8
    let lanesBottom = lanesTop + lanes.lanes.count * laneHeight

    for (index, lane) in lanes.lanes.enumerated() {
      let laneTop = lanesTop + index * laneHeight
      out += "<g class=\"lane\" data-actor=\"\(escape(lane.actor))\">\n"
      if index % 2 == 1 {
        out +=
          "<rect x=\"\(margin)\" y=\"\(laneTop)\" width=\"\(width - 2 * margin)\" height=\"\(laneHeight)\" "
          + "fill=\"#f4f4f4\"/>\n"
      }
      out += text(x: margin * 10, y: (laneTop + 17) * 10, lane.actor, extra: "")
      for span in lane.spans {
        let left = x(span.start)
        let barWidth = max(x(span.end) - left, 1)
        let (fill, words) = style(span.state)
        out +=
          "<rect x=\"\(px(left))\" y=\"\(laneTop + 7)\" width=\"\(px(barWidth))\" height=\"12\" fill=\"\(fill)\">"
          + "<title>\(escape("\(lane.actor) \(words) from \(formatTimestamp(span.start)) to \(formatTimestamp(span.end))"))"
          + "</title></rect>\n"
      }
      for instant in lane.instants {
        out += mark(instant, actor: lane.actor, x: x(instant.time), middle: laneTop + 13)
      }
      out += "</g>\n"
    }

    for (index, marker) in markers.enumerated() {
      let at = x(marker.time)
      out +=
        "<g class=\"marker\">\n<line x1=\"\(px(at))\" y1=\"\(lanesTop - 4)\" x2=\"\(px(at))\" y2=\"\(lanesBottom + 4)\" "
        + "\(marker.style)/>\n"
      let anchor = at > Int64((plotLeft + plotWidth - 160) * 10) ? " text-anchor=\"end\"" : ""
      let labelX = anchor.isEmpty ? at + 40 : at - 40
      let row = markers.count > 1 && index == 0 ? 14 : 0
      out += text(x: labelX, y: (markerLabelY - row) * 10, marker.label, extra: anchor) + "</g>\n"
    }

    // The time axis.
    let axisY = lanesBottom + 10
    out += "<g class=\"axis\">\n"
    out +=
      "<line x1=\"\(plotLeft)\" y1=\"\(axisY)\" x2=\"\(plotLeft + plotWidth)\" y2=\"\(axisY)\" stroke=\"#555555\"/>\n"
    let step = Swimlanes.tickStep(span: total, length: plotWidth) { $0 * 7 + 16 }
    for time in stride(from: Int64(0), through: total, by: Int(step)) {
      let at = x(.nanoseconds(time))
      out +=
        "<line x1=\"\(px(at))\" y1=\"\(axisY)\" x2=\"\(px(at))\" y2=\"\(axisY + 5)\" stroke=\"#555555\"/>\n"
      out += text(
        x: at, y: (axisY + 18) * 10, formatDuration(.nanoseconds(time)), extra: " text-anchor=\"middle\"")
    }
    out += "</g>\n"

    // The legend: a swatch and its words per item.
    let legendY = axisY + 40
    out += "<g class=\"legend\">\n"
    var legendX = margin
    for state in Swimlanes.State.allCases {
      let (fill, words) = style(state)
      out += "<rect x=\"\(legendX)\" y=\"\(legendY - 10)\" width=\"18\" height=\"12\" fill=\"\(fill)\"/>\n"
      out += text(x: (legendX + 24) * 10, y: legendY * 10, words, extra: "")
      legendX += 24 + words.count * 7 + 16
    }
    for kind in Swimlanes.Mark.allCases {
      let words = self.words(kind)
      out += mark(
        Swimlanes.Instant(mark: kind, time: .zero, detail: ""), actor: nil, x: Int64(legendX + 6) * 10,
        middle: legendY - 4)
      out += text(x: (legendX + 16) * 10, y: legendY * 10, words, extra: "")
      legendX += 16 + words.count * 7 + 16
    }
    out += "</g>\n"
    return (out, legendY + 24)
  }

  private static func style(_ state: Swimlanes.State) -> (fill: String, words: String) {
    switch state {
    case .working: ("#3b6fb6", "working")
    case .waiting: ("#b0b0b0", "waiting")
    case .windingDown: ("#e8a33d", "winding down")
    }
  }

  private static func words(_ mark: Swimlanes.Mark) -> String {
    switch mark {
    case .told: "told others to stop"
    case .noticed: "noticed the shutdown"
    case .exited: "exited"
    case .aborted: "aborted"
    }
  }

  /// The shape of an instant, centred on `x` (tenths of a pixel) and `middle`; with a `<title>` when it
  /// belongs to a lane.
  private static func mark(_ instant: Swimlanes.Instant, actor: String?, x: Int64, middle: Int) -> String {
    let tip =
      actor.map {
        "<title>\(escape("\($0) \(words(instant.mark)) at \(formatTimestamp(instant.time)): \(instant.detail)"))</title>"
      } ?? ""
    let m = Int64(middle) * 10
    switch instant.mark {
    case .told:
      return
        "<path d=\"M\(px(x - 50)) \(px(m - 60))L\(px(x + 50)) \(px(m))L\(px(x - 50)) \(px(m + 60))Z\" "
        + "fill=\"#b35c00\">\(tip)</path>\n"
    case .noticed:
      return
        "<circle cx=\"\(px(x))\" cy=\"\(px(m))\" r=\"5\" fill=\"#ffd54f\" stroke=\"#6d4c00\">\(tip)</circle>\n"
    case .exited:
      return
        "<rect x=\"\(px(x - 15))\" y=\"\(px(m - 90))\" width=\"3\" height=\"18\" fill=\"#2e7d32\">\(tip)</rect>\n"
    case .aborted:
      return
        "<path d=\"M\(px(x - 60)) \(px(m - 60))L\(px(x + 60)) \(px(m + 60))M\(px(x - 60)) \(px(m + 60))"
        + "L\(px(x + 60)) \(px(m - 60))\" stroke=\"#c62828\" stroke-width=\"3\">\(tip)</path>\n"
    }
  }

  /// A `<text>` element at (x, y) in tenths of a pixel.
  private static func text(x: some BinaryInteger, y: some BinaryInteger, _ content: String, extra: String)
    -> String
  {
    "<text x=\"\(px(Int64(x)))\" y=\"\(px(Int64(y)))\"\(extra)>\(escape(content))</text>\n"
  }

  /// Tenths of a pixel as a decimal with one place: 1234 → "123.4".
  private static func px(_ tenths: Int64) -> String { fixedDecimals(tenths, scale: 10, decimals: 1) }

  /// Text and attribute values as XML: the five characters XML reserves become entities, and control
  /// characters XML 1.0 cannot hold become spaces.
  static func escape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&apos;"
      case "\n", "\t", "\r": out += " "
      case _ where scalar.value < 0x20: out += " "
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
