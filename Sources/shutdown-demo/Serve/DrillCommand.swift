import Foundation
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `shutdown-demo drill`: start a server, load it, SIGTERM it mid-load, and count what was lost.
enum DrillCommand {
  static let command = CommandSpec(
    name: "drill",
    abstract: "SIGTERM a server under load: graceful vs naive.",
    discussion: """
      Starts 'serve' (this same binary) as a child process, waits until it is ready, puts \
      --concurrency closed-loop clients on GET /work?ms=<request-time>, sends SIGTERM after \
      --signal-after, and keeps loading until it has exited. Prints, for each mode: requests ok, \
      refused (nobody was listening: a load balancer would retry those elsewhere), failed after \
      being accepted (what users see as 502s), the exit code and the time from SIGTERM to exit. \
      With --command "<how to start your server>" --url http://127.0.0.1:PORT/path it drills your \
      own service instead and ends with a verdict. --format json prints one object per mode.
      """,
    options: [
      OptionSpec(
        name: "concurrency", valueName: "n", help: "How many clients (and connections) at once.",
        kind: .integer(1...10_000), defaultValue: "64"),
      OptionSpec(
        name: "request-time", valueName: "duration", help: "How long each request works (serve's /work?ms=).",
        kind: .duration(.zero...Duration.seconds(60)), defaultValue: "200ms"),
      OptionSpec(
        name: "grace", valueName: "duration",
        help:
          "serve's grace period; the drill waits --drain-delay plus this plus 5s for the exit, then kills.",
        kind: .duration(.zero...Duration.seconds(600)), defaultValue: "5s"),
      OptionSpec(
        name: "drain-delay", valueName: "duration", help: "serve's drain delay.",
        kind: .duration(.zero...Duration.seconds(600)), defaultValue: "0s"),
      OptionSpec(
        name: "signal-after", valueName: "duration", help: "How long to load before sending SIGTERM.",
        kind: .duration(Duration.milliseconds(1)...Duration.seconds(600)), defaultValue: "1s"),
      OptionSpec(
        name: "mode", valueName: "mode", help: "Which serve to drill.",
        kind: .choice(["graceful", "naive", "both"]),
        defaultValue: "both"),
      OptionSpec(
        name: "command", valueName: "shell-command",
        help: "Drill your own server: how to start it (run by /bin/sh).",
        kind: .text),
      OptionSpec(
        name: "url", valueName: "url", help: "With --command: what to load, http://127.0.0.1:PORT/path.",
        kind: .text),
      OptionSpec(
        name: "ready-url", valueName: "url",
        help: "With --command: what must answer 2xx before loading (default: --url).",
        kind: .text),
      OptionSpec(
        name: "format", valueName: "format", help: "How to print the result.",
        kind: .choice(["text", "json"]),
        defaultValue: "text"),
    ]
  ) { parsed, context in
    let plan = try DrillPlan(parsed)
    raiseOpenFilesLimit()
    let current = Shared<ChildProcess?>(nil)
    // Ctrl-C or SIGTERM to the drill: stop the server it started first, then exit.
    let signals = blockingRun { await ProcessSignals.install([.interrupt, .terminate]) }
    let watcher = Task {
      for await signal in signals.signals {
        current.value?.killGroup()
        context.writeError("drill: \(signal); stopped the server it had started\n")
        exit(signal.exitCode)
      }
    }
    defer {
      watcher.cancel()
      signals.cancel()
    }
    if plan.format == "text" { context.write(plan.header) }
    var runs: [DrillRun] = []
    for mode in plan.modes {
      let outcome = blockingRun { await plan.run(mode, current: current) }
      switch outcome {
      case .success(let run):
        runs.append(run)
        if plan.format == "json" { context.write(run.json() + "\n") }
      case .failure(let error):
        throw error
      }
    }
    if plan.format == "text" { context.write(DrillRun.table(runs)) }
    return runs.allSatisfy(\.passed) ? 0 : 1
  }
}

/// One way to start the server under test.
enum DrillMode: Sendable, Equatable {
  case graceful, naive
  /// The user's own command.
  case command(String)

  var name: String {
    switch self {
    case .graceful: "graceful"
    case .naive: "naive"
    case .command: "your service"
    }
  }
}

/// A failure that stops the drill: `Error: …`, exit 1.
struct DrillError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// What the options asked for, validated.
struct DrillPlan: Sendable {
  var modes: [DrillMode]
  var concurrency: Int
  var requestTime: Duration
  var grace: Duration
  var drainDelay: Duration
  var signalAfter: Duration
  var target: LoadTarget?
  var readyTarget: LoadTarget?
  var format: String

  init(_ parsed: ParsedOptions) throws {
    concurrency = parsed.integer("concurrency")
    requestTime = parsed.duration("request-time")
    grace = parsed.duration("grace")
    drainDelay = parsed.duration("drain-delay")
    signalAfter = parsed.duration("signal-after")
    format = parsed.choice("format")
    if let command = parsed.text("command") {
      guard !command.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw UsageError("--command needs a command")
      }
      for option in ["mode", "request-time", "drain-delay"] where parsed.wasGiven(option) {
        throw UsageError("'--\(option)' is for drilling serve; with '--command' your service has its own")
      }
      guard let url = parsed.text("url") else {
        throw UsageError("'--command' needs '--url <url>': what to load")
      }
      guard let target = LoadTarget(url), target.host.hasPrefix("127.") else {
        throw UsageError(
          "The value '\(url)' is invalid for '--url <url>': expected http://127.0.0.1:PORT/path")
      }
      self.target = target
      if let ready = parsed.text("ready-url") {
        guard let readyTarget = LoadTarget(ready), readyTarget.host.hasPrefix("127.") else {
          throw UsageError(
            "The value '\(ready)' is invalid for '--ready-url <url>': expected http://127.0.0.1:PORT/path")
        }
        self.readyTarget = readyTarget
      } else {
        readyTarget = target
      }
      modes = [.command(command)]
    } else {
      for option in ["url", "ready-url"] where parsed.wasGiven(option) {
        throw UsageError("'--\(option)' goes with '--command'")
      }
      switch parsed.choice("mode") {
      case "graceful": modes = [.graceful]
      case "naive": modes = [.naive]
      default: modes = [.graceful, .naive]
      }
    }
  }

  /// How long the drill waits for the exit after SIGTERM before it kills the server itself.
  /// serve's grace runs from the listener's close, which the drain delay postpones.
  var exitDeadline: Duration { drainDelay + grace + .seconds(5) }

  var header: String {
    if let target {
      return "drill: \(concurrency) connections on GET \(target.url); SIGTERM after "
        + "\(formatDuration(signalAfter)); waiting up to \(formatDuration(exitDeadline)) for the exit\n\n"
    }
    return "drill: \(concurrency) connections, each GET /work?ms=\(milliseconds(requestTime)) in a loop; "
      + "SIGTERM after \(formatDuration(signalAfter)); grace \(formatDuration(grace))\n\n"
  }

  /// This executable, to start `serve` from.
  static func executablePath() -> String {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
    var resolved = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    if realpath(CommandLine.arguments[0], &resolved) != nil {
      return String(decoding: resolved.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return CommandLine.arguments[0]
  }

  /// Starts the server, waits until it is ready, loads it, sends SIGTERM, and counts.
  func run(_ mode: DrillMode, current: Shared<ChildProcess?>) async -> Result<DrillRun, DrillError> {
    let arguments: [String]
    switch mode {
    case .graceful, .naive:
      arguments =
        [
          Self.executablePath(), "serve", "--port", "0", "--grace", formatDuration(grace), "--drain-delay",
          formatDuration(drainDelay),
        ] + (mode == .naive ? ["--naive"] : [])
    case .command(let command):
      // `exec`, so that SIGTERM reaches the server itself rather than a shell that waits for it.
      arguments = ["/bin/sh", "-c", "exec " + command]
    }
    let child: ChildProcess
    do {
      child = try ChildProcess(arguments: arguments)
    } catch {
      return .failure(DrillError("cannot start \(arguments.joined(separator: " ")): \(error)"))
    }
    current.update { $0 = child }
    defer {
      child.killGroup()
      current.update { $0 = nil }
    }
    func lastLines() -> String {
      let lines = child.lines.suffix(5)
      return lines.isEmpty ? "(it printed nothing)" : "its last output: " + lines.joined(separator: " | ")
    }

    var target: LoadTarget
    var readyTarget: LoadTarget
    if let given = self.target {
      target = given
      readyTarget = self.readyTarget ?? given
    } else {
      guard
        let line = await child.waitForLine(
          timeout: .seconds(30), matching: { $0.hasPrefix("listening on http://") }),
        let url = line.split(separator: " ").dropFirst(2).first, let listening = LoadTarget(String(url))
      else { return .failure(DrillError("serve did not say it was listening within 30s; \(lastLines())")) }
      target = listening
      target.path = "/work?ms=\(milliseconds(requestTime))"
      readyTarget = listening
      readyTarget.path = "/ready"
    }

    // Ready: the URL answers 2xx. Bounded, and given up on if the process exits.
    let readyDeadline = ContinuousClock.now + .seconds(60)
    while true {
      if let exit = child.exitStatus {
        return .failure(
          DrillError("the server exited (code \(exit.code)) before it was ready; \(lastLines())"))
      }
      if await Self.answers(readyTarget) { break }
      if ContinuousClock.now >= readyDeadline {
        return .failure(DrillError("\(readyTarget.url) did not answer 2xx within 60s; \(lastLines())"))
      }
      try? await Task.sleep(for: .milliseconds(50))
    }

    var configuration = LoadConfiguration(target: target)
    configuration.concurrency = concurrency
    configuration.timeout = exitDeadline + .seconds(5)
    // Out of step, as real traffic is: at the SIGTERM, requests are at every stage of their work.
    if self.target == nil { configuration.rampUp = requestTime }
    let generator: LoadGenerator
    do {
      generator = try LoadGenerator(configuration)
    } catch {
      return .failure(DrillError("cannot start the load: \(error)"))
    }
    let timing = Shared<(signalAt: UInt64, exit: ChildExit?, killed: Bool)>((0, nil, false))
    let (signalAfter, exitDeadline) = (self.signalAfter, self.exitDeadline)
    let result = await generator.run {
      try? await Task.sleep(for: signalAfter)
      let signalAt = monotonicNanoseconds()
      child.send(SIGTERM)
      var exit = await child.waitForExit(timeout: exitDeadline)
      var killed = false
      if exit == nil {
        killed = true
        child.killGroup()
        exit = await child.waitForExit(timeout: .seconds(10))
      }
      timing.update { $0 = (signalAt, exit, killed) }
      // A little more load after the exit: what clients see once nobody listens.
      try? await Task.sleep(for: .milliseconds(300))
    }
    let (signalAt, exit, killed) = timing.value
    let shutdownLines = child.lines.filter { $0.hasPrefix("shutdown ") }
    return .success(
      DrillRun(
        mode: mode, counts: result.counts, exitCode: exit?.code ?? -1,
        exitSeconds: exit.map { Double($0.at - min($0.at, signalAt)) / 1e9 } ?? -1, killedByDrill: killed,
        exitDeadline: exitDeadline, report: shutdownLines))
  }

  /// Whether one GET of `target` gets a 2xx response within a second.
  static func answers(_ target: LoadTarget) async -> Bool {
    var configuration = LoadConfiguration(target: target)
    configuration.concurrency = 1
    configuration.requestLimit = 1
    configuration.timeout = .seconds(1)
    guard let probe = try? LoadGenerator(configuration) else { return false }
    return await probe.run(duration: .seconds(2)).counts.ok == 1
  }
}

/// The whole milliseconds of a duration.
func milliseconds(_ duration: Duration) -> Int {
  Int((exactNanoseconds(duration) ?? 0) / 1_000_000)
}

/// What one mode of the drill measured.
struct DrillRun: Sendable {
  var mode: DrillMode
  var counts: LoadCounts
  var exitCode: Int32
  var exitSeconds: Double
  /// The server was still running at the drill's deadline, and the drill killed it.
  var killedByDrill: Bool
  var exitDeadline: Duration
  /// The server's own shutdown report (serve's `shutdown +…` lines).
  var report: [String]

  /// What went wrong, if anything, in one line.
  var verdict: String {
    var problems: [String] = []
    if counts.failedAfterAccept > 0 {
      problems.append(
        "\(counts.failedAfterAccept) request\(counts.failedAfterAccept == 1 ? "" : "s") cut after being accepted"
      )
      if exitCode == 0 && !killedByDrill { problems.append("it exited 0 before draining") }
    }
    if killedByDrill {
      problems.append(
        "it ignored SIGTERM until the drill's own deadline (\(formatDuration(exitDeadline))) and was killed")
    } else if exitCode != 0 {
      problems.append(
        exitCode == 128 + SIGTERM ? "SIGTERM killed it (exit 143): no handler" : "exit code \(exitCode)")
    }
    if counts.timedOut > 0 { problems.append("\(counts.timedOut) timed out") }
    if problems.isEmpty {
      return
        "PASS: drained without a failed request; exit 0, \(String(format: "%.2f", exitSeconds))s after SIGTERM"
    }
    return "FAIL: " + problems.joined(separator: "; ")
  }

  /// Whether this run is what its mode promises: graceful and the user's service drain without a
  /// loss; naive is expected to lose requests.
  var passed: Bool {
    switch mode {
    case .naive: true
    case .graceful, .command: verdict.hasPrefix("PASS")
    }
  }

  func json() -> String {
    let statuses = counts.httpErrors.keys.sorted().map { "\"\($0)\":\(counts.httpErrors[$0]!)" }
    return """
      {"mode":"\(mode.name)","ok":\(counts.ok),"refused":\(counts.refused),\
      "failed_after_accept":\(counts.failedAfterAccept),"timed_out":\(counts.timedOut),\
      "http_errors":{\(statuses.joined(separator: ","))},"connect_errors":\(counts.connectErrors),\
      "exit_code":\(exitCode),"exit_seconds":\(String(format: "%.3f", exitSeconds)),\
      "killed_by_drill":\(killedByDrill),"verdict":"\(verdict)"}
      """
  }

  /// The side-by-side table, each server's own report, and a verdict per mode.
  static func table(_ runs: [DrillRun]) -> String {
    let width = 13
    var out = pad("", 30) + runs.map { pad($0.mode.name, width) }.joined() + "\n"
    func row(_ label: String, _ value: (DrillRun) -> String) {
      out +=
        label.padding(toLength: 30, withPad: " ", startingAt: 0) + runs.map { pad(value($0), width) }.joined()
        + "\n"
    }
    row("requests ok") { "\($0.counts.ok)" }
    row("refused (nobody listening)") { "\($0.counts.refused)" }
    row("failed after accept (502s)") { "\($0.counts.failedAfterAccept)" }
    row("HTTP errors") { "\($0.counts.httpErrorTotal)" }
    row("timed out") { "\($0.counts.timedOut)" }
    row("exit code") { "\($0.exitCode)" }
    row("SIGTERM to exit") { $0.exitSeconds < 0 ? "-" : String(format: "%.3fs", $0.exitSeconds) }
    for run in runs where !run.report.isEmpty {
      out += "\n\(run.mode.name) server's own report:\n"
      for line in run.report { out += "  \(line)\n" }
    }
    out += "\n"
    for run in runs {
      switch run.mode {
      case .graceful:
        out += "graceful: \(run.verdict)\n"
      case .naive:
        out +=
          "naive: SIGTERM killed it at once; \(run.counts.failedAfterAccept) accepted request"
          + "\(run.counts.failedAfterAccept == 1 ? " was" : "s were") cut (a proxy answers those with 502)\n"
      case .command:
        out += "verdict: \(run.verdict)\n"
      }
    }
    return out
  }
}
