import Foundation
import Patterns

/// The shutdown report of `serve`: the coordinator's events, one line each on stderr, with the time
/// since the first signal (`shutdown +0.208s …`).
///
/// The coordinator decides and reports; this only words its events for the person watching, with
/// what the server adds to them (how many idle connections the listener step closed, how many
/// responses carried `Connection: close`, how many connections were cut). Events that say nothing
/// new to that person (the token, the phase changes the lines already state) are left out.
final class ServeShutdownLog: Sendable {
  /// What the server learned at the stop-accepting step and at its stop, for the lines to quote.
  struct ServerFacts: Sendable {
    var idleClosed = 0
    var counters: ServerCounters?
    /// What the persistence hook handed the store.
    var saved: PersistedServerState?
  }

  private struct State {
    var trigger: ShutdownSignal?
    var start: ContinuousClock.Instant?
    var notClean: [String] = []
    var escalatedBy: ShutdownSignal?
  }

  let drainDelay: Duration
  let grace: Duration
  let statePath: String?
  let facts = Shared(ServerFacts())
  private let state = Lock(State())
  private let write: @Sendable (String) -> Void

  /// - Parameter write: prints one line (no newline).
  init(drainDelay: Duration, grace: Duration, statePath: String?, write: @escaping @Sendable (String) -> Void)
  {
    self.drainDelay = drainDelay
    self.grace = grace
    self.statePath = statePath
    self.write = write
  }

  /// The coordinator's observer.
  func record(_ event: ShutdownEvent) {
    for line in lines(for: event.kind) { write("\(stamp(event.time)) \(line)") }
  }

  /// The line for the 3rd signal, written from `onForcedExit` just before the process exits (the
  /// coordinator's own event for it would come too late to be printed).
  func forcedExit(code: Int32) {
    let signal = ShutdownSignal(number: code - 128)
    write("\(stamp(nil)) \(signal) again (third): exiting now with \(code)")
  }

  private func lines(for kind: ShutdownEvent.Kind) -> [String] {
    switch kind {
    case .shutdownStarted(let trigger):
      state.withLock { state in
        if case .signal(let signal) = trigger { state.trigger = signal }
        state.start = .now
      }
      return []
    case .phaseChanged(.draining):
      let name = state.withLock { $0.trigger }.map(\.name) ?? "shutdown"
      let accepting =
        drainDelay > .zero
        ? "accepting for \(formatDuration(drainDelay)) more (--drain-delay)" : "the listener closes now"
      return [
        "\(name) received: draining, /ready answers 503; \(accepting), then in-flight requests get "
          + "\(formatDuration(grace)) (--grace)"
      ]
    case .listenerClosed(let inFlight):
      let idle = facts.value.idleClosed
      return [
        "listener closed: new connections are refused; \(idle) idle \(plural(idle, "connection")) closed, "
          + "\(inFlight) still open"
      ]
    case .connectionsDrained:
      return ["drained: every connection finished"]
    case .waitEnded(.deadline):
      note("the grace period ended")
      return ["grace period (\(formatDuration(grace))) over: aborting what is left"]
    case .connectionsLeft(let count):
      note("\(count) \(plural(count, "connection")) left open")
      return []
    case .escalated(let signal?):
      state.withLock { $0.escalatedBy = signal }
      return ["\(signal) again (second): no more waiting; aborting what is left (a third exits at once)"]
    case .cleanupStep(let result):
      return cleanupLines(result)
    case .persisted(let result):
      return [persistLine(result)]
    case .exitCode(let code):
      return [exitLine(code)]
    case .signalReceived, .reloadRequested, .signalIgnored, .phaseChanged, .tokenCancelled, .waiting,
      .taskFinished, .waitEnded, .taskAborted, .escalated, .forcedExit:
      return []
    }
  }

  private func cleanupLines(_ result: CleanupResult) -> [String] {
    var lines: [String] = []
    if result.outcome.isDone, let counters = facts.value.counters {
      let answered = counters.closedAfterResponseAtShutdown
      if answered > 0 {
        lines.append("answered \(answered) in-flight \(plural(answered, "request")) with Connection: close")
      }
      let aborted = counters.abortedAtDeadline
      if counters.closedAtStop > 0 {
        lines.append(
          "aborted: \(counters.closedAtStop) \(plural(counters.closedAtStop, "connection")) closed, "
            + "\(aborted) with a request unanswered")
      }
      if aborted > 0 { note("\(aborted) aborted") }
    } else {
      note("\(result.name): \(result.outcome)")
    }
    lines.append("cleanup: \(result)")
    return lines
  }

  private func persistLine(_ result: PersistResult) -> String {
    guard let statePath else { return "state: \(result.outcome)" }
    guard result.outcome.isDone else {
      note("saving the state failed")
      return "saving the state to \(statePath) failed: \(result.outcome)"
    }
    let totals = facts.value.saved.map {
      ": \($0.starts) \(plural($0.starts, "start")), \($0.requests) requests in all"
    }
    return "state saved to \(statePath)\(totals ?? "") (marked \(result.clean ? "clean" : "unclean"))"
  }

  private func exitLine(_ code: Int32) -> String {
    let (notClean, escalatedBy) = state.withLock { ($0.notClean, $0.escalatedBy) }
    switch code {
    case 0: return "exit 0: clean"
    case 1: return "exit 1: not clean (\(notClean.isEmpty ? "see above" : notClean.joined(separator: "; ")))"
    default:
      let by = escalatedBy.map { "a second \($0)" } ?? "a signal"
      return "exit \(code): forced by \(by)"
    }
  }

  private func note(_ reason: String) { state.withLock { $0.notClean.append(reason) } }

  /// "shutdown +0.208s": the coordinator's time when it gives one, else the time since the start.
  private func stamp(_ time: Duration?) -> String {
    let elapsed = time ?? state.withLock { $0.start }.map { ContinuousClock.now - $0 } ?? .zero
    let (seconds, attoseconds) = elapsed.components
    return String(format: "shutdown +%.3fs", Double(seconds) + Double(attoseconds) / 1e18)
  }
}

private func plural(_ count: Int, _ word: String) -> String { count == 1 ? word : word + "s" }
