import Synchronization
import Testing

@testable import shutdown_demo

/// `ProgressLine`, the line `bench` rewrites on stderr while it runs. The clock is injected and moved
/// by hand, so "too soon" is decided without waiting and nothing here is timed.
@Suite struct BenchProgressLineTests {
  /// What the line wrote, and a clock the test moves.
  final class Harness: Sendable {
    let written = Mutex<[String]>([])
    let offset = Mutex<Duration>(.zero)
    let origin = ContinuousClock.now

    func line(isTerminal: Bool, columns: Int = 80) -> ProgressLine {
      ProgressLine(
        isTerminal: isTerminal, columns: columns, minimumInterval: .milliseconds(100),
        now: { [self] in origin + offset.withLock { $0 } },
        write: { [self] text in written.withLock { $0.append(text) } })
    }

    func advance(_ duration: Duration) { offset.withLock { $0 += duration } }
    var output: [String] { written.withLock { $0 } }
  }

  @Test func notATerminal_writesNothingAtAll() {
    let harness = Harness()
    let progress = harness.line(isTerminal: false)
    progress.update("bench: W1a, round 1 of 3")
    harness.advance(.seconds(1))
    progress.update("bench: W1a, round 2 of 3")
    progress.finish()
    #expect(harness.output.isEmpty)
  }

  @Test func onATerminal_eachUpdateRewritesTheLine_andFinishErasesIt() {
    let harness = Harness()
    let progress = harness.line(isTerminal: true)
    progress.update("round 1 of 3")
    harness.advance(.milliseconds(100))
    progress.update("round 2 of 3")
    progress.finish()
    #expect(
      harness.output == [
        "\r" + "round 1 of 3" + "\u{1B}[K",
        "\r" + "round 2 of 3" + "\u{1B}[K",
        "\r" + "\u{1B}[K",
      ])
  }

  @Test func updatesTooCloseTogether_areSkipped_untilTheIntervalHasPassed() {
    let harness = Harness()
    let progress = harness.line(isTerminal: true)
    progress.update("seed 1")
    for seed in 2...1000 {
      harness.advance(.microseconds(50))  // 1000 updates in 50 ms
      progress.update("seed \(seed)")
    }
    harness.advance(.milliseconds(60))
    progress.update("seed 1001")
    #expect(harness.output == ["\rseed 1\u{1B}[K", "\rseed 1001\u{1B}[K"])
  }

  @Test func finishWithNothingShown_writesNothing_andAnUpdateAfterFinishDrawsAtOnce() {
    let harness = Harness()
    let progress = harness.line(isTerminal: true)
    progress.finish()
    #expect(harness.output.isEmpty)
    progress.update("row 1")
    progress.finish()
    progress.update("row 2")  // no time has passed: a finished line starts afresh
    #expect(harness.output == ["\rrow 1\u{1B}[K", "\r\u{1B}[K", "\rrow 2\u{1B}[K"])
  }

  @Test func aLineWiderThanTheTerminal_isCutSoItNeverWraps() {
    let harness = Harness()
    let progress = harness.line(isTerminal: true, columns: 10)
    progress.update("0123456789abcdef")
    #expect(harness.output == ["\r012345678\u{1B}[K"])
  }

  @Test func rate_isDonePerSecondSinceTheLineWasCreated() {
    let harness = Harness()
    let progress = harness.line(isTerminal: false)
    #expect(progress.rate(10) == "–")
    harness.advance(.seconds(4))
    #expect(progress.rate(1000) == "250")
  }

  @Test func benchOutsideATerminal_printsNoProgressOnStderr() {
    let (_, stderr, code) = ShutdownDemo.run(arguments: ["bench", "--only", "W5a", "--quick"])
    #expect(code == 0)
    #expect(!stderr.contains("\r"))
    #expect(!stderr.contains("round"))
  }
}
