import Dispatch
import Patterns
import Synchronization

/// One timed run of a workload body: how long its timed part took, over how many operations.
struct Sample: Sendable {
  var elapsed: Duration
  var operations: Int
  /// Anything else the body measured (updates observed, bytes per token).
  var extra: [(String, Double)] = []

  var nanosecondsPerOperation: Double {
    let (seconds, attoseconds) = elapsed.components
    return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(max(operations, 1))
  }
}

/// Times `body` with the real clock. Benchmarks are the one place that reads it: they measure the
/// machine, not a story.
func timed(operations: Int, _ body: () async throws -> Void) async rethrows -> Sample {
  let clock = ContinuousClock()
  let start = clock.now
  try await body()
  return Sample(elapsed: start.duration(to: clock.now), operations: operations)
}

/// A workload body: given a scale (1 = the full parameters, less for `--quick`), runs and times itself.
typealias WorkloadBody = @Sendable (_ scale: Int) async -> Sample

/// One row of the table: our primitive, and Swift's closest counterpart, doing the same work.
struct Comparison: Sendable {
  var id: String
  var title: String
  /// What we compare with, and why it is the closest thing Swift has.
  var counterpart: String
  /// The counterpart's short name, for the ratio: "withTaskGroup".
  var versus: String
  var target: String
  /// Whether a row meets `target`; `nil` where the target says nothing about that row.
  var meets: @Sendable (BenchResult) -> Bool? = { _ in nil }
  var ours: WorkloadBody
  /// `nil` for measurements with no counterpart (creating a token).
  var theirs: WorkloadBody?
}

/// Where a workload runs.
enum BenchExecutor: String, CaseIterable, Sendable {
  /// The simulation's single-threaded executor, driven on this thread, with virtual time unused and
  /// wait reporting off: both sides pay the same scheduling, none of it cross-thread.
  case oneThread = "one thread"
  /// Swift's default global concurrent executor.
  case defaultExecutor = "default executor"

  func run(_ body: @escaping @Sendable () async -> Sample) -> Sample {
    switch self {
    case .oneThread:
      let result = Simulation.run(reportingWaits: false) { _ in await body() }
      guard case .success(let sample)? = result.value else { fatalError("benchmark body did not finish") }
      return sample
    case .defaultExecutor:
      let box = Mutex<Sample?>(nil)
      // Deliberate: `bench` calls this from its synchronous command on the main thread, which is not
      // one of Swift's cooperative threads; the workload itself runs on the default executor.
      let done = DispatchSemaphore(value: 0)
      Task.detached {
        let sample = await body()
        box.withLock { $0 = sample }
        done.signal()
      }
      done.wait()
      return box.withLock { $0! }
    }
  }
}

/// The figures of one comparison on one executor.
struct BenchResult: Sendable {
  var comparison: String
  var executor: BenchExecutor
  var ours: Summary
  var theirs: Summary?
  /// Median over rounds of ours ÷ theirs in the same round.
  var ratio: Double?
  var extra: [(String, Double)]

  struct Summary: Sendable {
    var median: Double
    var min: Double
    var max: Double

    init(_ values: [Double]) {
      median = Stats.median(values)
      min = values.min() ?? 0
      max = values.max() ?? 0
    }
  }
}

enum Stats {
  static func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
  }
}

/// Runs a comparison: a warm-up of each side at a tenth of the size, then `rounds` rounds alternating
/// ours and theirs (the order flips each round, so neither side always runs on a warmer cache).
/// `progress` hears "warm-up" and then "round 1 of 3"… as each begins.
func measure(
  _ comparison: Comparison, on executor: BenchExecutor, rounds: Int, scale: Int,
  progress: (String) -> Void = { _ in }
) -> BenchResult {
  let ours = comparison.ours
  let theirs = comparison.theirs
  progress("warm-up")
  _ = executor.run { await ours(scale * 10) }
  if let theirs { _ = executor.run { await theirs(scale * 10) } }
  var oursValues: [Double] = []
  var theirsValues: [Double] = []
  var ratios: [Double] = []
  var extra: [(String, [Double])] = []
  for round in 0..<rounds {
    progress("round \(round + 1) of \(rounds)")
    var oursSample: Sample?
    var theirsSample: Sample?
    for side in round % 2 == 0 ? [0, 1] : [1, 0] {
      if side == 0 {
        oursSample = executor.run { await ours(scale) }
      } else if let theirs {
        theirsSample = executor.run { await theirs(scale) }
      }
    }
    let o = oursSample!.nanosecondsPerOperation
    oursValues.append(o)
    if let theirsSample {
      theirsValues.append(theirsSample.nanosecondsPerOperation)
      ratios.append(o / theirsSample.nanosecondsPerOperation)
    }
    // Figures the bodies measured besides time, in order: ours, then the counterpart's ("theirs …").
    let figures = oursSample!.extra + (theirsSample?.extra ?? []).map { ("theirs " + $0.0, $0.1) }
    for (index, (name, value)) in figures.enumerated() {
      if index >= extra.count { extra.append((name, [])) }
      extra[index].1.append(value)
    }
  }
  return BenchResult(
    comparison: comparison.id, executor: executor, ours: .init(oursValues),
    theirs: theirsValues.isEmpty ? nil : .init(theirsValues),
    ratio: ratios.isEmpty ? nil : Stats.median(ratios),
    extra: extra.map { ($0.0, Stats.median($0.1)) })
}

/// The checks behind the targets' words, so each row can say "met" or "missed".
enum Target {
  /// Ours at most `nanoseconds` per operation, on one thread only (where the target says so) or on both.
  static func atMost(_ nanoseconds: Double, oneThreadOnly: Bool = false) -> @Sendable (BenchResult) -> Bool? {
    { result in oneThreadOnly && result.executor != .oneThread ? nil : result.ours.median <= nanoseconds }
  }

  /// Ours at most `limit` times the counterpart.
  static func ratioAtMost(_ limit: Double) -> @Sendable (BenchResult) -> Bool? {
    { result in result.ratio.map { $0 <= limit } }
  }

  /// Every check that applies holds; `nil` when none applies.
  static func all(_ checks: (@Sendable (BenchResult) -> Bool?)...) -> @Sendable (BenchResult) -> Bool? {
    { result in
      let verdicts = checks.compactMap { $0(result) }
      return verdicts.isEmpty ? nil : !verdicts.contains(false)
    }
  }
}
