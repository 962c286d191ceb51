import Foundation
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where output goes: the real terminal, or buffers in tests.
struct CommandContext: Sendable {
  var environment: [String: String]
  var stdoutIsTerminal: Bool
  /// The terminal's width (`TIOCGWINSZ`), when stdout is one.
  var terminalColumns: Int? = nil
  /// Writes to stdout; callers pass complete text, including line breaks.
  var write: @Sendable (String) -> Void
  /// Writes to stderr; callers pass complete text, including line breaks.
  var writeError: @Sendable (String) -> Void
  /// Whether stderr is a terminal: progress lines are drawn only then.
  var stderrIsTerminal = false

  /// Colour only on a terminal that can show it (not `TERM=dumb`), never with a non-empty
  /// `NO_COLOR` (no-color.org: an empty one does not count), never with `--no-color`.
  func useColor(noColorFlag: Bool) -> Bool {
    let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
    return stdoutIsTerminal && !noColor && environment["TERM"] != "dumb" && !noColorFlag
  }

  /// `COLUMNS` if set to a positive whole number, else the terminal's own width, else 80.
  var columns: Int {
    if let text = environment["COLUMNS"], let value = Int(text), value > 0 { return value }
    return terminalColumns ?? 80
  }

  /// The process's real environment, stdout and stderr. Write errors other than a closed pipe are
  /// kept in `failures`, for the exit status.
  static func live(failures: OutputFailures = OutputFailures()) -> CommandContext {
    CommandContext(
      environment: ProcessInfo.processInfo.environment,
      stdoutIsTerminal: isatty(STDOUT_FILENO) == 1,
      terminalColumns: terminalWidth(of: STDOUT_FILENO),
      write: { failures.write($0, to: STDOUT_FILENO) },
      writeError: { failures.write($0, to: STDERR_FILENO) },
      stderrIsTerminal: isatty(STDERR_FILENO) == 1
    )
  }
}

/// Output that could not be written. A closed pipe (`shutdown-demo … | head -1`) ends the run
/// quietly with status 0, as a well-behaved filter does; any other error (a full disk,
/// `> /dev/full`) is an error the user must hear of: `main` reports it and exits non-zero.
/// (`main` ignores SIGPIPE so `write` reports EPIPE instead of killing the process.)
final class OutputFailures: Sendable {
  private let errors = Mutex<[Int32: Int32]>([:])

  init() {}

  /// Writes all of `text` to a file descriptor, unless an earlier write to it failed.
  func write(_ text: String, to descriptor: Int32) {
    guard errors.withLock({ $0[descriptor] == nil }) else { return }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
      if written < 0 {
        let error = errno
        if error == EINTR { continue }
        if error == EPIPE { exit(0) }  // the reader has gone: nothing more to say to anyone
        errors.withLock { $0[descriptor] = error }
        return
      }
      bytes = bytes.dropFirst(written)
    }
  }

  /// The first error writing to `descriptor`, if any.
  func error(on descriptor: Int32) -> Int32? { errors.withLock { $0[descriptor] } }

  /// The exit status a run that returned `code` ends with: a usage error stays 64; otherwise a
  /// failed write turns success into 1. A failed stdout is reported on stderr, where it still works.
  func finalStatus(after code: Int32) -> Int32 {
    let stdoutError = error(on: STDOUT_FILENO)
    if let stdoutError {
      write("Error: cannot write the output: \(String(cString: strerror(stdoutError)))\n", to: STDERR_FILENO)
    }
    guard stdoutError != nil || error(on: STDERR_FILENO) != nil else { return code }
    return code == 0 ? 1 : code
  }
}

/// `write(2)`, under a name a method called `write` does not hide.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
  write(descriptor, bytes, count)
}

/// The width of the terminal on `descriptor`, or `nil` when it is not a terminal.
private func terminalWidth(of descriptor: Int32) -> Int? {
  var size = winsize()
  guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
  return Int(size.ws_col)
}
