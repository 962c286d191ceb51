import Foundation
import Testing

@testable import shutdown_demo

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `--live` as a user runs it: the built binary, real signals sent with kill(2), the exit code the
/// shell sees. Each test waits for the line that says the run is where the test needs it before it
/// signals; every wait is bounded, and nothing asserts how long anything took.
@Suite struct LiveProcessTests {
  @Test func sigterm_endsTheStoryCleanly_withItsEventsInOrder() async throws {
    let run = try await LiveChild.start(["broadcast", "--live", "--format", "json"])
    defer { run.kill() }
    run.child.send(SIGTERM)
    #expect(try await run.exitCode() == 0)
    let events = run.events
    // Main starts first and exits last, with the contract's code on its line.
    #expect(events.first?.actor == "main" && events.first?.kind == "start")
    #expect(events.last?.actor == "main" && events.last?.kind == "exit")
    #expect(events.last?.detail.hasSuffix("exit 0") == true)
    // One signal, then main's notification; each worker starts, observes after the signal, exits.
    let signals = events.indices.filter { events[$0].kind == "signal" }
    try #require(signals.count == 1, "signals: \(events)")
    #expect(events[signals[0]].actor == "signal" && events[signals[0]].detail == "SIGTERM")
    let notify = try #require(events.firstIndex { $0.actor == "main" && $0.kind == "notify" })
    #expect(notify > signals[0])
    for worker in ["worker-1", "worker-2", "worker-3"] {
      let kinds = events.filter { $0.actor == worker }.map(\.kind)
      #expect(kinds.first == "start", "\(worker): \(kinds)")
      #expect(Array(kinds.suffix(2)) == ["observe", "exit"], "\(worker): \(kinds)")
      let observed = try #require(events.firstIndex { $0.actor == worker && $0.kind == "observe" })
      #expect(observed > notify)
    }
    #expect(run.child.lines.last?.hasPrefix(#"{"type":"summary""#) == true)
  }

  @Test func sigintTwice_stopsTheWaiting_andExits130_afterTheSummary() async throws {
    // The late subscriber never hears the shutdown, and with an hour's grace only the 2nd signal
    // ends the wait.
    let run = try await LiveChild.start([
      "broadcast", "--live", "--scenario", "late-subscriber", "--grace", "1h",
    ])
    defer { run.kill() }
    run.child.send(SIGINT)
    try await run.awaitLine { $0.contains("worker-3") && $0.contains("waits for the shutdown message") }
    run.child.send(SIGINT)
    #expect(try await run.exitCode() == 130)
    let lines = run.child.lines
    #expect(lines.contains { $0.contains("SIGINT again (2nd shutdown signal): main stops") })
    #expect(lines.contains { $0.contains("worker-3") && $0.contains("task cancelled by the 2nd SIGINT") })
    #expect(lines.contains { $0.contains("stopped early by the 2nd SIGINT; exit 130") })
    #expect(lines.contains("summary:"))
    #expect(lines.contains { $0.hasPrefix("lesson:") })
  }

  @Test func sigintThreeTimes_exitsAtOnce_with130_andNoSummary() async throws {
    // The stubborn child ignores cancellation for 5s: the 2nd signal cannot end that wait, the 3rd
    // ends the process.
    // Each signal goes the moment the line before it is read, from the reading thread: the 5s are
    // the child's, and a busy test process cannot eat them.
    let run = try await LiveChild.start(
      ["joinset", "--live", "--scenario", "task-group"],
      reactions: [
        ("group.cancelAll()", SIGINT), ("(2nd shutdown signal)", SIGINT),
      ],
      first: SIGINT)
    defer { run.kill() }
    #expect(try await run.exitCode() == 130)
    let lines = run.child.lines
    #expect(lines.contains { $0.contains("SIGINT again (3rd shutdown signal): exit now") })
    #expect(!lines.contains("summary:"))
  }

  @Test func shutdownAt_sendsItselfSIGTERM_andExits0() throws {
    let output = try BinaryRunner.run(["token", "--live", "--shutdown-at", "300ms"])
    #expect(output.exitCode == 0)
    #expect(output.stderr.contains("press Ctrl-C, or: kill -TERM"))
    #expect(output.stdout.contains("this process sends itself SIGTERM"))
    #expect(output.stdout.split(separator: "\n").contains { $0.hasSuffix("signal    SIGTERM") })
    #expect(output.stdout.contains("every worker has stopped; exit 0"))
  }

  @Test(arguments: [
    ["broadcast", "--live", "--scenario", "all"], ["token", "--live", "--explore", "10"],
    ["watch", "--live", "--format", "svg"], ["flow", "--live", "--format", "chart"],
    ["mpsc", "--live", "--seed", "3"],
  ])
  func whatALiveRunCannotDo_isRefused_withExit64(arguments: [String]) throws {
    let output = try BinaryRunner.run(arguments)
    #expect(output.exitCode == 64)
    #expect(output.stdout.isEmpty)
    let first = try #require(output.stderr.split(separator: "\n").first)
    #expect(first.hasPrefix("Error: --"))
    #expect(!output.stderr.contains("press Ctrl-C"))
  }

  @Test func aClosedOutputPipe_endsTheRunQuietly() throws {
    let binary = try BinaryRunner.binaryURL().path
    let output = try BinaryRunner.run(
      ["-c", "'\(binary)' broadcast --live --shutdown-at 300ms | head -1; echo \"status ${PIPESTATUS[0]}\""],
      binary: URL(fileURLWithPath: "/bin/bash"))
    #expect(output.stdout == "broadcast · basic\nstatus 0\n")
    #expect(!output.stderr.contains("Error"))
  }

  @Test func flow_sigtermDuringCleanup_isTheLaddersSecondStep_exit143() async throws {
    // No grace: the drain ends at once, and the cache's 2s flush is the cleanup the 2nd signal meets.
    let run = try await LiveChild.start(
      ["flow", "--live", "--scenario", "second-signal", "--grace", "0s"],
      reactions: [("grace period (0s) is over", SIGTERM)], first: SIGTERM)
    defer { run.kill() }
    #expect(try await run.exitCode() == 143)
    let lines = run.child.lines
    #expect(lines.contains { $0.contains("SIGTERM again (2nd shutdown signal)") })
    #expect(lines.contains { $0.contains("a 2nd SIGTERM: stop waiting;") })
    // The ladder's 2nd step still closes and saves.
    #expect(lines.contains { $0.contains("db pool") && $0.contains("step 5/7 cleanup") })
    #expect(lines.contains { $0.contains("step 6/7 persist") })
    #expect(lines.contains { $0.contains("exit: stopped early by a 2nd SIGTERM") })
    #expect(lines.contains { $0.contains("exit code") && $0.contains("143") })
  }

  @Test func flow_sighup_reloads_andDoesNotShutDown() async throws {
    let run = try await LiveChild.start(["flow", "--live", "--scenario", "reload"])
    defer { run.kill() }
    run.child.send(SIGHUP)
    try await run.awaitLine { $0.contains("publishes config v2") }
    try await run.awaitLine { $0.contains("picks up config v2") }
    #expect(run.child.exitStatus == nil)
    #expect(!run.child.lines.contains { $0.contains("step 1/7") })
    run.child.send(SIGTERM)
    #expect(try await run.exitCode() == 0)
    // The SIGTERM, not the SIGHUP, started the shutdown: step 1 comes after it.
    let lines = run.child.lines
    let sigterm = try #require(lines.firstIndex { $0.contains("signal") && $0.hasSuffix("SIGTERM") })
    #expect(lines[sigterm...].contains { $0.contains("step 1/7 signal: readiness now answers 503") })
  }

  /// Signals at random moments of random stories: whatever the order, every run ends with a code
  /// of the contract, and none hangs. The seed is printed with a failure, to replay it.
  @Test func signalsAtRandomMoments_alwaysEndWithAContractCode() async throws {
    let seed = UInt64.random(in: 0...UInt64(UInt32.max))
    var generator = SplitMix(seed: seed)
    let stories = [
      ["broadcast"], ["watch"], ["token"], ["joinset"], ["mpsc"], ["flow"],
      ["broadcast", "--scenario", "timeout"],
      ["mpsc", "--scenario", "drain"], ["flow", "--scenario", "second-signal"],
      ["flow", "--scenario", "reload"],
    ]
    let signals = [SIGINT, SIGTERM, SIGHUP]
    var plans: [(arguments: [String], steps: [(delayMilliseconds: Int, signal: Int32)])] = []
    for _ in 0..<50 {
      let story = stories[Int(generator.next() % UInt64(stories.count))]
      var steps: [(Int, Int32)] = []
      for _ in 0...(generator.next() % 3) {
        steps.append((Int(generator.next() % 600), signals[Int(generator.next() % UInt64(signals.count))]))
      }
      // At least one shutdown signal, or a story would wait for one for ever (as it should).
      steps.append((Int(generator.next() % 600), generator.next() % 2 == 0 ? SIGINT : SIGTERM))
      plans.append((story + ["--live"], steps))
    }
    let contract: Set<Int32> = [0, 1, 130, 143]
    for batch in stride(from: 0, to: plans.count, by: 10) {
      let results = await withTaskGroup(of: (Int, Result<Int32, any Error>).self) { group in
        for index in batch..<min(batch + 10, plans.count) {
          let plan = plans[index]
          group.addTask {
            do {
              let run = try await LiveChild.start(plan.arguments)
              defer { run.kill() }
              for step in plan.steps {
                try await Task.sleep(for: .milliseconds(step.delayMilliseconds))
                run.child.send(step.signal)
              }
              return (index, .success(try await run.exitCode()))
            } catch {
              return (index, .failure(error))
            }
          }
        }
        var results: [(Int, Result<Int32, any Error>)] = []
        for await result in group { results.append(result) }
        return results
      }
      for (index, result) in results {
        let plan = plans[index]
        let what = "seed \(seed), run \(index): \(plan.arguments) signals \(plan.steps)"
        switch result {
        case .success(let code): #expect(contract.contains(code), "\(what) exited \(code)")
        case .failure(let error): Issue.record("\(what): \(error)")
        }
      }
    }
  }
}

/// A live run of the binary, started and waited for until it printed its pid line (so its signal
/// handlers are armed).
struct LiveChild {
  let child: ChildProcess

  /// - Parameters:
  ///   - reactions: signals to send the moment a line containing `line` is read, each once.
  ///   - first: a signal to send the moment the pid line is read.
  static func start(
    _ arguments: [String], reactions: [(line: String, signal: Int32)] = [],
    first: Int32? = nil
  ) async throws -> LiveChild {
    let binary = try BinaryRunner.binaryURL().path
    let child = try ChildProcess(arguments: [binary] + arguments)
    let isPidLine: @Sendable (String) -> Bool = { $0.contains("press Ctrl-C, or: kill -TERM") }
    for (text, signal) in reactions { child.whenLine(matching: { $0.contains(text) }) { child.send(signal) } }
    if let first { child.whenLine(matching: isPidLine) { child.send(first) } }
    guard await child.waitForLine(timeout: .seconds(60), matching: isPidLine) != nil else {
      child.killGroup()
      throw LiveTestError("no pid line from \(arguments); it wrote: \(child.lines)")
    }
    return LiveChild(child: child)
  }

  /// Waits (bounded) for a line of its output.
  func awaitLine(_ matches: @escaping @Sendable (String) -> Bool) async throws {
    guard await child.waitForLine(timeout: .seconds(60), matching: matches) != nil else {
      throw LiveTestError("the expected line never came; it wrote: \(child.lines)")
    }
  }

  /// Waits (bounded) for the exit and returns its code.
  func exitCode() async throws -> Int32 {
    guard let exit = await child.waitForExit(timeout: .seconds(60)) else {
      throw LiveTestError("did not exit; it wrote: \(child.lines)")
    }
    return exit.code
  }

  /// The JSON Lines events it printed: actor, kind, detail.
  var events: [(actor: String, kind: String, detail: String)] {
    child.lines.compactMap { line in
      guard line.hasPrefix(#"{"type":"event""#),
        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        let actor = object["actor"] as? String, let kind = object["kind"] as? String,
        let detail = object["detail"] as? String
      else { return nil }
      return (actor, kind, detail)
    }
  }

  func kill() { child.killGroup() }
}

struct LiveTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// A small seeded generator, so a failing stress run can be replayed from its seed.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
