/// What `compare` prints, whatever the format: one measured row per pattern, the qualitative
/// table whose every cell quotes a fact of those rows, and the verdict. Built outside Rendering
/// from the finished runs; the renderers only lay it out.
struct ComparisonTable: Sendable, Hashable {
  /// "compare · slow-consumer".
  var title: String
  /// The `--scenario` value.
  var scenario: String
  /// The workload in one sentence.
  var headline: String
  /// The knobs that shape this workload, as typed.
  var knobs: [Setting]
  var seed: UInt64
  /// One per pattern, in table order.
  var rows: [Row]
  /// Propagation, semantics, …: one cell per row, in row order.
  var aspects: [Aspect]
  /// Which to use for what, in sentences.
  var verdict: [String]
  /// ns and bytes measured in this process (`--with-costs`); real time, so never snapshotted.
  var costs: [Cost]
  /// Why a row's run failed; empty for healthy runs.
  var failures: [String]

  struct Setting: Sendable, Hashable {
    var name: String
    var value: String
  }

  /// One pattern's run, measured.
  struct Row: Sendable, Hashable {
    /// "broadcast".
    var pattern: String
    /// "a shutdown message".
    var stopsBy: String
    /// Tasks that noticed the stop themselves, of `participants`.
    var notified: Int
    var participants: Int
    /// The first and the last notice, measured from the signal; `nil` when nobody noticed.
    var firstNotice: Duration?
    var lastNotice: Duration?
    /// `nil` where the pattern carries no jobs.
    var jobsLost: Int?
    var valuesSkipped: Int?
    var producerBlocked: Duration?
    /// Cut off at the grace deadline, in the order they were aborted.
    var aborted: [String]
    /// Whether main learned "everyone is done" from the pattern itself, and how.
    var doneFromPattern: Bool
    var doneHow: String
    /// From the signal to the last event.
    var timeToQuiet: Duration?
  }

  struct Aspect: Sendable, Hashable {
    /// "propagation".
    var name: String
    /// In row order.
    var cells: [String]
  }

  /// Real-time cost of one pattern's notification, measured in this process.
  struct Cost: Sendable, Hashable {
    var pattern: String
    /// What was timed: "send(.shutdown) to 10,000 waiting receivers".
    var workload: String
    /// How many tasks waited for that stop.
    var waitingTasks: Int
    var nanosecondsPerNotifiedTask: Double
    var bytesPerWaitingTask: Double
  }
}
