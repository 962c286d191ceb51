import Dispatch
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A live run's stdout: the header, then each timeline line the moment it is recorded, then the
/// summary and lesson. Text in the renderer's column layout, or JSON Lines with the renderer's keys.
///
/// Lines are written on one serial queue of their own, never on the task that recorded them: a
/// write to a slow terminal or a full pipe waits there, not on one of Swift's cooperative threads,
/// and the queue keeps them in the order the timeline recorded them. A closed pipe ends the process
/// quietly (``OutputFailures``).
final class LiveOutput: Sendable {
  enum Format: Sendable { case text, json }

  private let queue = DispatchQueue(label: "shutdown-demo.live-output")
  private let context: CommandContext
  private let format: Format
  private let style: Style
  /// Touched only on `queue`; locked for the type system.
  private let layout: Lock<Layout>

  /// The columns so far and each actor's colour, both grown as new actors appear.
  private struct Layout {
    var columns: TimelineColumns
    var colors: [String: String] = [:]
  }

  /// Colours for the "who" column, given to actors in the order they first appear.
  static let palette = ["36", "34", "35", "32", "33", "96", "94", "95", "92", "93"]

  /// - Parameter actors: the names expected (the story's participants, main, signal), so the "who"
  ///   column starts wide enough for them; a longer name widens it from its line on.
  init(context: CommandContext, format: Format, color: Bool, actors: [String]) {
    self.context = context
    self.format = format
    style = Style(enabled: color && format == .text)
    let who = max(3, actors.map(\.count).max() ?? 0)
    layout = Lock(Layout(columns: TimelineColumns(time: 7, who: who)))
  }

  /// The header (and, for text, the column titles). `live` is the text header's extra line.
  func header(_ report: ScenarioReport, live: String) {
    let text: String
    switch format {
    case .text:
      let header = TextRenderer.header(report, width: context.columns, style: style)
      text =
        header.dropLast() + TextRenderer.wrap(live, width: context.columns, indent: "") + "\n\n"
        + layout.withLock { $0.columns.heading }
    case .json:
      text = JSONLinesRenderer.header(report)
    }
    queue.async { [context] in context.write(text) }
  }

  /// Hands an event to the writing queue. Called under the timeline's lock: only enqueues.
  func event(_ event: TimelineEvent, in report: ScenarioReport) {
    queue.async { [self] in
      switch format {
      case .json:
        context.write(JSONLinesRenderer.event(report, event, decimals: 3))
      case .text:
        let stamp = formatTimestamp(event.time, decimals: 3)
        let (columns, color) = layout.withLock { layout in
          layout.columns.time = max(layout.columns.time, stamp.count)
          layout.columns.who = max(layout.columns.who, event.actor.count)
          if layout.colors[event.actor] == nil {
            layout.colors[event.actor] = Self.palette[layout.colors.count % Self.palette.count]
          }
          return (layout.columns, layout.colors[event.actor])
        }
        // On a terminal, "\r" first: the terminal echoes a Ctrl-C as "^C" where the cursor is, and
        // the line's leading spaces then write over it instead of being pushed right by it.
        context.write(
          (context.stdoutIsTerminal ? "\r" : "")
            + columns.line(event, time: stamp, width: context.columns, style: style, actorColor: color))
      }
    }
  }

  /// The end: summary and lesson (text), or the summary line (JSON).
  func footer(_ report: ScenarioReport) {
    let text =
      switch format {
      case .text: TextRenderer.footer(report, width: context.columns, style: style)
      case .json: JSONLinesRenderer.summary(report)
      }
    queue.async { [context] in context.write(text) }
  }

  /// Exits with `code` once the lines already handed over are written: the ladder's last rung.
  /// Does not wait: the caller goes on, and the process ends from the writing queue.
  func exitAfterPending(_ code: Int32) {
    queue.async { exit(code) }
  }

  /// Waits until every line handed over is written. Call only from a thread that is not one of
  /// Swift's cooperative threads (the main thread of the synchronous command).
  func flush() { queue.sync {} }
}
