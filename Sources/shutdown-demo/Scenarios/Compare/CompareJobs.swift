import Patterns
import Synchronization

/// The producer and the ledger every row that carries jobs shares: what was sent, what the consumer
/// did with it, and how long the producer waited for room.
extension CompareStories {
  /// Counts kept by the producer and the consumer while a row runs, read by main when everyone is gone.
  final class JobLedger: Sendable {
    struct Counts: Sendable {
      var sent = 0
      var taken = 0
      var handled = 0
      var lost = 0
      var skipped = 0
      /// Jobs still in the channel when the consumer was cut off.
      var neverRead = 0
      var waits = 0
      var blocked: Duration = .zero
    }

    private let counts = Mutex(Counts())

    func update(_ change: (inout Counts) -> Void) { counts.withLock { change(&$0) } }
    var values: Counts { counts.withLock { $0 } }

    /// The summary lines of a row that carries jobs: where every job went, and the producer's wait.
    func lines() -> [SummaryLine] {
      let counts = values
      var parts = [Measure.Part(counts.handled, "handled")]
      if counts.lost > 0 { parts.append(.init(counts.lost, "lost")) }
      if counts.skipped > 0 { parts.append(.init(counts.skipped, "skipped")) }
      if counts.taken > counts.handled {
        parts.append(.init(counts.taken - counts.handled, "cut off mid-job"))
      }
      if counts.neverRead > 0 { parts.append(.init(counts.neverRead, "never read")) }
      return [
        SummaryLine(jobsLabel, .equation(total: counts.sent, parts: parts)),
        SummaryLine(
          producerBlockedLabel, .duration(counts.blocked),
          note: counts.waits == 0 ? "(send never waited)" : "(\(counted(counts.waits, "wait")) for room)"),
        SummaryLine(producerWaitsLabel, .count(counts.waits)),
      ]
    }
  }

  /// Sends a job every 100ms until the signal; `send` delivers one and says whether it could (false
  /// once nobody can receive). The producer learns of the signal from the script itself, not from
  /// the pattern: it is main's own arm, and what the table compares is how the stop reaches the rest.
  static func produce(
    _ context: ScenarioContext, ledger: JobLedger, send: (Int) async -> Bool
  ) async {
    context.record(producer, .start, "sends a job every \(formatDuration(producerPace)) until SIGTERM")
    var job = 0
    while !Task.isCancelled, await context.trigger.sleep(for: producerPace, orArrival: context) == nil {
      job += 1
      guard await send(job) else { break }
      ledger.update { $0.sent += 1 }
    }
    context.record(producer, .exit, "stops at the signal, after \(counted(ledger.values.sent, "job"))")
  }

  /// The consumer's last line when main cut it off at the grace deadline.
  static func consumerAborted(_ context: ScenarioContext, ledger: JobLedger, unread: Int) {
    ledger.update { $0.neverRead += unread }
    let counts = ledger.values
    let midJob = counts.taken > counts.handled ? ", in the middle of job \(counts.taken)" : ""
    let left = unread == 0 ? "" : "; \(counted(unread, "job")) never read"
    context.record(consumer, .abort, "task cancelled at the grace deadline\(midJob)\(left)")
  }

  /// Main's line about how it learned that everyone is done.
  static func doneLine(fromPattern: Bool, _ how: String) -> SummaryLine {
    SummaryLine(doneLabel, .flag(fromPattern), note: "(\(how))")
  }
}
