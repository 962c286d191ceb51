import Patterns
import Synchronization

/// What a running story gets: the clock, the timeline to write, the knobs, and where its shutdown
/// signal comes from. Nothing here says whether time is virtual or real, or the signal scripted or
/// sent by a person.
struct ScenarioContext: Sendable {
  var clock: any Clock<Duration>
  var timeline: Timeline
  var knobs: Knobs
  /// Delivers the shutdown signal: at a scripted time, or when a real one arrives.
  var trigger: any StorySignal
  /// Whether the clock is real: then a measured time has nanoseconds nobody wants to read.
  var realTime = false
  /// What the story tells its summary beyond the timeline.
  var notes = StoryNotes()

  /// A time the story measured (how long a step took), in words: exact in a scripted run, to the
  /// millisecond in a live one, as the timeline's own stamps are.
  func measured(_ duration: Duration) -> String {
    guard realTime else { return formatDuration(duration) }
    let (seconds, attoseconds) = duration.components
    return formatDuration(.seconds(seconds) + .milliseconds(attoseconds / 1_000_000_000_000_000))
  }

  /// Waits `duration` on the story's clock; throws `CancellationError` if the task is cancelled.
  func sleep(for duration: Duration) async throws { try await clock.sleep(for: duration) }

  /// Records a step; shorthand for `timeline.record`.
  func record(_ actor: String, _ kind: TimelineEvent.Kind, _ detail: String, count: Int? = nil) {
    timeline.record(actor, kind, detail, count: count)
  }

  /// Waits for the shutdown signal and records its arrival. Every story learns "SIGTERM arrives"
  /// here and nowhere else, so a live run can hand it a real signal instead of a scripted one.
  func waitForShutdownSignal() async {
    let signal = await trigger.arrival(on: self)
    record("signal", .signal, signal)
  }

  /// Sleeps `duration`, unless the shutdown signal comes first: then returns `true`, the signal
  /// recorded. For a producer that works until the signal ("a job every 100ms until SIGTERM").
  func sleepUnlessShutdownSignal(for duration: Duration) async -> Bool {
    guard let signal = await trigger.sleep(for: duration, orArrival: self) else { return false }
    record("signal", .signal, signal)
    return true
  }

  /// Waits until `delay` after the shutdown signal, without recording it: for a task that starts
  /// late, after the shutdown has begun.
  func waitForStartAfterSignal(_ delay: Duration) async {
    await trigger.arrival(plus: delay, on: self)
  }

  /// Why a task was cut off from outside, as its abort line says it: "at the grace deadline", or
  /// in a live run stopped early by a repeated signal, "by the 2nd SIGINT".
  var cutOff: String { trigger.escalation.map { "by \($0)" } ?? "at the grace deadline" }

  /// Main's last line: what it did, then the exit status its process would end with by the
  /// shutdown contract: 0 when everything stopped on its own terms, 1 when a task had to be
  /// cancelled from outside (aborted) or a step failed.
  func mainExits(_ what: String, failedStep: Bool = false) {
    var aborted: [String] = []
    for event in timeline.events where event.kind == .abort && !aborted.contains(event.actor) {
      aborted.append(event.actor)
    }
    let cut = aborted.isEmpty ? "" : ", but \(listed(aborted)) had to be aborted"
    record("main", .exit, "\(what)\(cut); exit \(aborted.isEmpty && !failedStep ? 0 : 1)")
  }
}

/// Where a story's shutdown signal comes from: a script in virtual time, or (in a live run) a real
/// signal. Named apart from the library's `ShutdownTrigger`, which says what started a shutdown.
protocol StorySignal: Sendable {
  /// Waits until the signal arrives and returns its name ("SIGTERM"). Returns at once if it already did.
  func arrival(on context: ScenarioContext) async -> String
  /// Sleeps `duration` on the context's clock, or until the signal arrives if that is sooner:
  /// returns the signal's name if it arrived, `nil` if the whole duration passed first.
  func sleep(for duration: Duration, orArrival context: ScenarioContext) async -> String?
  /// Waits until `delay` after the signal's arrival.
  func arrival(plus delay: Duration, on context: ScenarioContext) async
  /// Every signal of the run, in order, as the library's `GracefulShutdown` takes them: a story
  /// that hands its shutdown to the coordinator (the service flow) reads this instead of waiting
  /// for "the" signal. Call it once per run.
  func signals(on context: ScenarioContext) -> MPSC<ShutdownSignal>.Receiver
  /// The repeated signal that stopped the run's waiting ("the 2nd SIGINT"), once one has: a live
  /// run's escalation ladder. `nil` otherwise, and always in a scripted run, whose pattern stories
  /// have no ladder.
  var escalation: String? { get }
}

/// The scripted signals: a SIGTERM (or a list of signals) at fixed offsets from the start of the
/// timeline.
struct ScriptedSignal: StorySignal {
  /// In time order.
  var script: [ScriptedSignals.Delivery]

  /// One `signal` at `at`.
  init(at: Duration, _ signal: ShutdownSignal = .terminate) { script = [.init(at: at, signal)] }

  init(script: [ScriptedSignals.Delivery]) { self.script = script }

  /// The first shutdown signal of the script (not a SIGHUP): the one pattern stories wait for.
  private var first: ScriptedSignals.Delivery {
    script.first { $0.signal != .hangup } ?? .init(at: .seconds(1), .terminate)
  }

  var at: Duration { first.at }

  var escalation: String? { nil }

  func arrival(on context: ScenarioContext) async -> String {
    let wait = at - context.timeline.now
    if wait >= .zero { try? await context.sleep(for: wait) }
    return first.signal.name
  }

  func sleep(for duration: Duration, orArrival context: ScenarioContext) async -> String? {
    // Decided from the script, not by racing two timers: which of two timers due at the same
    // instant fires first is up to the seed, and the story must not depend on it.
    guard context.timeline.now + duration >= at else {
      try? await context.sleep(for: duration)
      return nil
    }
    return await arrival(on: context)
  }

  func arrival(plus delay: Duration, on context: ScenarioContext) async {
    // One sleep to the moment, as a script would write it.
    let wait = at + delay - context.timeline.now
    if wait >= .zero { try? await context.sleep(for: wait) }
  }

  func signals(on context: ScenarioContext) -> MPSC<ShutdownSignal>.Receiver {
    // The script counts from the start of the timeline; the source counts from now.
    let now = context.timeline.now
    let rest = script.filter { $0.at >= now }.map { ScriptedSignals.Delivery(at: $0.at - now, $0.signal) }
    return ScriptedSignals.start(rest, clock: context.clock).signals
  }
}

/// What a running story tells its summary beyond the timeline: written by the story's tasks, read
/// once the run is over.
final class StoryNotes: Sendable {
  private let cutter = Mutex<String?>(nil)

  /// Who aborted the unfinished work, when it was not the grace deadline ("the 2nd SIGINT").
  var abortedBy: String? { cutter.withLock { $0 } }

  func workCut(by who: String) { cutter.withLock { $0 = who } }
}
