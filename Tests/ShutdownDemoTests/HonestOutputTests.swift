import Foundation
import Testing

@testable import shutdown_demo

/// What a newcomer relies on without reading the code: a story's last line tells a clean shutdown
/// from a cut one, output that cannot be written is an error, and colour and wrapping follow the
/// terminal's rules.
@Suite struct HonestOutputTests {
  /// Main's last line states the exit status by the shutdown contract: 1 exactly when some task had
  /// to be aborted or a step failed, 0 otherwise, for every story at its defaults and with a grace
  /// period too short for anyone.
  @Test(arguments: DeterminismTests.everyScenario.map { "\($0.command) \($0.scenario)" })
  func mainsLastLine_statesTheExitStatus_byTheContract(_ invocation: String) throws {
    let parts = invocation.split(separator: " ").map(String.init)
    let catalog = try #require(ShutdownDemo.catalogs.first { $0.command == parts[0] })
    let scenario = try #require(catalog.scenario(named: parts[1]))
    var short = catalog.defaults
    short.grace = .zero
    for knobs in [catalog.defaults, short] {
      let report = ScenarioRunner.runScripted(scenario, command: catalog.command, knobs: knobs)
      guard !scenario.expectsDeadlock else { continue }  // that main never exits: it says so instead
      let last = try #require(report.events.last { $0.actor == "main" && $0.kind == .exit })
      // 0 and 1 for every story; the service flow also ends by a signal: 128 + n (a repeated
      // SIGINT 130, SIGKILL 137, an unhandled SIGTERM 143).
      let codes = catalog.command == "flow" ? ["0", "1", "130", "137", "143"] : ["0", "1"]
      #expect(codes.contains { last.detail.hasSuffix("; exit \($0)") }, "\(invocation): \(last.detail)")
      if !report.summary.aborted.isEmpty {
        #expect(!last.detail.hasSuffix("; exit 0"), "\(invocation): \(last.detail)")
        if catalog.command != "flow" {
          #expect(last.detail.hasSuffix("had to be aborted; exit 1"), "\(invocation): \(last.detail)")
        }
      }
    }
  }

  /// A task that failed (joinset failure's "disk full") makes the process exit 1 even though main
  /// handled every result.
  @Test func aFailedTask_makesTheProcessExit1() {
    let output = ShutdownDemo.run(
      arguments: ["joinset", "--scenario", "failure"], environment: ["NO_COLOR": "1", "COLUMNS": "200"]
    ).stdout
    #expect(output.contains("main    both rounds are joined, but all-1 and all-3 had to be aborted; exit 1"))
  }

  @Test func aGraceOfZero_abortsEveryWorker_andTheLastLineSaysExit1() {
    let wide = ["NO_COLOR": "1", "COLUMNS": "200"]
    let output = ShutdownDemo.run(arguments: ["token", "--grace", "0s"], environment: wide).stdout
    #expect(output.contains("but worker-1, worker-2 and worker-3 had to be aborted; exit 1"))
    #expect(!output.contains("exit 0"))
  }

  @Test func aKnobTheStoryDoesNotRead_isNamedOnStderr_andTheStoryStillRuns() {
    let run = ShutdownDemo.run(arguments: ["token", "--scenario", "tree", "--workers", "7"])
    #expect(run.exitCode == 0)
    #expect(run.stderr == "note: --workers does not change the tree story; it reads --shutdown-at\n")
    #expect(run.stdout == ShutdownDemo.run(arguments: ["token", "--scenario", "tree"]).stdout)
  }

  @Test func aKnobReadByOneOfTheStories_ofAll_isNotReported() {
    #expect(ShutdownDemo.run(arguments: ["token", "--scenario", "all", "--workers", "2"]).stderr == "")
  }

  @Test func explore_passesAKnobChangeThatOnlyChangesTheOutcome_andNamesWhatItChecked() {
    let run = ShutdownDemo.run(arguments: [
      "token", "--scenario", "timeout", "--grace", "5s", "--explore", "10",
    ])
    #expect(run.exitCode == 0)
    #expect(run.stdout.hasPrefix("token · timeout: seeds 0...10 explored; in every order:\n"))
    #expect(run.stdout.contains("  - every task ended before main returned\n"))
  }

  // MARK: output that cannot be written

  /// Runs the binary with stdout or stderr on /dev/full (a device whose every write fails with ENOSPC).
  static func runIntoDevFull(_ arguments: [String], stdoutFull: Bool) throws -> (
    status: Int32, stderr: String
  ) {
    let process = Process()
    process.executableURL = try BinaryRunner.binaryURL()
    process.arguments = arguments
    process.environment = ["NO_COLOR": "1", "COLUMNS": "80", "LC_ALL": "C"]
    let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
    let errors = Pipe()
    process.standardOutput = stdoutFull ? full : FileHandle.nullDevice
    process.standardError = stdoutFull ? errors : full
    try process.run()
    // Read only a pipe the child holds: reading the unused one would wait for ever.
    let text =
      stdoutFull ? String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) : ""
    process.waitUntilExit()
    return (process.terminationStatus, text)
  }

  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
  func stdoutThatCannotBeWritten_isReportedOnStderr_andExits1() throws {
    let run = try Self.runIntoDevFull(["token"], stdoutFull: true)
    #expect(run.status == 1)
    #expect(run.stderr == "Error: cannot write the output: No space left on device\n")
  }

  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full")))
  func aUsageErrorWhoseStderrCannotBeWritten_stillExits64() throws {
    #expect(try Self.runIntoDevFull(["token", "--bogus"], stdoutFull: false).status == 64)
  }

  // MARK: terminal manners

  static func context(_ environment: [String: String], terminal: Bool = true, columns: Int? = nil)
    -> CommandContext
  {
    CommandContext(
      environment: environment, stdoutIsTerminal: terminal, terminalColumns: columns, write: { _ in },
      writeError: { _ in })
  }

  @Test func colour_onlyOnATerminal_thatIsNotDumb_withoutANonEmptyNoColor() {
    #expect(Self.context([:]).useColor(noColorFlag: false))
    #expect(!Self.context([:], terminal: false).useColor(noColorFlag: false))
    #expect(!Self.context(["TERM": "dumb"]).useColor(noColorFlag: false))
    #expect(!Self.context(["NO_COLOR": "1"]).useColor(noColorFlag: false))
    #expect(Self.context(["NO_COLOR": ""]).useColor(noColorFlag: false), "no-color.org: empty does not count")
    #expect(!Self.context([:]).useColor(noColorFlag: true))
  }

  @Test func width_isColumns_elseTheTerminals_else80() {
    #expect(Self.context(["COLUMNS": "100"], columns: 120).columns == 100)
    #expect(Self.context([:], columns: 120).columns == 120)
    #expect(Self.context([:], columns: nil).columns == 80)
  }

  @Test func colouredOutput_wrapsWhereThePlainOutputDoes() throws {
    let scenario = TokenStories.basic
    let report = ScenarioRunner.runScripted(scenario, command: "token", knobs: Knobs())
    let plain = TextRenderer.render(report, width: 80, color: false)
    let coloured = TextRenderer.render(report, width: 80, color: true)
    let stripped = coloured.replacing(/\u{1B}\[[0-9;]*m/, with: "")
    #expect(stripped == plain)
  }

  @Test func aLongTimelineLine_wrapsUnderItsOwnColumn() {
    let output = ShutdownDemo.run(arguments: ["token"]).stdout
    #expect(
      output.contains(
        "  0.000s  main      creates the root token and starts 3 workers, each with a\n"
          + "                    child token\n"))
    for line in output.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
  }

  @Test func subMillisecondTimes_showInTheTimeline() {
    #expect(timestampDecimals([.milliseconds(500)]) == 3)
    #expect(timestampDecimals([.microseconds(500)]) == 6)
    #expect(timestampDecimals([.nanoseconds(5)]) == 9)
    #expect(formatTimestamp(.microseconds(1_500), decimals: 6) == "0.001500s")
  }
}
