import Patterns

/// Small pieces the pitfalls share: reading a number off a finished run, and the workers most of
/// them start.
enum PitfallSupport {
  /// When `actor` last recorded an event of `kind`.
  static func last(_ kind: TimelineEvent.Kind, of actor: String, in report: ScenarioReport) -> Duration? {
    report.events.last { $0.actor == actor && $0.kind == kind }?.time
  }

  /// How many events of `kind` the run recorded, whoever recorded them.
  static func count(_ kind: TimelineEvent.Kind, in report: ScenarioReport, detail prefix: String = "") -> Int
  {
    report.events.count { $0.kind == kind && $0.detail.hasPrefix(prefix) }
  }

  /// "hangs at 0.500s" when the run deadlocked, else "at <time of main's last event>".
  static func hangOrReturn(_ report: ScenarioReport, actor: String = "main") -> Measure {
    if !report.deadlocks.isEmpty, let time = report.events.first(where: { $0.actor == "simulation" })?.time {
      return .text("never: hangs at \(formatTimestamp(time))")
    }
    return .text("at " + formatTimestamp(report.events.last { $0.actor == actor }?.time ?? .zero))
  }

  /// The deadlock, in words, if the run had one.
  static func deadlock(_ report: ScenarioReport) -> String? {
    report.deadlocks.first.map { "hangs: \($0.replacingPrefix("deadlock: "))" }
  }

  /// A worker that does units of `unit` until `token` is cancelled, checking it between units.
  /// A cancelled Swift task (an abort) ends it mid-unit: recorded as an abort.
  static func work(
    _ name: String, unit: Duration, until token: CancellationToken, context: ScenarioContext,
    stopping: Duration = .zero
  ) async {
    context.record(name, .start, "starts; each unit takes \(formatDuration(unit))")
    var units = 0
    do {
      while !token.isCancelled {
        try await context.sleep(for: unit)
        units += 1
      }
      context.record(name, .observe, "sees its token cancelled after \(counted(units, "unit")); stops")
      if stopping > .zero { try await context.sleep(for: stopping) }
      context.record(name, .exit, "exits")
    } catch {
      context.record(name, .abort, "aborted in the middle of unit \(units + 1)")
    }
  }
}

extension String {
  fileprivate func replacingPrefix(_ prefix: String) -> String {
    hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self
  }
}

extension ScenarioContext {
  /// `tracker.drain(until: now + duration, clock:)` on the story's clock.
  func drain(_ tracker: ConnectionTracker, within duration: Duration) async -> Int {
    func drain<C: Clock<Duration>>(on clock: C) async -> Int {
      await tracker.drain(until: clock.now.advanced(by: duration), clock: clock)
    }
    return await drain(on: clock)
  }

  /// A call that blocks the thread for `duration` (see `VirtualClock.blockThread(for:)`).
  func blockThread(for duration: Duration) {
    (clock as? VirtualClock)?.blockThread(for: duration)
  }
}

/// The first of two operations to finish wins; the other is cancelled (it must be cancellable).
func first<T: Sendable>(
  _ a: @escaping @Sendable () async -> T, _ b: @escaping @Sendable () async -> T
) async -> T {
  await withTaskGroup(of: T.self) { group in
    group.addTask(operation: a)
    group.addTask(operation: b)
    let winner = await group.next()!
    group.cancelAll()
    return winner
  }
}
