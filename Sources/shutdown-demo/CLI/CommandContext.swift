import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where output goes: the real terminal, or buffers in tests.
struct CommandContext: Sendable {
  var environment: [String: String]
  var stdoutIsTerminal: Bool
  /// Writes to stdout; callers pass complete text, including line breaks.
  var write: @Sendable (String) -> Void
  /// Writes to stderr; callers pass complete text, including line breaks.
  var writeError: @Sendable (String) -> Void
  /// Whether stderr is a terminal: progress lines are drawn only then.
  var stderrIsTerminal = false

  /// Colour only on a terminal, never with NO_COLOR set (any value, even empty — see
  /// no-color.org), never with `--no-color`.
  func useColor(noColorFlag: Bool) -> Bool {
    stdoutIsTerminal && environment["NO_COLOR"] == nil && !noColorFlag
  }

  /// `COLUMNS` if set to a positive whole number, else 80.
  var columns: Int {
    guard let text = environment["COLUMNS"], let value = Int(text), value > 0 else { return 80 }
    return value
  }

  /// The process's real environment, stdout and stderr.
  static func live() -> CommandContext {
    CommandContext(
      environment: ProcessInfo.processInfo.environment,
      stdoutIsTerminal: isatty(STDOUT_FILENO) == 1,
      write: { writeAll($0, to: STDOUT_FILENO) },
      writeError: { writeAll($0, to: STDERR_FILENO) },
      stderrIsTerminal: isatty(STDERR_FILENO) == 1
    )
  }
}

/// Writes all of `text` to a file descriptor. When the reader has gone (`shutdown-demo … | head -1`),
/// the rest of the output has nowhere to go: exit quietly with status 0, as a well-behaved filter does,
/// instead of dying on SIGPIPE or printing a crash. (`main` ignores SIGPIPE so `write` reports EPIPE.)
private func writeAll(_ text: String, to descriptor: Int32) {
  var bytes = Array(text.utf8)[...]
  while !bytes.isEmpty {
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    if written < 0 {
      if errno == EINTR { continue }
      exit(0)  // EPIPE, or any other reason the output can no longer be written
    }
    bytes = bytes.dropFirst(written)
  }
}
