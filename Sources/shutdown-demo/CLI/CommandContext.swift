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
      write: { FileHandle.standardOutput.write(Data($0.utf8)) },
      writeError: { FileHandle.standardError.write(Data($0.utf8)) }
    )
  }
}
