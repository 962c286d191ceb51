import Synchronization

/// One line of progress on stderr that rewrites itself, for commands that run long.
///
/// On a terminal each drawn update is `\r`, the text, and "clear to end of line", so the line is
/// replaced in place; updates closer together than `minimumInterval` are skipped (a loop may call
/// ``update(_:)`` a million times: the terminal sees at most ten a second); ``finish()`` erases it, so
/// what the command prints next starts on a clean line. When stderr is not a terminal (a pipe, a file,
/// CI), it writes nothing at all: a log gains no `\r` debris.
///
/// ```swift
/// let progress = ProgressLine(context)
/// for seed in 1...total {
///   progress.update("seed \(seed) of \(total), \(progress.rate(seed)) a second")
///   …
/// }
/// progress.finish()
/// ```
///
/// Sharp edges: the line is cut to the terminal's width (a longer one would wrap, and `\r` would only
/// return to its last row); nothing else may write to stderr between an update and ``finish()``
/// without finishing first, or the two outputs interleave on one line.
final class ProgressLine: Sendable {
  private struct State {
    var lastDrawn: ContinuousClock.Instant?
    var visible = false
  }

  private let isTerminal: Bool
  private let columns: Int
  private let minimumInterval: Duration
  private let write: @Sendable (String) -> Void
  private let now: @Sendable () -> ContinuousClock.Instant
  private let started: ContinuousClock.Instant
  private let state = Mutex(State())

  /// - Parameters:
  ///   - isTerminal: whether `write` reaches a terminal; if not, the line writes nothing.
  ///   - columns: the terminal's width; text is cut to one less, so it never wraps.
  ///   - minimumInterval: updates closer together than this are not drawn.
  ///   - now: the clock, injectable so tests decide what is "too soon" without waiting.
  ///   - write: where the line goes (stderr).
  init(
    isTerminal: Bool, columns: Int = 80, minimumInterval: Duration = .milliseconds(100),
    now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
    write: @escaping @Sendable (String) -> Void
  ) {
    self.isTerminal = isTerminal
    self.columns = max(columns, 2)
    self.minimumInterval = minimumInterval
    self.now = now
    self.write = write
    started = now()
  }

  /// A line on the command's stderr, drawn only when stderr is a terminal.
  convenience init(_ context: CommandContext) {
    self.init(isTerminal: context.stderrIsTerminal, columns: context.columns, write: context.writeError)
  }

  /// Shows `text` in place of the previous update, unless the previous one was drawn too recently.
  func update(_ text: @autoclosure () -> String) {
    guard isTerminal else { return }
    let moment = now()
    let draw = state.withLock { state -> Bool in
      if let last = state.lastDrawn, last.duration(to: moment) < minimumInterval { return false }
      state.lastDrawn = moment
      state.visible = true
      return true
    }
    guard draw else { return }
    write("\r" + String(text().prefix(columns - 1)) + Self.clearToEndOfLine)
  }

  /// Erases the line, if one is showing. Later updates draw it again.
  func finish() {
    let erase = state.withLock { state -> Bool in
      defer { state = State() }
      return state.visible
    }
    if erase { write("\r" + Self.clearToEndOfLine) }
  }

  /// Time since the line was created, for a rate.
  var elapsed: Duration { started.duration(to: now()) }

  /// `done` per second since the line was created, rounded: "1234".
  func rate(_ done: Int) -> String {
    let (seconds, attoseconds) = elapsed.components
    let elapsedSeconds = Double(seconds) + Double(attoseconds) / 1e18
    guard elapsedSeconds > 0 else { return "–" }
    return String(Int((Double(done) / elapsedSeconds).rounded()))
  }

  /// ANSI "erase from the cursor to the end of the line" (EL 0).
  static let clearToEndOfLine = "\u{1B}[K"
}
