import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What the shutdown sequence asks of a server. Each call returns at once; its outcome comes back
/// through the callbacks, in order, from the server's own thread.
protocol DrainableServer: Sendable {
  /// Readiness answers 503 from now on; everything else still works.
  func markNotReady()
  /// Stop accepting (queued connections are accepted first), close idle connections, and answer
  /// what is in flight with `Connection: close`. `closed` reports (idle connections closed,
  /// connections still open); `drained` runs when the last one has closed (not at all if `closed`
  /// reported none open).
  func stopAccepting(closed: @escaping @Sendable (Int, Int) -> Void, drained: @escaping @Sendable () -> Void)
  /// Close every connection left; `done` gets how many had a request unanswered.
  func abortRemaining(done: @escaping @Sendable (Int) -> Void)
  /// Stop serving; `stopped` gets the counters of this run.
  func stop(stopped: @escaping @Sendable (ServerCounters) -> Void)
}

/// Everything the shutdown sequence reacts to, in one stream.
enum ShutdownEvent: Sendable {
  case signal(Int32)
  case drainDelayElapsed
  case graceExpired
  case listenerClosed(idleClosed: Int, inFlight: Int)
  case drained
  case aborted(Int)
  case stopped(ServerCounters)
}

/// Catches SIGINT and SIGTERM with `DispatchSource` signal sources on a private serial queue. The
/// handler only notifies (it posts `.signal(n)` and returns); the shutdown sequence does the work.
///
/// Sharp edge: on Linux, libdispatch arms a signal source asynchronously, on its manager thread.
/// A signal sent right after `resume()` is lost (measured: 29 of 30 tries), because the disposition
/// is still `SIG_IGN`. So `init` waits, briefly and bounded, until the kernel shows libdispatch's
/// handler in place of `SIG_IGN`; only then may the server say it listens.
final class SignalNotifier: @unchecked Sendable {  // the sources are only resumed and cancelled
  private let sources: [any DispatchSourceSignal]

  init(signals: [Int32], notify: @escaping @Sendable (Int32) -> Void) {
    let queue = DispatchQueue(label: "shutdown-demo.signals")
    sources = signals.map { number in
      // The default action would kill the process before the source sees the signal.
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
      source.setEventHandler { notify(number) }
      source.resume()
      return source
    }
    #if os(Linux)
      for number in signals {
        // Deliberate and bounded (2 s at most): runs once, on the main thread at start-up, before any
        // task; libdispatch installs its handler a moment after resume(), and a signal sent before
        // that would be lost, so `listening on` waits until the kernel shows the new handler.
        for _ in 0..<20_000 where dispositionIsIgnore(number) { usleep(100) }
      }
    #endif
  }

  /// Stops catching; the signals stay ignored.
  func cancel() {
    for source in sources { source.cancel() }
  }
}

private func dispositionIsIgnore(_ number: Int32) -> Bool {
  var current = sigaction()
  sigaction(number, nil, &current)
  #if os(Linux)
    return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1  // SIG_IGN
  #else
    return unsafeBitCast(current.__sigaction_u.__sa_handler, to: Int.self) == 1
  #endif
}

/// The name of a signal, as the report prints it.
func signalName(_ number: Int32) -> String {
  switch number {
  case SIGINT: "SIGINT"
  case SIGTERM: "SIGTERM"
  case SIGKILL: "SIGKILL"
  case SIGHUP: "SIGHUP"
  default: "signal \(number)"
  }
}

/// How the shutdown ended, which decides the exit code.
enum ShutdownOutcome: Equatable, Sendable {
  /// Every connection finished on its own: exit 0.
  case clean
  /// The grace period ended with requests unanswered, or saving the state failed: exit 1.
  case notClean(String)
  /// A second signal cut the drain short: exit 128 + its number (130 for SIGINT, 143 for SIGTERM).
  case forced(Int32)

  var exitCode: Int32 {
    switch self {
    case .clean: 0
    case .notClean: 1
    case .forced(let number): 128 + number
    }
  }
}

/// The shutdown sequence of `serve`, as a small state machine over `ShutdownEvent`s:
///
/// 1. first signal: readiness 503 at once; keep accepting for the drain delay; the grace period
///    (counted from the signal, as Kubernetes counts terminationGracePeriodSeconds) starts;
/// 2. drain delay over: the listener closes, idle connections close, in-flight requests finish and
///    their responses carry `Connection: close`;
/// 3. drained (every connection closed) → stop; or grace over / second signal → abort the rest,
///    counted, then stop;
/// 4. stopped: persist the counters (`persist`), report, return the exit code.
///
/// A third signal exits at once with 128 + its number. Each step is logged on one line with its time
/// since the first signal.
///
/// This type is the seam to a shared coordinator: it needs only a `DrainableServer`, a stream of
/// events, and `persist`. Replacing it means driving the same four `DrainableServer` calls from
/// that coordinator's phases.
struct ServerShutdown: Sendable {
  var grace: Duration
  var drainDelay: Duration
  /// One line of the report (no newline).
  var log: @Sendable (String) -> Void
  /// Saves the counters; returns a line for the report, or throws.
  var persist: @Sendable (ServerCounters, ShutdownOutcome) throws -> String?

  private enum Phase {
    case running, notReady, draining, aborting, stopping
  }

  /// Runs until the server has stopped and returns the exit code. `events` must carry everything
  /// `post` sends, and the signals.
  func run(
    server: some DrainableServer, events: AsyncStream<ShutdownEvent>,
    post: @escaping @Sendable (ShutdownEvent) -> Void
  ) async -> Int32 {
    let clock = ContinuousClock()
    var start = clock.now
    var phase = Phase.running
    var signals = 0
    var outcome = ShutdownOutcome.clean
    var timers: [Task<Void, Never>] = []
    defer { for timer in timers { timer.cancel() } }
    func stamp() -> String {
      let elapsed = clock.now - start
      let (seconds, attoseconds) = elapsed.components
      return String(format: "shutdown +%.3fs", Double(seconds) + Double(attoseconds) / 1e18)
    }
    func after(_ delay: Duration, _ event: ShutdownEvent) -> Task<Void, Never> {
      Task {
        // The timer must fire even if nothing else happens; a cancelled timer posts nothing.
        guard (try? await Task.sleep(for: delay)) != nil else { return }
        post(event)
      }
    }
    func abort(_ reason: String) {
      phase = .aborting
      log("\(stamp()) \(reason)")
      server.abortRemaining { post(.aborted($0)) }
    }

    for await event in events {
      switch (event, phase) {
      case (.signal(let number), .running):
        signals = 1
        start = clock.now
        phase = .notReady
        server.markNotReady()
        log(
          "\(stamp()) \(signalName(number)) received: /ready answers 503; accepting for \(formatDuration(drainDelay)) "
            + "more (--drain-delay), grace \(formatDuration(grace))")
        timers.append(after(drainDelay, .drainDelayElapsed))
        timers.append(after(grace, .graceExpired))

      case (.signal(let number), _):
        signals += 1
        if signals >= 3 {
          log("\(stamp()) \(signalName(number)) again (third): exiting now with \(128 + number)")
          exit(128 + number)
        }
        guard phase == .notReady || phase == .draining else { continue }
        outcome = .forced(number)
        abort(
          "\(signalName(number)) again (second): no more waiting; aborting what is left "
            + "(a third exits at once)")

      case (.drainDelayElapsed, .notReady):
        phase = .draining
        server.stopAccepting(
          closed: { post(.listenerClosed(idleClosed: $0, inFlight: $1)) }, drained: { post(.drained) })

      case (.listenerClosed(let idle, let inFlight), .draining):
        log(
          "\(stamp()) listener closed: new connections are refused; \(idle) idle connection\(idle == 1 ? "" : "s") "
            + "closed, \(inFlight) still open")
        if inFlight == 0 { post(.drained) }

      case (.drained, .draining):
        log("\(stamp()) drained: every connection finished")
        phase = .stopping
        server.stop { post(.stopped($0)) }

      case (.graceExpired, .notReady), (.graceExpired, .draining):
        outcome = .notClean("the grace period ended")
        abort("grace period (\(formatDuration(grace))) over: aborting what is left")

      case (.aborted(let count), .aborting):
        log("\(stamp()) aborted: \(count) connection\(count == 1 ? "" : "s") cut with a request unanswered")
        if case .notClean = outcome {
          outcome = .notClean("\(count) aborted at the end of the grace period")
        }
        phase = .stopping
        server.stop { post(.stopped($0)) }

      case (.stopped(let counters), .stopping):
        if counters.closedAfterResponseAtShutdown > 0 {
          log(
            "\(stamp()) answered \(counters.closedAfterResponseAtShutdown) in-flight request"
              + "\(counters.closedAfterResponseAtShutdown == 1 ? "" : "s") with Connection: close")
        }
        do {
          if let line = try persist(counters, outcome) { log("\(stamp()) \(line)") }
        } catch {
          log("\(stamp()) saving the state failed: \(error)")
          if case .clean = outcome { outcome = .notClean("saving the state failed") }
        }
        switch outcome {
        case .clean: log("\(stamp()) exit 0: clean")
        case .notClean(let why): log("\(stamp()) exit 1: not clean (\(why))")
        case .forced(let number):
          log("\(stamp()) exit \(128 + number): forced by a second \(signalName(number))")
        }
        return outcome.exitCode

      default:
        continue  // an event that no longer matters (a timer after the drain, a late drained)
      }
    }
    return outcome.exitCode
  }
}
