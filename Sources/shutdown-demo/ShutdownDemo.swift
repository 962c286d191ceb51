import Patterns
import Synchronization

/// The tool: every subcommand, in the order the root help lists them.
enum ShutdownDemo {
  static let version = "0.1.0"

  /// Every story subcommand's catalog, in help order.
  static let catalogs = [
    FlowStories.catalog, BroadcastStories.catalog, WatchStories.catalog, TokenStories.catalog,
    JoinSetStories.catalog,
    MPSCStories.catalog,
  ]

  static let tool = CommandLineTool(
    name: "shutdown-demo",
    version: version,
    abstract: "See how a service shuts down gracefully, one pattern at a time.",
    discussion: """
      Each subcommand runs a scripted story in virtual time: workers start, a SIGTERM arrives, and \
      they shut down. It prints what each task did and when, then what was measured and the lesson. \
      Change a knob (--workers, --grace, --shutdown-at) and watch the outcome change.
      """,
    commands: catalogs.map(PatternCommand.make) + [
      CompareCommand.command, PitfallCommand.command, BenchCommand.command, ServeCommand.command,
      LoadCommand.command,
      DrillCommand.command,
    ])

  /// Runs the tool in this process, collecting its output (for tests and benchmarks).
  static func run(arguments: [String], environment: [String: String] = ["NO_COLOR": "1", "COLUMNS": "80"])
    -> (stdout: String, stderr: String, exitCode: Int32)
  {
    let out = OutputBuffer()
    let err = OutputBuffer()
    let context = CommandContext(
      environment: environment, stdoutIsTerminal: false, write: out.append, writeError: err.append)
    let code = tool.run(arguments: arguments, context: context)
    return (out.text, err.text, code)
  }
}

/// Collects written text.
final class OutputBuffer: Sendable {
  private let storage = Mutex("")
  @Sendable func append(_ text: String) { storage.withLock { $0 += text } }
  var text: String { storage.withLock { $0 } }
}
