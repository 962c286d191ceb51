// The vocabulary of ``GracefulShutdown``: its configuration, its phases, the events it reports as
// it goes, and the report it returns.

/// Where a service is in its life, as readiness reports it.
///
/// ``GracefulShutdown`` publishes it on a `Watch`: a readiness endpoint answers 200 while
/// ``running`` and 503 from ``draining`` on, which is how a load balancer that probes the service
/// learns to stop sending before the listener closes.
public enum ShutdownPhase: Int, Sendable, Hashable, Comparable, CustomStringConvertible {
  /// Serving. The only phase in which readiness says "ready".
  case running
  /// A shutdown began: tasks are told to stop, the listener closes (after the drain delay), and
  /// in-flight work is waited for, up to the grace deadline.
  case draining
  /// The cleanup stack runs (resources close, last opened first).
  case cleaningUp
  /// The persistence hooks run and their snapshots are saved.
  case persisting
  /// Done; the process may exit with the report's exit code.
  case stopped

  public static func < (lhs: ShutdownPhase, rhs: ShutdownPhase) -> Bool { lhs.rawValue < rhs.rawValue }

  /// "running", "draining", "cleaning up", "persisting", "stopped".
  public var description: String {
    switch self {
    case .running: "running"
    case .draining: "draining"
    case .cleaningUp: "cleaning up"
    case .persisting: "persisting"
    case .stopped: "stopped"
    }
  }
}

/// The exit codes a shutdown ends with.
///
/// The contract: ``clean`` (0) when everything finished in time and every step succeeded;
/// ``unclean`` (1) when the shutdown completed but not cleanly (work aborted at the deadline, a
/// cleanup step failed or timed out, a snapshot was not saved); `forcedBase + n` (130 for SIGINT,
/// 143 for SIGTERM) when a repeated signal `n` forced it, the shell's code for "killed by signal n".
public struct ExitCodePolicy: Sendable, Hashable {
  /// Everything finished in time and every step succeeded. 0 by default.
  public var clean: Int32
  /// Completed, but something was aborted, failed, timed out or skipped. 1 by default.
  public var unclean: Int32
  /// Added to the number of the signal that forced the shutdown. 128 by default.
  public var forcedBase: Int32

  /// A policy; the defaults are the conventional 0, 1 and 128 + n.
  public init(clean: Int32 = 0, unclean: Int32 = 1, forcedBase: Int32 = 128) {
    self.clean = clean
    self.unclean = unclean
    self.forcedBase = forcedBase
  }

  /// The code for a shutdown forced by `signal`.
  public func forced(by signal: ShutdownSignal) -> Int32 { forcedBase + signal.number }
}

/// How ``GracefulShutdown`` behaves.
public struct ShutdownConfiguration: Sendable, Hashable {
  /// How long in-flight tasks and connections may take to finish, counted from the moment the
  /// listener closes. At the deadline, what is left is aborted.
  public var grace: Duration
  /// How long to keep accepting after the first signal while readiness already says "draining":
  /// the in-app equivalent of a Kubernetes preStop sleep, riding out the time load balancers take to
  /// stop routing here. Zero closes the listener at once.
  public var drainDelay: Duration
  /// The time the cleanup steps share (each also has its own timeout).
  public var cleanupBudget: Duration
  /// The time the persistence hooks share (each also has its own timeout).
  public var persistenceBudget: Duration
  /// Signals that ask for a shutdown; repeats of any of them climb the escalation ladder.
  public var shutdownSignals: Set<ShutdownSignal>
  /// Signals that ask for a reload (handled by ``GracefulShutdown/onReload(_:)``), not a shutdown.
  public var reloadSignals: Set<ShutdownSignal>
  /// The exit codes.
  public var exitCodes: ExitCodePolicy

  /// A configuration. The defaults: 30 s grace (Kubernetes' default termination grace), no drain
  /// delay, 10 s for cleanup, 5 s for persistence, SIGINT and SIGTERM stop, SIGHUP reloads.
  public init(
    grace: Duration = .seconds(30),
    drainDelay: Duration = .zero,
    cleanupBudget: Duration = .seconds(10),
    persistenceBudget: Duration = .seconds(5),
    shutdownSignals: Set<ShutdownSignal> = [.interrupt, .terminate],
    reloadSignals: Set<ShutdownSignal> = [.hangup],
    exitCodes: ExitCodePolicy = ExitCodePolicy()
  ) {
    self.grace = grace
    self.drainDelay = drainDelay
    self.cleanupBudget = cleanupBudget
    self.persistenceBudget = persistenceBudget
    self.shutdownSignals = shutdownSignals
    self.reloadSignals = reloadSignals
    self.exitCodes = exitCodes
  }
}

/// What started a shutdown.
public enum ShutdownTrigger: Sendable, Hashable, CustomStringConvertible {
  /// A shutdown signal (SIGTERM, SIGINT, …).
  case signal(ShutdownSignal)
  /// ``GracefulShutdown/requestShutdown()`` was called.
  case requested
  /// The signal sequence finished: nothing more can arrive (the source was cancelled, or a script
  /// ended), so the service stops.
  case signalsFinished
  /// The task running ``GracefulShutdown/run()`` was cancelled.
  case callerCancelled

  /// "SIGTERM", "requested", "signals finished", "caller cancelled".
  public var description: String {
    switch self {
    case .signal(let signal): signal.name
    case .requested: "requested"
    case .signalsFinished: "signals finished"
    case .callerCancelled: "caller cancelled"
    }
  }
}

/// How the wait for tasks and connections ended.
public enum WaitEnd: Sendable, Hashable, CustomStringConvertible {
  /// Every task finished and every connection left before the deadline.
  case allDone
  /// The grace deadline came first.
  case deadline
  /// A repeated signal (or the caller's cancellation) ended it early.
  case escalated
  /// The process was forced to exit before or during the wait.
  case forced

  /// "all done", "deadline", "escalated", "forced".
  public var description: String {
    switch self {
    case .allDone: "all done"
    case .deadline: "deadline"
    case .escalated: "escalated"
    case .forced: "forced"
    }
  }
}

/// One step of a shutdown, as the observer receives it.
public struct ShutdownEvent: Sendable, Hashable, CustomStringConvertible {
  /// What happened.
  public enum Kind: Sendable, Hashable {
    /// A signal arrived. `ordinal` counts shutdown signals (1 starts the shutdown, 2 escalates, 3
    /// forces the exit); it is 0 for a reload or an ignored signal.
    case signalReceived(ShutdownSignal, ordinal: Int)
    /// A reload signal was handed to the reload handler. No shutdown.
    case reloadRequested(ShutdownSignal)
    /// A signal that is neither a shutdown nor a reload signal; nothing was done.
    case signalIgnored(ShutdownSignal)
    /// The shutdown began.
    case shutdownStarted(ShutdownTrigger)
    /// The phase changed (and was published on the phase watch).
    case phaseChanged(ShutdownPhase)
    /// The listener was told to stop accepting and the connection tracker closed; `inFlight`
    /// connections were still being served.
    case listenerClosed(inFlight: Int)
    /// The root cancellation token was cancelled: every task holding a child token is told to stop.
    case tokenCancelled
    /// Waiting for `tasks` named tasks and `connections` connections, until `deadline` (an offset
    /// from the start of the shutdown).
    case waiting(tasks: Int, connections: Int, deadline: Duration)
    /// A named task ended during the wait.
    case taskFinished(String)
    /// The last in-flight connection left.
    case connectionsDrained
    /// The wait ended.
    case waitEnded(WaitEnd)
    /// A named task was still running when the wait ended: its Swift task was cancelled.
    case taskAborted(String)
    /// Connections still open when the wait ended.
    case connectionsLeft(Int)
    /// A repeated shutdown signal (or, with `nil`, the caller's cancellation) ended the waiting.
    case escalated(ShutdownSignal?)
    /// One cleanup step's result.
    case cleanupStep(CleanupResult)
    /// One persistence hook's result.
    case persisted(PersistResult)
    /// A third signal: the caller should exit now with `code`.
    case forcedExit(code: Int32)
    /// The shutdown is over; the process should exit with `code`.
    case exitCode(Int32)
  }

  /// When, as an offset from the start of the shutdown (the first shutdown signal); `nil` for
  /// events before it (a reload, an ignored signal).
  public var time: Duration?
  /// What happened.
  public var kind: Kind

  /// An event, for tests.
  public init(time: Duration?, kind: Kind) {
    self.time = time
    self.kind = kind
  }

  /// "+1.0 seconds phaseChanged(draining)"-style text, for logs and test failures.
  public var description: String { "\(time.map { "+\($0)" } ?? "-") \(kind)" }
}

/// One persistence hook's result.
public struct PersistResult: Sendable, Hashable, CustomStringConvertible {
  /// The hook's (and the snapshot's) name.
  public var name: String
  /// ``CleanupOutcome/done`` when the snapshot was saved; otherwise why not.
  public var outcome: CleanupOutcome
  /// The payload size saved (0 unless saved).
  public var bytes: Int
  /// The clean-shutdown marker it was saved with.
  public var clean: Bool

  /// A result, for tests and reports.
  public init(name: String, outcome: CleanupOutcome, bytes: Int = 0, clean: Bool = false) {
    self.name = name
    self.outcome = outcome
    self.bytes = bytes
    self.clean = clean
  }

  /// "counters: saved 42 bytes (clean)" or "counters: failed: …".
  public var description: String {
    outcome == .done
      ? "\(name): saved \(bytes) bytes (\(clean ? "clean" : "unclean"))" : "\(name): \(outcome)"
  }
}

/// A phase and when it began, as an offset from the start of the shutdown.
public struct PhaseTime: Sendable, Hashable, CustomStringConvertible {
  /// The phase.
  public var phase: ShutdownPhase
  /// When it began.
  public var at: Duration

  /// A phase time, for tests.
  public init(_ phase: ShutdownPhase, at: Duration) {
    self.phase = phase
    self.at = at
  }

  /// "draining at 0.0 seconds".
  public var description: String { "\(phase) at \(at)" }
}

/// What a shutdown did, returned by ``GracefulShutdown/run()``.
public struct ShutdownReport: Sendable, Hashable {
  /// What started it.
  public var trigger: ShutdownTrigger
  /// Every signal received, in order, reloads included.
  public var signals: [ShutdownSignal]
  /// Each phase from ``ShutdownPhase/draining`` on, with its start time (offset from the trigger).
  public var phases: [PhaseTime]
  /// Named tasks that finished by themselves during the wait, in the order they finished.
  public var tasksFinished: [String]
  /// Named tasks still running when the wait ended, cancelled then, in the order they were spawned.
  public var tasksAborted: [String]
  /// Connections in flight when the listener closed that left before the wait ended.
  public var connectionsDrained: Int
  /// Connections still open when the wait ended.
  public var connectionsLeft: Int
  /// How the wait ended.
  public var waitEnded: WaitEnd
  /// Every cleanup step's result, in the order they ran (last registered first).
  public var cleanup: [CleanupResult]
  /// Every persistence hook's result, in registration order.
  public var persistence: [PersistResult]
  /// The repeated signal that ended the waiting early (the 2nd), if any.
  public var escalatedBy: ShutdownSignal?
  /// The signal that forced an immediate exit (the 3rd), if any.
  public var forcedBy: ShutdownSignal?
  /// The code the process should exit with (see ``ExitCodePolicy``).
  public var exitCode: Int32
  /// Time from the trigger to ``ShutdownPhase/stopped``.
  public var duration: Duration

  /// Whether the process was forced to exit (a 3rd signal): cleanup and persistence did not finish.
  public var isForced: Bool { forcedBy != nil }

  /// Whether everything finished in time, every step succeeded, and no signal had to be repeated.
  public var isClean: Bool {
    tasksAborted.isEmpty && connectionsLeft == 0 && escalatedBy == nil && forcedBy == nil
      && cleanup.allSatisfy(\.outcome.isDone) && persistence.allSatisfy(\.outcome.isDone)
      && waitEnded == .allDone
  }

  /// When `phase` began, if it did.
  public func time(of phase: ShutdownPhase) -> Duration? { phases.first { $0.phase == phase }?.at }
}
