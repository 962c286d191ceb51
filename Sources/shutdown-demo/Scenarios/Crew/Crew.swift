import Patterns
import Synchronization

/// The workers every story shares: their names and paces, how one does its work and notices the
/// shutdown, and how main supervises them under a grace period.
///
/// Each pattern differs only in *how* a worker learns of the shutdown (a message, a state, a
/// token); that is the `look` a story hands to ``work(_:unit:noun:context:look:)``. Everything else a
/// learner has already read once, here.
enum Crew {
  /// "worker-1" … "worker-n".
  static func names(_ count: Int, prefix: String = "worker") -> [String] {
    (1...max(count, 1)).map { "\(prefix)-\($0)" }
  }

  /// Each worker has its own pace, so they notice the shutdown at different times.
  static func pace(ofWorker index: Int) -> Duration {
    let paces = [300, 450, 700, 550, 850, 400, 650, 950]
    return .milliseconds(paces[index % paces.count] + 10 * (index / paces.count))
  }

  /// How long a worker takes to clean up once it has noticed the shutdown.
  static let cleanupTime: Duration = .milliseconds(100)
  /// The straggler's job in the timeout stories: longer than any default grace period.
  static let longJob: Duration = .seconds(4)
  /// How long after the signal the late worker of the late-subscriber stories starts.
  static let lateBy: Duration = .milliseconds(500)

  /// How a worker's task ended.
  enum Outcome: Sendable {
    /// It noticed the shutdown, cleaned up and returned.
    case stopped
    /// Its Swift task was cancelled from outside before it finished.
    case aborted
  }

  /// One worker to start: its name and its body.
  struct Member: Sendable {
    var name: String
    var run: @Sendable () async -> Outcome
  }

  /// Works in units of `unit` until `look` reports the shutdown (its text says what the worker saw),
  /// then cleans up and exits. It looks only between units, before each one: a unit in hand is
  /// always finished, unless its Swift task is cancelled. That is what "cooperative" means, and
  /// why a long unit delays the shutdown.
  static func work(
    _ name: String, unit: Duration, noun: String = "job", context: ScenarioContext,
    look: @Sendable () -> String?
  ) async -> Outcome {
    context.record(name, .start, "starts; each \(noun) takes \(formatDuration(unit))")
    var done = 0
    do {
      while true {
        if let seen = look() {
          context.record(name, .observe, seen)
          break
        }
        try await context.sleep(for: unit)
        done += 1
        context.record(name, .work, "finished \(noun) \(done)")
      }
      try await context.sleep(for: cleanupTime)
      context.record(name, .exit, "exits after \(counted(done, noun))")
      return .stopped
    } catch {
      // Only the Swift task's cancellation makes the clock throw: main gave up waiting.
      context.record(
        name, .abort, "task cancelled \(context.cutOff), in the middle of \(noun) \(done + 1)")
      return .aborted
    }
  }

  /// Main's side of every "tell them, then wait" story: starts `members` in a task group, waits for
  /// the shutdown signal, calls `notify` (which tells them: a cancel, a message, a state), then
  /// waits for them, but only for the grace period: whoever is still running then has its Swift
  /// task cancelled, by name.
  static func supervise(
    _ members: [Member], context: ScenarioContext, notify: @Sendable () -> Void
  ) async {
    let grace = context.knobs.grace
    await withTaskGroup(of: Event.self) { group in
      for member in members {
        group.addTask(name: member.name) {
          _ = await member.run()
          return .finished(member.name)
        }
      }
      await context.waitForShutdownSignal()
      notify()

      group.addTask(name: "grace-timer") {
        try? await context.sleep(for: grace)
        return .graceOver
      }
      var running = members.map(\.name)
      while let event = await group.next() {
        switch event {
        case .finished(let name):
          running.removeAll { $0 == name }
          if running.isEmpty { group.cancelAll() }  // everyone is out: stop the grace timer
        case .graceOver where !running.isEmpty:
          // The timer also ends at once when main's own task is cancelled (a live run's 2nd
          // signal): then the grace period is not over, main was told to stop waiting.
          let why =
            context.trigger.escalation.map { "\($0) ends the wait" }
            ?? "grace period of \(formatDuration(grace)) is over"
          context.record("main", .deadline, "\(why); cancels the Swift task of \(listed(running))")
          group.cancelAll()
        case .graceOver:
          break
        }
      }
    }
  }

  /// The script the teaching trio (basic, timeout, late-subscriber) shares across patterns: main
  /// starts `--workers` workers (all but the last when a `late` one is given), each with the look
  /// `lookFor` makes for it (a receiver subscribed now, a token), and supervises them.
  /// `job` picks each worker's pace; `channel` names what main created, for its first line.
  static func startAndSupervise(
    _ channel: String, context: ScenarioContext, job: @escaping @Sendable (Int) -> Duration = pace(ofWorker:),
    late: Member? = nil, lookFor: (Int) -> @Sendable () -> String?, notify: @escaping @Sendable () -> Void
  ) async {
    let names = names(context.knobs.workers)
    let now = late == nil ? names : Array(names.dropLast())
    context.record(
      "main", .start,
      now.isEmpty
        ? "creates \(channel); no worker starts yet"
        : "creates \(channel); starts \(counted(now.count, "worker"))\(late == nil ? "" : " now")\(eachWith(now.count)) subscribe()"
    )
    var members = now.enumerated().map { index, name in
      let look = lookFor(index)
      return Member(name: name) { await work(name, unit: job(index), context: context, look: look) }
    }
    if let late { members.append(late) }
    await supervise(members, context: context, notify: notify)
  }

  private enum Event: Sendable {
    case finished(String)
    case graceOver
  }

  /// The token check of a worker that holds a cancellation token.
  static func tokenLook(_ token: CancellationToken) -> @Sendable () -> String? {
    { token.isCancelled ? "sees its token cancelled: takes no new unit, cleans up" : nil }
  }
}

/// Counts per worker, filled in by the workers' tasks and read by main once they are done.
final class Tally: Sendable {
  private let counts: Mutex<[Int]>

  init(_ size: Int) { counts = Mutex(Array(repeating: 0, count: size)) }

  func set(_ index: Int, _ value: Int) { counts.withLock { $0[index] = value } }
  var values: [Int] { counts.withLock { $0 } }
}

/// A list of values appended from any task (single-threaded in a simulation; locked for the type system).
final class Collected<Value: Sendable>: Sendable {
  private let storage = Mutex<[Value]>([])
  init() {}
  func append(_ value: Value) { storage.withLock { $0.append(value) } }
  func remove(where matches: (Value) -> Bool) { storage.withLock { $0.removeAll(where: matches) } }
  var values: [Value] { storage.withLock { $0 } }
}
