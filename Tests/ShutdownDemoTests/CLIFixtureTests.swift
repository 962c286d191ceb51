import Synchronization
import Testing

@testable import shutdown_demo

/// Collects what a command writes, so tests can assert stdout and stderr separately.
final class CapturedOutput: Sendable {
  private let stdout = Mutex("")
  private let stderr = Mutex("")

  var out: String { stdout.withLock { $0 } }
  var err: String { stderr.withLock { $0 } }
  /// The lines of stderr, with a wrapped usage joined back into its `Usage:` line.
  var errLines: [String] {
    var lines: [String] = []
    for line in err.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line.hasPrefix("    "), let last = lines.last, last.hasPrefix("Usage: ") {
        lines[lines.count - 1] += " " + line.drop { $0 == " " }
      } else {
        lines.append(line)
      }
    }
    return lines
  }

  func context(environment: [String: String] = ["COLUMNS": "80"], terminal: Bool = false) -> CommandContext {
    CommandContext(
      environment: environment,
      stdoutIsTerminal: terminal,
      write: { text in self.stdout.withLock { $0 += text } },
      writeError: { text in self.stderr.withLock { $0 += text } }
    )
  }
}

/// A failure a command might throw that is not a usage error.
struct FakeFailure: Error, CustomStringConvertible {
  var description: String { "the fake failed" }
}

/// A test-only tool: `token` matches the help sample in the brief, `joinset` (alias `task-group`)
/// has one option of every other kind, `boom` throws.
enum CLIFixture {
  static let token = CommandSpec(
    name: "token",
    abstract: "Cancel workers with a cancellation token.",
    discussion: "Each worker checks the token between steps.\n\nThe token is cancelled on the first signal.",
    options: [
      OptionSpec(
        name: "scenario", valueName: "scenario", help: "The story to run.", kind: .choice(["basic", "all"]),
        defaultValue: "basic"),
      OptionSpec(
        name: "workers", valueName: "n", help: "How many workers.", kind: .integer(1...64),
        defaultValue: "3"),
      OptionSpec(name: "no-color", help: "Never colour the output.", kind: .flag),
    ],
    run: { options, context in
      let color = context.useColor(noColorFlag: options.flag("no-color"))
      context.write(
        "token scenario=\(options.choice("scenario")) workers=\(options.integer("workers")) color=\(color)\n")
      return 0
    }
  )

  static let joinset = CommandSpec(
    name: "joinset",
    aliases: ["task-group"],
    abstract: "Drain a task group before exiting.",
    options: [
      OptionSpec(
        name: "grace", valueName: "duration", help: "How long to wait before cancelling.",
        kind: .duration(.zero ... .seconds(60)), defaultValue: "2000ms"),
      OptionSpec(
        name: "format", valueName: "format", help: "Output format.", kind: .choice(["text", "json"]),
        defaultValue: "text"),
      OptionSpec(
        name: "only", valueName: "workers", help: "Which workers to start.",
        kind: .list(["W1", "W2", "W3", "W4", "W5"]), defaultValue: "W1,W2,W3"),
      OptionSpec(name: "label", valueName: "text", help: "A label for the run.", kind: .text),
      OptionSpec(name: "exit-code", valueName: "code", help: "Exit code to return.", kind: .integer(0...255)),
    ],
    run: { options, context in
      let label = options.text("label") ?? "-"
      // A cross-option check only the command can make: reported as a usage error.
      if options.choice("format") == "json", options.wasGiven("label"), label.isEmpty {
        throw UsageError("'--label' must not be empty with '--format json'")
      }
      let grace = formatDuration(options.duration("grace"))
      let only = options.list("only").joined(separator: "+")
      context.write("joinset grace=\(grace) format=\(options.choice("format")) only=\(only) label=\(label)\n")
      return options.wasGiven("exit-code") ? Int32(options.integer("exit-code")) : 0
    }
  )

  static let boom = CommandSpec(
    name: "boom",
    abstract: "Always fails.",
    options: [],
    run: { _, _ in throw FakeFailure() }
  )

  static let tool = CommandLineTool(
    name: "shutdown-demo",
    version: "0.1.0",
    abstract: "Demonstrates graceful shutdown patterns.",
    discussion: nil,
    commands: [token, joinset, boom]
  )

  /// Runs the fixture tool and returns the exit code with everything written.
  static func run(
    _ arguments: [String], environment: [String: String] = ["COLUMNS": "80"], terminal: Bool = false
  ) -> (code: Int32, output: CapturedOutput) {
    let output = CapturedOutput()
    let code = tool.run(
      arguments: arguments, context: output.context(environment: environment, terminal: terminal))
    return (code, output)
  }
}

@Test func fixtureSpecs_haveNoProblems() {
  #expect(CLIFixture.tool.specProblems() == [])
}

@Test func specProblems_reportDuplicatesReservedNamesAndBadDefaults() {
  var tool = CLIFixture.tool
  tool.commands.append(
    CommandSpec(
      name: "help", aliases: ["token"], abstract: "Clashes.",
      options: [
        OptionSpec(name: "n", valueName: "n", help: "Bad default.", kind: .integer(1...3), defaultValue: "9"),
        OptionSpec(name: "n", help: "Twice.", kind: .flag),
        OptionSpec(name: "version", help: "Reserved.", kind: .flag),
      ],
      run: { _, _ in 0 }))
  #expect(
    tool.specProblems() == [
      "Subcommand name 'help' is used twice or reserved",
      "Subcommand name 'token' is used twice or reserved",
      "help: default for 'n': The value '9' is invalid for '--n <n>': expected a whole number from 1 to 3",
      "help: option 'n' is declared twice or reserved",
      "help: option 'version' is declared twice or reserved",
    ])
}
