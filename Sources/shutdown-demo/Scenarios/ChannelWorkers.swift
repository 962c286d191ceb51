import Patterns
import Synchronization

/// What the broadcast and watch stories share: workers that do jobs and look for the shutdown
/// between jobs, and main's bounded wait for them after the signal.
enum ChannelWorkers {
  enum Outcome: Sendable {
    case stopped, aborted, graceExpired
  }

  static let cleanupTime: Duration = .milliseconds(100)

  static func names(_ count: Int) -> [String] { (0..<max(count, 0)).map { "worker-\($0 + 1)" } }

  /// Each worker has its own pace, so they notice the shutdown at different times.
  static func jobLength(forWorker index: Int) -> Duration {
    let paces = [300, 450, 700, 550, 850, 400, 650, 950]
    return .milliseconds(paces[index % paces.count] + 10 * (index / paces.count))
  }

  /// Does jobs of `job` each until `check` reports the shutdown (its text says what the worker saw).
  /// It looks only between jobs: a job in hand is always finished, unless the task is cancelled.
  static func runJobs(
    _ name: String, job: Duration, context: ScenarioContext, check: @Sendable () -> String?
  ) async -> Outcome {
    context.record(name, .start, "starts; each job takes \(formatDuration(job))")
    var jobs = 0
    do {
      while true {
        try await context.sleep(for: job)
        jobs += 1
        context.record(name, .work, "finished job \(jobs)")
        if let seen = check() {
          context.record(name, .observe, seen)
          break
        }
      }
      try await context.sleep(for: cleanupTime)
      context.record(name, .exit, "exits after \(jobs) job(s)")
      return .stopped
    } catch {
      // Only the Swift task's cancellation makes the clock throw: main gave up waiting.
      context.record(name, .abort, "task cancelled at the grace deadline, in the middle of job \(jobs + 1)")
      return .aborted
    }
  }

  /// Main's side after the signal: wait for `running` workers in `group`, but at most `grace`;
  /// then cancel whoever is left.
  static func awaitWorkers(
    _ group: inout TaskGroup<Outcome>, running: Int, grace: Duration, context: ScenarioContext
  ) async {
    group.addTask(name: "grace-timer") {
      try? await context.sleep(for: grace)
      return .graceExpired
    }
    var running = running
    while let outcome = await group.next() {
      switch outcome {
      case .stopped, .aborted:
        running -= 1
        if running == 0 { group.cancelAll() }  // everyone is out: stop the grace timer
      case .graceExpired where running > 0:
        context.record(
          "main", .deadline,
          "grace period of \(formatDuration(grace)) is over; cancelling \(running) task(s)")
        group.cancelAll()
      case .graceExpired:
        break
      }
    }
  }
}

/// Counts per worker, filled in by the workers' tasks and read by main once they are done.
final class Tally: Sendable {
  private let counts: Mutex<[Int]>

  init(_ size: Int) { counts = Mutex(Array(repeating: 0, count: size)) }

  func set(_ index: Int, _ value: Int) { counts.withLock { $0[index] = value } }
  var values: [Int] { counts.withLock { $0 } }
}
