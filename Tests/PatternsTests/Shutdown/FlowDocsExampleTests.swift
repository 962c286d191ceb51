import Foundation
import Patterns
import Synchronization
import Testing

// The example of docs/flow.md, "Use it in your own service", exactly as the chapter shows it: the
// docs test below checks that the chapter's block and the text between these markers are the same.

// docs/flow.md example begins
/// Requests served, saved at shutdown.
final class ServedCounter: Sendable {
  private let count = Mutex(0)
  func increment() { count.withLock { $0 += 1 } }
  var value: Int { count.withLock { $0 } }
}

/// A service: an accept loop whose requests enter the connection tracker, a background worker,
/// two resources and one snapshot, shut down by the coordinator in seven steps.
func runService(
  clock: some Clock<Duration>, signals: MPSC<ShutdownSignal>.Receiver, store: any StateStore
) async -> ShutdownReport {
  let shutdown = GracefulShutdown(
    clock: clock, signals: signals,
    configuration: ShutdownConfiguration(grace: .seconds(10), drainDelay: .seconds(1)), store: store)
  let served = ServedCounter()

  // Step 5 closes these last registered first: the pool the cache uses closes last.
  shutdown.cleanup.register(name: "db pool", timeout: .seconds(2)) {
    try await clock.sleep(for: .milliseconds(100))
  }
  shutdown.cleanup.register(name: "cache", timeout: .seconds(1)) {
    try await clock.sleep(for: .milliseconds(50))
  }
  // Step 6 saves this atomically, marked clean when nothing was cut.
  shutdown.persist(name: "counters", timeout: .seconds(1)) { Array("served=\(served.value)".utf8) }

  // Step 3 cancels the token; the worker stops at its next look.
  shutdown.spawn(name: "worker") { token in
    while !token.isCancelled { try await clock.sleep(for: .milliseconds(200)) }
  }
  // Step 2 closes the tracker: from then on `enter()` returns nil and the loop ends.
  shutdown.spawn(name: "accept loop") { _ in
    var number = 0
    while true {
      try await clock.sleep(for: .milliseconds(100))  // the next connection arrives
      guard let connection = shutdown.connections.enter() else { return }
      number += 1
      shutdown.spawn(name: "request \(number)") { _ in
        defer { connection.leave() }  // step 4 waits until every connection has left
        try await clock.sleep(for: .milliseconds(300))
        served.increment()
      }
    }
  }
  return await shutdown.run()  // serves until the first SIGTERM or SIGINT, then runs the steps
}

/// The process: real signals, the real clock, a state directory, and the report's exit code.
func serviceMain() async throws -> Never {
  let signals = await ProcessSignals.install()  // armed before anything says "ready"
  let store = try FileStateStore(directory: "state")
  let report = await ProcessSignals.ignoringBrokenPipe {
    await runService(clock: ContinuousClock(), signals: signals.signals, store: store)
  }
  exit(report.exitCode)  // 0 clean, 1 something cut or failed, 128 + n forced by a repeated signal
}
// docs/flow.md example ends

@Suite struct FlowDocsExampleTests {
  /// The example runs: SIGTERM at 1.05 s (between two arrivals), one second of drain delay, every request finished, both
  /// resources closed in order, the counter saved clean, exit 0.
  @Test func theExample_shutsDownCleanly_inVirtualTime() throws {
    let store = InMemoryStateStore()
    let result = Simulation.run { clock in
      let script = ScriptedSignals.start([.init(at: .milliseconds(1050), .terminate)], clock: clock)
      return await runService(clock: clock, signals: script.signals, store: store)
    }
    let report = try #require(try result.value?.get())
    #expect(report.exitCode == 0)
    #expect(report.tasksAborted.isEmpty)
    #expect(report.cleanup.map(\.name) == ["cache", "db pool"])
    #expect(report.cleanup.allSatisfy { $0.outcome.isDone })
    guard case .clean(let bytes) = store.load(name: "counters") else {
      Issue.record("no clean snapshot: \(store.load(name: "counters"))")
      return
    }
    // Connections arrive every 100 ms until the listener closes at 2.05 s (signal + drain delay).
    #expect(String(decoding: bytes, as: UTF8.self) == "served=20")
  }

  /// The chapter, and the walkthrough's last stop, show exactly the code above.
  @Test func theChapter_showsTheCompiledExample() throws {
    let here = URL(fileURLWithPath: #filePath)
    let root = here.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let source = try String(contentsOf: here, encoding: .utf8)
    let chapters = try ["docs/flow.md", "docs/walkthrough.md"].map {
      ($0, try String(contentsOf: root.appendingPathComponent($0), encoding: .utf8))
    }
    let begin = try #require(source.range(of: "// docs/flow.md example begins\n"))
    let end = try #require(source.range(of: "// docs/flow.md example ends\n"))
    let example =
      "import Foundation\nimport Patterns\nimport Synchronization\n\n"
      + source[begin.upperBound..<end.lowerBound]
    for (name, chapter) in chapters {
      #expect(
        chapter.contains("```swift\n\(example)```\n"),
        "\(name) must show the example of \(here.lastPathComponent)")
    }
  }
}
