import Patterns
import Synchronization

/// The tool: every subcommand, in the order the root help lists them.
enum ShutdownDemo {
  static let version = "0.1.0"

  /// Every pattern's scenarios, in help order.
  static let catalogs = [
    BroadcastScenarios.catalog, WatchScenarios.catalog, TokenScenarios.catalog, JoinSetScenarios.catalog,
    MPSCScenarios.catalog,
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
    commands: [
      PatternCommand.make(
        BroadcastScenarios.catalog,
        abstract: "Broadcast channel: every receiver gets every message; a slow one loses messages.",
        discussion: """
          Main sends one shutdown message on a broadcast channel; every worker reads it from its own \
          receiver. The channel keeps the last --capacity messages: a receiver that falls further \
          behind gets .lagged(missed:) and reads on from the oldest message still held. The Swift \
          counterpart of tokio::sync::broadcast. Scenarios: \(BroadcastScenarios.catalog.scenarios.map(\.name).joined(separator: ", ")).
          """),
      PatternCommand.make(
        WatchScenarios.catalog,
        abstract: "Watch channel: observers see the latest value; intermediate values are skipped.",
        discussion: """
          Main stores "stopping" in a watch channel; every worker sees the current value whenever it \
          looks, even one that starts late. A slow observer skips to the newest value instead of \
          queueing the ones in between. The Swift counterpart of tokio::sync::watch. Scenarios: \
          \(WatchScenarios.catalog.scenarios.map(\.name).joined(separator: ", ")).
          """),
      PatternCommand.make(
        TokenScenarios.catalog,
        abstract: "Cancellation token tree: cooperative, cascading, idempotent cancellation.",
        discussion: """
          A root CancellationToken is cancelled when SIGTERM arrives; every worker holds a child \
          token and checks it between units of work. The Swift counterpart of tokio-util's \
          CancellationToken. Scenarios: \(TokenScenarios.catalog.scenarios.map(\.name).joined(separator: ", ")).
          """),
      PatternCommand.make(
        JoinSetScenarios.catalog, aliases: ["task-group"],
        abstract: "Join set and task tracker: wait for every task; abort stragglers at a deadline.",
        discussion: """
          Workers run in a JoinSet (tokio's JoinSet) or under a TaskTracker (tokio-util's TaskTracker); \
          at SIGTERM main waits for them, and aborts whoever is left when the grace period ends. The \
          task-group scenario shows the same with Swift's withThrowingTaskGroup. Scenarios: \
          \(JoinSetScenarios.catalog.scenarios.map(\.name).joined(separator: ", ")).
          """),
      PatternCommand.make(
        MPSCScenarios.catalog,
        abstract: "Many senders, one receiver: back-pressure, and \"every sender dropped\" as \"all done\".",
        discussion: """
          A bounded channel makes fast producers wait for a slow consumer; when every sender is gone, \
          receive() returns nil, which tells main that all work is done. The Swift counterpart of \
          tokio::sync::mpsc. Scenarios: \(MPSCScenarios.catalog.scenarios.map(\.name).joined(separator: ", ")).
          """),
      BenchCommand.command,
      ServeCommand.command,
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
