import Foundation
import Testing

@testable import shutdown_demo

/// Every wrong invocation of the real binary, one row each: exit 64, nothing on stdout, and on stderr
/// exactly three parts — one `Error:` line that names what was wrong and the accepted form, the
/// usage of the subcommand (or the root, wrapped as help wraps it), and the help hint.
@Suite struct BadInputTests {
  /// One wrong invocation and the phrases its `Error:` line must contain.
  struct Row: Sendable, CustomTestStringConvertible {
    var arguments: [String]
    /// Phrases the `Error:` line must contain: the option (or subcommand) and the accepted form.
    var mentions: [String]

    init(_ arguments: [String], _ mentions: String...) {
      self.arguments = arguments
      self.mentions = mentions
    }

    /// The subcommand whose usage line is expected (by its name, for an alias too), or `nil` for the
    /// root usage.
    var command: String? {
      guard let first = arguments.first else { return nil }
      return ShutdownDemo.tool.command(named: first)?.name
    }

    var testDescription: String { arguments.map { $0.isEmpty ? "''" : $0 }.joined(separator: " ") }
  }

  static let wholeNumber = "expected a whole number from"
  static let durationForm = "expected a duration from 0s to 1h, such as 250ms, 2s, 1.5s or 1m"

  static let rows: [Row] = [
    // The root: unknown subcommands and options.
    Row(["frobnicate"], "Unknown subcommand 'frobnicate'"),
    Row(["tokn"], "Unknown subcommand 'tokn'", "Did you mean 'token'?"),
    Row([""], "Unknown subcommand ''"),
    Row(["--verbose"], "Unknown option '--verbose'"),
    Row(["--version", "extra"], "Unexpected argument 'extra'"),
    Row(["help", "nope"], "Unknown subcommand 'nope'"),
    Row(["help", "token", "extra"], "Unexpected argument 'extra'"),
    // Options every pattern subcommand has.
    Row(["token", "--nope"], "Unknown option '--nope'"),
    Row(["token", "--wokers", "3"], "Unknown option '--wokers'", "Did you mean '--workers'?"),
    Row(["token", "-w"], "Unknown option '-w'"),
    Row(["token", "extra"], "Unexpected argument 'extra'"),
    Row(["token", "--scenario", "nope"], "'--scenario <scenario>'", "expected one of: basic, tree"),
    Row(
      ["broadcast", "--scenario", "slow"], "'--scenario <scenario>'", "expected one of: basic, slow-consumer"),
    Row(["watch", "--scenario="], "'--scenario <scenario>'", "expected one of: basic"),
    Row(["joinset", "--scenario", "Basic"], "'--scenario <scenario>'", "Did you mean 'basic'?"),
    Row(
      ["token", "--format", "xml"], "'--format <format>'", "expected one of: text, json, mermaid, chart, svg"),
    Row(
      ["token", "--format", "png"], "'--format <format>'", "expected one of: text, json, mermaid, chart, svg"),
    Row(["token", "--workers"], "Missing value for '--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["token", "--grace", "--workers", "3"], "Missing value for '--grace <duration>'", durationForm),
    Row(["token", "--scenario"], "Missing value for '--scenario <scenario>'", "expected one of: basic"),
    Row(["watch", "--workers", "2", "--workers", "3"], "Option '--workers' given more than once"),
    Row(["token", "--no-color", "--no-color"], "Option '--no-color' given more than once"),
    Row(["token", "--no-color=yes"], "Option '--no-color' does not take a value"),
    // Numbers: negative, zero, too large, not numbers.
    Row(["token", "--workers", "-1"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["token", "--workers", "0"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["joinset", "--workers", "65"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["broadcast", "--workers", "1000000"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["token", "--workers", "three"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["token", "--workers", "2.5"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["token", "--workers", " 3"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["token", "--workers", "0x10"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["token", "--workers", "99999999999999999999999"], "'--workers <n>'", "\(wholeNumber) 1 to 64"),
    Row(["broadcast", "--capacity", "0"], "'--capacity <n>'", "\(wholeNumber) 1 to 4096"),
    Row(["broadcast", "--capacity", "-4"], "'--capacity <n>'", "\(wholeNumber) 1 to 4096"),
    Row(["broadcast", "--capacity", "4097"], "'--capacity <n>'", "\(wholeNumber) 1 to 4096"),
    Row(["token", "--seed", "-1"], "'--seed <n>'", "\(wholeNumber) 0 to 4294967295"),
    Row(["token", "--seed", "4294967296"], "'--seed <n>'", "\(wholeNumber) 0 to 4294967295"),
    Row(["watch", "--seed", "x"], "'--seed <n>'", "\(wholeNumber) 0 to 4294967295"),
    Row(["token", "--explore", "0"], "'--explore <n>'", "\(wholeNumber) 1 to 100000"),
    Row(["token", "--explore", "-3"], "'--explore <n>'", "\(wholeNumber) 1 to 100000"),
    Row(["joinset", "--explore", "100001"], "'--explore <n>'", "\(wholeNumber) 1 to 100000"),
    Row(["token", "--explore", "5", "--seed", "3"], "--explore", "drop '--seed' or '--explore'"),
    Row(["token", "--explore", "5", "--format", "json"], "--explore prints text only", "drop '--format'"),
    // Durations: negative, unknown unit, overflow, malformed, empty, no unit, out of range.
    Row(["token", "--grace", "-1s"], "'--grace <duration>'", "cannot be negative", durationForm),
    Row(["token", "--grace", "+1s"], "'--grace <duration>'", "take no sign", durationForm),
    Row(["token", "--grace", "1x"], "'--grace <duration>'", "unknown unit 'x'", durationForm),
    Row(["token", "--grace", "99999999999h"], "'--grace <duration>'", "too large", durationForm),
    Row(["token", "--grace", "1.5.2s"], "'--grace <duration>'", "malformed", durationForm),
    Row(["token", "--grace", ""], "'--grace <duration>'", "empty", durationForm),
    Row(["token", "--grace", "2"], "'--grace <duration>'", "unit is missing", durationForm),
    Row(["token", "--grace", "s"], "'--grace <duration>'", "number is missing", durationForm),
    Row(["token", "--grace", "1.s"], "'--grace <duration>'", "malformed", durationForm),
    Row(["token", "--grace", "0.0001s"], "'--grace <duration>'", "3 decimal places", durationForm),
    Row(["token", "--grace", "1.5ns"], "'--grace <duration>'", "finer than a nanosecond", durationForm),
    Row(["token", "--grace", "2 s"], "'--grace <duration>'", "unknown unit ' s'", durationForm),
    Row(["token", "--grace", "61m"], "'--grace <duration>'", durationForm),
    Row(["token", "--shutdown-at", "-1s"], "'--shutdown-at <duration>'", "negative", durationForm),
    Row(["token", "--shutdown-at=1x"], "'--shutdown-at <duration>'", "unknown unit 'x'", durationForm),
    Row(["watch", "--consumer-delay", "99999999999h"], "'--consumer-delay <duration>'", "too large"),
    Row(["broadcast", "--consumer-delay", "2h"], "'--consumer-delay <duration>'", durationForm),
    // Options a pattern does not have.
    Row(["watch", "--capacity", "3"], "Unknown option '--capacity'"),
    Row(["token", "--consumer-delay", "1s"], "Unknown option '--consumer-delay'"),
    Row(["task-group", "--capacity", "3"], "Unknown option '--capacity'"),
    // compare.
    Row(
      ["compare", "--scenario", "slow"], "'--scenario <scenario>'",
      "expected one of: basic, slow-consumer, timeout"),
    Row(
      ["compare", "--format", "csv"], "'--format <format>'", "expected one of: text, json, markdown, mermaid"),
    Row(
      ["compare", "--consumer-delay", "0s"], "'--consumer-delay <duration>'", "expected a duration from 1ms"),
    Row(["compare", "--explore", "5", "--seed", "3"], "drop '--seed' or '--explore'"),
    Row(
      ["compare", "--explore", "5", "--format", "markdown"], "--explore prints text only", "drop '--format'"),
    Row(["compare", "--explore", "5", "--with-costs"], "drop '--with-costs'"),
    Row(["compare", "--with-costs", "--format", "svg"], "--with-costs adds to the table"),
    Row(["compare", "--rate", "10"], "Unknown option '--rate'"),
    // bench.
    Row(
      ["bench", "--only", "W9"], "'--only <workloads>'", "unknown element 'W9'", "comma-separated list from: "
    ),
    Row(["bench", "--only", ""], "'--only <workloads>'", "empty element", "comma-separated list from: "),
    Row(["bench", "--only", "W5,W5"], "'--only <workloads>'", "listed twice", "comma-separated list from: "),
    Row(["bench", "--only", "W5,"], "'--only <workloads>'", "empty element", "comma-separated list from: "),
    Row(["bench", "--only"], "Missing value for '--only <workloads>'", "comma-separated list from: "),
    Row(["bench", "--format", "csv"], "'--format <format>'", "expected one of: text, json"),
    Row(["bench", "--quick=1"], "Option '--quick' does not take a value"),
    Row(["bench", "--quick", "--quick"], "Option '--quick' given more than once"),
    Row(["bench", "--seed", "1"], "Unknown option '--seed'"),
    Row(["bench", "--only", "W7c"], "'--only <workloads>'", "unknown element 'W7c'", "Did you mean 'W7a'?"),
    Row(["bench", "--profile", "mine"], "'--profile <side>'", "Expected one of: ours, theirs"),
    Row(
      ["bench", "--profile", "ours", "--only", "W1,S"], "--profile runs workloads W1-W7; drop S from '--only'"
    ),
    Row(["bench", "--profile", "ours", "--format", "json"], "--profile prints no table; drop '--format'"),
  ]

  /// For every option of every subcommand (aliases too), the same mistakes: a value of the wrong
  /// form, a missing value, the option twice. Generated from the specs, so a new option is covered.
  static let everyOption: [Row] = ShutdownDemo.tool.commands.flatMap { command in
    command.allNames.flatMap { name in
      command.options.flatMap { option in rows(for: option, of: name) }
    }
  }

  private static func rows(for option: OptionSpec, of command: String) -> [Row] {
    let flag = option.flagName
    let form = option.kind.expectedForm
    let twice = Row([command, "\(flag)=x", "\(flag)=y"], "'\(flag)'")
    switch option.kind {
    case .flag:
      return [
        Row([command, "\(flag)=1"], "'\(flag)' does not take a value"),
        Row([command, flag, flag], "Option '\(flag)' given more than once"),
      ]
    case .integer(let range):
      return [
        Row([command, flag, "\(range.lowerBound - 1)"], "'\(option.synopsis)'", form),
        Row([command, flag, "\(range.upperBound + 1)"], "'\(option.synopsis)'", form),
        Row([command, flag, "ten"], "'\(option.synopsis)'", form),
        Row([command, flag], "Missing value for '\(option.synopsis)'", form),
        Row([command, "\(flag)=1", "\(flag)=1"], "Option '\(flag)' given more than once"),
      ]
    case .duration:
      return [
        Row([command, flag, "-1s"], "'\(option.synopsis)'", "negative", form),
        Row([command, flag, "1x"], "'\(option.synopsis)'", "unknown unit", form),
        Row([command, flag, "99999999999h"], "'\(option.synopsis)'", "too large", form),
        Row([command, flag, "1.5.2s"], "'\(option.synopsis)'", "malformed", form),
        Row([command, "\(flag)="], "'\(option.synopsis)'", "empty", form),
        Row([command, flag], "Missing value for '\(option.synopsis)'", form),
        Row([command, "\(flag)=1s", "\(flag)=1s"], "Option '\(flag)' given more than once"),
      ]
    case .choice(let values), .list(let values):
      return [
        Row([command, flag, "nope"], "'\(option.synopsis)'", values.joined(separator: ", ")),
        Row([command, flag], "Missing value for '\(option.synopsis)'", form),
        Row(
          [command, "\(flag)=\(values[0])", "\(flag)=\(values[0])"], "Option '\(flag)' given more than once"),
      ]
    case .text:
      return [Row([command, flag], "Missing value for '\(option.synopsis)'"), twice]
    }
  }

  @Test(arguments: BadInputTests.rows + BadInputTests.everyOption)
  func badInput_exits64_withOneErrorLine_theUsage_andTheHelpHint(_ row: Row) throws {
    let (stdout, stderr, exitCode) = try BinaryRunner.run(row.arguments)
    #expect(exitCode == 64)
    #expect(stdout == "")
    // The usage wraps as help's does: join its continuation lines back into one.
    var lines: [String] = []
    for line in stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      if line.hasPrefix("    "), let last = lines.last, last.hasPrefix("Usage: ") {
        lines[lines.count - 1] += " " + line.drop { $0 == " " }
      } else {
        lines.append(line)
      }
    }
    try #require(lines.count == 4, "expected three lines and a final line break:\n\(stderr)")
    #expect(lines[0].hasPrefix("Error: "))
    for mention in row.mentions {
      #expect(
        lines[0].lowercased().contains(mention.lowercased()), "the Error: line should mention \(mention)")
    }
    #expect(lines.filter { $0.hasPrefix("Error:") }.count == 1)
    if let command = row.command {
      #expect(lines[1].hasPrefix("Usage: shutdown-demo \(command) ["), "\(lines[1])")
      #expect(lines[2] == "  See 'shutdown-demo \(command) --help' for more information.")
    } else {
      #expect(lines[1] == "Usage: shutdown-demo <subcommand>")
      #expect(lines[2] == "  See 'shutdown-demo --help' for more information.")
    }
    #expect(lines[3] == "")
  }

  /// Every value the options accept is safe: each knob at each end of its range runs every scenario of
  /// its pattern to the end (exit 0, nothing on stderr), so no library precondition is reachable from
  /// the command line (`Broadcast.channel(capacity:)` traps on 0; `--capacity` starts at 1).
  static let extremes: [[String]] = ShutdownDemo.tool.commands.filter {
    !["bench", "serve", "load", "drill"].contains($0.name)
  }.flatMap {
    command in
    command.options.flatMap { option -> [[String]] in
      switch option.kind {
      case .integer(let range) where option.name != "explore":
        return [range.lowerBound, range.upperBound].map {
          [command.name, "--scenario", "all", option.flagName, "\($0)"]
        }
      case .duration(let range):
        return [range.lowerBound, range.upperBound].map {
          [command.name, "--scenario", "all", option.flagName, formatDuration($0)]
        }
      default:
        return []
      }
    }
  }

  @Test(arguments: BadInputTests.extremes)
  func everyKnobAtEitherEndOfItsRange_runsToTheEnd(_ arguments: [String]) throws {
    let (_, stderr, exitCode) = try BinaryRunner.run(arguments)
    #expect(exitCode == 0)
    #expect(stderr == "")
  }

  /// `shutdown-demo … | head -1`: the reader goes away; the tool exits quietly (status 0, or ended by
  /// SIGPIPE), with nothing on stderr, whether the pipe closes before the first write or mid-stream.
  @Test(arguments: [
    ["token", "--scenario", "all"],
    ["broadcast", "--scenario", "all", "--workers", "64", "--shutdown-at", "10m"],
    ["joinset", "--scenario", "all", "--workers", "64", "--format", "json"],
  ])
  func closedPipe_exitsQuietly(_ arguments: [String]) throws {
    for readFirst in [false, true] {
      let (status, reason, stderr) = try runIntoClosedPipe(arguments, readFirstLine: readFirst)
      let quiet = (reason == .exit && status == 0) || (reason == .uncaughtSignal && status == SIGPIPE)
      #expect(quiet, "\(arguments) ended with \(reason == .exit ? "status" : "signal") \(status)")
      #expect(stderr == "", "\(arguments) wrote to stderr: \(stderr)")
    }
  }

  /// Runs the binary with stdout into a pipe whose reading end is closed, at once or after one line.
  private func runIntoClosedPipe(
    _ arguments: [String], readFirstLine: Bool
  ) throws -> (Int32, Process.TerminationReason, String) {
    let stderrURL = FileManager.default.temporaryDirectory
      .appendingPathComponent("shutdown-demo-pipe-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: stderrURL) }
    let stderrHandle = try FileHandle(forWritingTo: stderrURL)
    defer { try? stderrHandle.close() }
    let pipe = Pipe()
    let process = Process()
    process.executableURL = try BinaryRunner.binaryURL()
    process.arguments = arguments
    process.environment = BinaryRunner.pinnedEnvironment()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = pipe
    process.standardError = stderrHandle
    try process.run()
    // Our copy of the writing end must go, or the reader would never see the end of the stream.
    try pipe.fileHandleForWriting.close()
    if readFirstLine {
      var byte = Data()
      while byte != Data("\n".utf8) {
        byte = try pipe.fileHandleForReading.read(upToCount: 1) ?? Data("\n".utf8)
      }
    }
    try pipe.fileHandleForReading.close()
    process.waitUntilExit()
    let stderr = String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self)
    return (process.terminationStatus, process.terminationReason, stderr)
  }
}
