import Patterns

/// The service the flow stories shut down: a listener whose connections a load balancer opens at a
/// steady rate, one handler task per request, a queue consumer, three resources (a cache to flush,
/// the queue's connection, a database pool the others use) and two counters that must survive a
/// restart. Its shutdown is the library's `GracefulShutdown`, unchanged: this file only wires the
/// pieces to it and writes what happens to the timeline, each line of the shutdown marked with the
/// step it belongs to ("step 4/7 drain").
///
/// Every request's fate is counted once: *refused* (the listener had closed, so the connection was
/// never accepted: a load balancer would retry it elsewhere), or accepted and then *completed*,
/// *aborted* (cut by the grace deadline, an escalation or the process dying: the client sees a 502)
/// or *failed* (the handler hit an error).
final class SimulatedService: Sendable {
  /// What differs between the stories.
  struct Setup: Sendable {
    /// Requests per second the load balancer sends.
    var rate: Int
    /// How long an ordinary request takes.
    var requestTime: Duration
    /// Requests that take longer than the rest, by number (request 4 takes 8s).
    var slowRequests: [Int: Duration] = [:]
    /// Every n-th request is slow too: (n, how long it takes).
    var slowEvery: (every: Int, takes: Duration)?
    /// The first request's number (a restarted service carries on counting).
    var firstRequest = 1
    /// Whether SIGHUP swaps the configuration (a watch the workers check).
    var reloadable = false
    /// The coordinator's settings: grace, drain delay, budgets.
    var configuration: ShutdownConfiguration
    /// When the load balancer stops sending.
    var routing: Routing = .untilDraining(lag: .zero)
    /// The cleanup steps, in the order they run (the reverse of registration).
    var cleanup: [Resource] = SimulatedService.resources
    /// Where the counters are saved; `nil` keeps them in memory only (lost at exit).
    var store: (any StateStore)?
    /// How long the queue consumer takes per message.
    var messageTime: Duration = .milliseconds(400)
  }

  /// When the load balancer stops sending to this instance.
  enum Routing: Sendable {
    /// `lag` after readiness first says draining (how long its probes take to notice).
    case untilDraining(lag: Duration)
    /// At a fixed time: endpoint removal, which does not wait for readiness.
    case until(Duration)
  }

  /// A resource closed in step 5: how long closing takes, and whether it fails.
  struct Resource: Sendable {
    var name: String
    var timeout: Duration
    var takes: Duration
    var failure: String? = nil
  }

  /// The three resources, in the order they close: the cache and the queue use the pool, so it
  /// was opened first and closes last.
  static let resources = [
    Resource(name: "cache", timeout: .seconds(1), takes: .milliseconds(200)),
    Resource(name: "queue", timeout: .seconds(1), takes: .milliseconds(100)),
    Resource(name: "db pool", timeout: .seconds(2), takes: .milliseconds(100)),
  ]

  /// The counters the service keeps, saved in step 6 and restored at start.
  struct Counters: Sendable, Hashable {
    var served = 0
    var processed = 0

    var bytes: [UInt8] { Array("served=\(served)\nprocessed=\(processed)\n".utf8) }
    var text: String { "served=\(served) processed=\(processed)" }

    init(served: Int = 0, processed: Int = 0) {
      self.served = served
      self.processed = processed
    }

    init?(bytes: [UInt8]) {
      var values: [String: Int] = [:]
      for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        let pair = line.split(separator: "=")
        guard pair.count == 2, let value = Int(pair[1]) else { return nil }
        values[String(pair[0])] = value
      }
      guard let served = values["served"], let processed = values["processed"] else { return nil }
      self.init(served: served, processed: processed)
    }
  }

  let setup: Setup
  let context: ScenarioContext
  let shutdown: GracefulShutdown
  private let state: Lock<State>

  private struct State {
    var step = 0
    var ledger = RequestLedger()
    var counters = Counters()
    /// Set by `kill`: a dead process records nothing more, and its counts stop.
    var killed = false
    var nextRequest = 1
    /// The cleanup and persistence results recorded while the process was alive.
    var cleanup: [CleanupResult] = []
    var persisted: [PersistResult] = []
    /// The shutdown signals received, in order (the ladder's rungs).
    var shutdownSignals: [String] = []
  }

  static let stepNames = [
    "signal", "stop accepting", "tell every task", "drain", "cleanup", "persist", "exit",
  ]

  /// Builds the service on the story's clock, signals and timeline. Nothing runs until `run()`.
  /// The configuration version the workers run with, swapped by SIGHUP when `reloadable`.
  private let config = Watch<Int>.channel(1)

  /// Builds the service on the story's clock, signals and timeline. Nothing runs until `run()`.
  /// - Parameter handlesSignals: false for a service with no handler: its coordinator never sees a
  ///   signal (and never runs).
  init(
    _ setup: Setup, context: ScenarioContext, restoring counters: Counters = Counters(),
    handlesSignals: Bool = true
  ) {
    self.setup = setup
    self.context = context
    state = Lock(State(counters: counters, nextRequest: setup.firstRequest))
    let signals: MPSC<ShutdownSignal>.Receiver
    if handlesSignals {
      signals = context.trigger.signals(on: context)
    } else {
      signals = MPSC<ShutdownSignal>.unboundedChannel().1  // its sender gone: nothing will come
    }
    let box = ObserverBox()
    shutdown = GracefulShutdown(
      clock: context.clock, signals: signals, configuration: setup.configuration, store: setup.store,
      observer: { box.service?.observe($0) })
    box.service = self
    if setup.reloadable {
      shutdown.onReload { [self] _ in
        let version = config.0.borrow() + 1
        config.0.sendReplace(version)
        record("shutdown", .notify, "publishes config v\(version) on the config watch; nothing restarts")
      }
    }
  }

  // MARK: recording

  /// Records a line; once the shutdown has begun, the line names its step. The first signal's
  /// line stays the signal's bare name, as in every story (pictures label the signal's marker with
  /// it); the step it starts is on the next line. Nothing is recorded after the process was killed.
  func record(_ actor: String, _ kind: TimelineEvent.Kind, _ detail: String, count: Int? = nil) {
    let step = state.withLock { $0.killed ? -1 : $0.step }
    guard step >= 0 else { return }
    let labelled = step == 0 || (kind == .signal && step == 1) ? detail : "\(Self.label(step)): \(detail)"
    context.record(actor, kind, labelled, count: count)
  }

  static func label(_ step: Int) -> String { "step \(step)/7 \(stepNames[step - 1])" }

  private func enter(step: Int) { state.withLock { $0.step = max($0.step, step) } }

  var isKilled: Bool { state.withLock { $0.killed } }
  var ledger: RequestLedger { state.withLock { $0.ledger } }
  var counters: Counters { state.withLock { $0.counters } }

  /// The process dies at once (SIGKILL, a crash): records `detail`, the requests it cut, and
  /// main's exit line, then nothing more. What its tasks do afterwards (they wind down in virtual
  /// time) is not recorded or counted: a dead process does nothing anyone can see.
  func kill(_ actor: String, _ detail: String, exitCode: Int32, exitLine: String = "killed") {
    let inFlight = state.withLock { $0.ledger.inFlight }
    record(actor, .deadline, detail)
    for name in inFlight { record(name, .abort, "cut mid-response; the client sees a 502") }
    record("main", .exit, "\(exitLine); exit \(exitCode)")
    state.withLock { state in
      for name in inFlight { state.ledger.end(name, as: .aborted) }
      state.killed = true
    }
  }

  // MARK: the coordinator's steps, as timeline lines

  private func observe(_ event: Patterns.ShutdownEvent) {
    switch event.kind {
    case .signalReceived(let signal, let ordinal):
      switch ordinal {
      // A reload (or ignored) signal starts no shutdown: not a .signal event, which the summary
      // measures the time to quiet from.
      case 0: record("signal", .note, signal.name)
      case 1:
        enter(step: 1)
        state.withLock { $0.shutdownSignals.append(signal.name) }
        record("signal", .signal, signal.name)
      case 2:
        state.withLock { $0.shutdownSignals.append(signal.name) }
        record("signal", .signal, "\(signal.name) again (2nd shutdown signal)")
      default:
        state.withLock { $0.shutdownSignals.append(signal.name) }
        record("signal", .signal, "\(signal.name) again (\(ordinal.ordinalWord) shutdown signal)")
        enter(step: 7)
        record("shutdown", .deadline, "exit now: whatever is left is skipped")
      }
    case .reloadRequested(let signal):
      record("shutdown", .notify, "\(signal.name) is not a shutdown: reload the configuration")
    case .signalIgnored(let signal):
      record("shutdown", .note, "\(signal.name) ignored")
    case .shutdownStarted, .taskFinished:
      break  // the signal line and the task's own line say it
    case .phaseChanged(.draining):
      record("shutdown", .notify, "readiness now answers 503 draining")
      if setup.configuration.drainDelay > .zero {
        enter(step: 2)
        record(
          "listener", .note,
          "keeps accepting for the \(formatDuration(setup.configuration.drainDelay)) drain delay")
      }
    case .phaseChanged(.cleaningUp): enter(step: 5)
    case .phaseChanged(.persisting): enter(step: 6)
    case .phaseChanged: break
    case .listenerClosed(let inFlight):
      enter(step: 2)
      record(
        "listener", .observe, "closed; \(counted(inFlight, "request")) in flight; new connections refused")
    case .tokenCancelled:
      enter(step: 3)
      record("shutdown", .notify, "root token cancelled: every task's child token sees it")
    case .waiting(let tasks, let connections, let deadline):
      enter(step: 4)
      record(
        "shutdown", .wait,
        "waits for \(counted(tasks, "task")) and \(counted(connections, "connection")), "
          + "until the deadline at +\(context.measured(deadline))")
    case .connectionsDrained:
      record("shutdown", .note, "every connection has closed")
    case .waitEnded(let end):
      switch end {
      case .allDone: record("shutdown", .note, "everything finished before the deadline")
      case .deadline:
        record("shutdown", .deadline, "grace period (\(formatDuration(setup.configuration.grace))) is over")
      case .escalated, .forced: break  // the escalation's own line says it
      }
    case .taskAborted(let name):
      // Recorded for the task, here, because the abort happens here: its Swift task is cancelled now
      // and ends a moment later (the ledger counts it then).
      record(
        name, .abort, name.hasPrefix("req-") ? "aborted: cut mid-response; the client sees a 502" : "aborted")
    case .connectionsLeft(let count):
      record("shutdown", .note, "\(counted(count, "connection")) closed unfinished")
    case .escalated(let signal):
      let by = signal.map { "a 2nd \($0.name)" } ?? "cancellation"
      context.notes.workCut(by: signal.map { "the 2nd \($0.name)" } ?? "cancellation")
      record("shutdown", .deadline, "\(by): stop waiting; cleanup and persistence still run")
    case .cleanupStep(let result):
      enter(step: 5)
      state.withLock { if !$0.killed { $0.cleanup.append(result) } }
      record(
        result.name, result.outcome.isDone ? .cleanup : .error,
        Self.describe(result, measured: context.measured))
    case .persisted(let result):
      enter(step: 6)
      state.withLock { if !$0.killed { $0.persisted.append(result) } }
      record("state", result.outcome.isDone ? .cleanup : .error, Self.describe(result))
    case .forcedExit:
      break  // said when the 3rd signal arrived; main's exit line gives the code
    case .exitCode(let code):
      enter(step: 7)
      record("main", .exit, "\(exitReason(code)); exit \(code)")
    }
  }

  /// Main's last words: why the exit code is what it is.
  private func exitReason(_ code: Int32) -> String {
    let (cleanup, persisted, signals) = state.withLock { ($0.cleanup, $0.persisted, $0.shutdownSignals) }
    if code >= 128, let last = signals.last {
      return signals.count >= 3
        ? "forced out by the \(signals.count.ordinalWord) \(last)" : "stopped early by a 2nd \(last)"
    }
    var aborted: [String] = []
    for event in context.timeline.events where event.kind == .abort && !aborted.contains(event.actor) {
      aborted.append(event.actor)
    }
    var problems = aborted.isEmpty ? [] : ["\(listed(aborted)) had to be aborted"]
    problems += cleanup.filter { !$0.outcome.isDone }.map { "\($0.name) \($0.outcome.shortWord)" }
    problems += persisted.filter { !$0.outcome.isDone }.map { "\($0.name) not saved" }
    return problems.isEmpty ? "every step done" : "done, but \(listed(problems))"
  }

  static func describe(
    _ result: CleanupResult, measured: (Duration) -> String = { formatDuration($0) }
  ) -> String {
    switch result.outcome {
    case .done: "closed in \(measured(result.took))"
    case .failed(let message): "failed: \(message); the next step still runs"
    case .timedOut(let stillRunning):
      "timed out after \(measured(result.allowed))\(stillRunning ? ", still running; abandoned" : "")"
    case .skipped(let reason): "skipped: \(reason)"
    }
  }

  static func describe(_ result: PersistResult) -> String {
    switch result.outcome {
    case .done:
      "saved counters, \(result.bytes) bytes, marked \(result.clean ? "clean" : "unclean"), written atomically"
    case .failed(let message): "not saved: \(message)"
    case .timedOut: "not saved: timed out"
    case .skipped(let reason): "not saved: \(reason)"
    }
  }

  // MARK: running

  /// What opens, in the order it opens: the resources (closed in reverse at shutdown), the listener
  /// last, once everything behind it is ready.
  var openingOrder: String {
    setup.cleanup.reversed().map(\.name).joined(separator: ", ") + ", then the listener"
  }

  /// Starts the service, serves until its shutdown finishes, and returns the coordinator's report.
  func run(startLine: String? = nil) async -> ShutdownReport {
    record("main", .start, startLine ?? "starts: \(openingOrder)")
    for resource in setup.cleanup.reversed() {
      shutdown.cleanup.register(name: resource.name, timeout: resource.timeout) { [clock = context.clock] in
        try await clock.sleep(for: resource.takes)
        if let failure = resource.failure { throw StepFailure(message: failure) }
      }
    }
    shutdown.persist(name: "counters", timeout: .seconds(1)) { [self] in counters.bytes }
    startQueueConsumer()
    if setup.reloadable { startCacheRefresher() }
    let balancer = spawnTask(name: "load balancer") { [self] in await sendRequests() }
    let report = await shutdown.run()
    await balancer.value
    return report
  }

  /// The naive service: the same load balancer, handlers and consumer, and no coordinator at all.
  /// Returns when cancelled (the process died).
  func serveWithoutHandler() async {
    startQueueConsumer()
    await sendRequests()
  }

  /// A second worker that reads the configuration: refreshes the cache every 500ms.
  private func startCacheRefresher() {
    let config = self.config.0.subscribe()
    shutdown.spawn(name: "cache-refresher") { [self] token in
      record(
        "cache-refresher", .start, "refreshes the cache every 500ms with config v\(config.borrowAndUpdate())")
      while !token.isCancelled {
        do { try await context.sleep(for: .milliseconds(500)) } catch { return }
        if (try? config.hasChanged()) == true {
          record(
            "cache-refresher", .receive, "picks up config v\(config.borrowAndUpdate()) at its next refresh")
        }
      }
      record("cache-refresher", .observe, "sees its token cancelled; stops refreshing")
      record("cache-refresher", .exit, "stops")
    }
  }

  /// The queue consumer: one message at a time; at its next look after the token is cancelled it
  /// acknowledges the message in hand and stops taking more.
  private func startQueueConsumer() {
    let messageTime = setup.messageTime
    let config = setup.reloadable ? self.config.0.subscribe() : nil
    shutdown.spawn(name: "queue-consumer") { [self] token in
      record("queue-consumer", .start, "takes a message every \(formatDuration(messageTime))")
      var done = 0
      while !token.isCancelled, !isKilled {
        // Cancelled: the shutdown aborted it, and said so.
        do { try await context.sleep(for: messageTime) } catch { return }
        done += 1
        state.withLock { if !$0.killed { $0.counters.processed += 1 } }
        if let config, (try? config.hasChanged()) == true {
          record(
            "queue-consumer", .receive, "picks up config v\(config.borrowAndUpdate()) before its next message"
          )
        }
      }
      record("queue-consumer", .observe, "sees its token cancelled; acks the message in hand, takes no more")
      record("queue-consumer", .exit, "stops after \(counted(done, "message"))")
    }
  }

  /// The load balancer: opens a connection every 1/rate seconds until it stops routing here.
  private func sendRequests() async {
    let interval = Duration.seconds(1) / setup.rate
    var sentSinceDrain: Duration?
    // A quarter interval first, so that neither arrivals nor (300ms) completions fall on the
    // whole and half seconds the stories script their signals at: no outcome hangs on a tie.
    var wait = interval / 4
    while true {
      do { try await context.sleep(for: wait) } catch { return }
      wait = interval
      if isKilled { return }
      switch setup.routing {
      case .until(let end):
        if context.timeline.now >= end {
          record("lb", .note, "stops sending here: the endpoint is gone from its list")
          return
        }
      case .untilDraining(let lag):
        if shutdown.phase != .running {
          let since = sentSinceDrain ?? context.timeline.now
          sentSinceDrain = since
          if context.timeline.now - since >= lag {
            record("lb", .note, "sees readiness say draining: stops sending here")
            return
          }
        }
      }
      accept()
    }
  }

  /// One connection from the load balancer: accepted under the connection tracker, or refused.
  private func accept() {
    let number = state.withLock { state in
      defer { state.nextRequest += 1 }
      return state.nextRequest
    }
    let name = "req-\(number)"
    guard let entry = shutdown.connections.enter() else {
      state.withLock { $0.ledger.refused += 1 }
      record("lb", .error, "\(name) refused: connection refused (a retry goes elsewhere)")
      return
    }
    var time = setup.slowRequests[number] ?? setup.requestTime
    if let slow = setup.slowEvery, number % slow.every == 0 { time = slow.takes }
    state.withLock { $0.ledger.accept(name) }
    record(name, .start, "accepted; takes \(formatDuration(time))")
    shutdown.spawn(name: name) { [self] _ in
      defer { entry.leave() }
      do {
        try await context.sleep(for: time)
      } catch {
        finish(name, as: .aborted)
        return
      }
      finish(name, as: .completed)
    }
  }

  private func finish(_ name: String, as fate: RequestLedger.Fate) {
    let counted = state.withLock { state -> Bool in
      guard !state.killed else { return false }
      state.ledger.end(name, as: fate)
      if fate == .completed { state.counters.served += 1 }
      return true
    }
    guard counted else { return }
    switch fate {
    case .completed: record(name, .exit, "200 OK")
    case .aborted: break  // recorded when the shutdown aborted it
    case .failed: record(name, .error, "500: the handler failed")
    }
  }

  /// Shuts down the naive way: no handler, so the default action of SIGTERM ends the process at
  /// once, in the middle of whatever it was doing.
  func dieAtOnce() {
    enter(step: 1)
    record("state", .error, "counters never saved: \(counters.text) lost")
    kill(
      "main", "no handler: SIGTERM's default action ends the process now; steps 2-6 never run",
      exitCode: 143, exitLine: "killed by SIGTERM")
  }

  // MARK: summary

  /// The summary lines every flow story ends with: what happened to every request, the cleanup,
  /// the state, and the exit code.
  func summary(exitCode: Int32, ledger: RequestLedger? = nil) -> [SummaryLine] {
    let ledger = ledger ?? self.ledger
    let (cleanup, persisted) = state.withLock { ($0.cleanup, $0.persisted) }
    var lines = [
      SummaryLine(
        "requests accepted",
        .equation(
          total: ledger.accepted,
          parts: [
            .init(ledger.completed, "completed"), .init(ledger.aborted, "aborted"),
            .init(ledger.failed, "failed"),
          ]
        ), keys: ["requests_accepted", "requests_completed", "requests_aborted", "requests_failed"]),
      SummaryLine(
        "requests refused", .count(ledger.refused), note: "(never accepted: the listener had closed)",
        keys: ["requests_refused"]),
    ]
    var steps = cleanup.map { "\($0.name) \($0.outcome.shortWord)" }
    if isKilled {
      let reached = Set(cleanup.map(\.name))
      steps += setup.cleanup.filter { !reached.contains($0.name) }.map { "\($0.name) cut" }
    }
    lines.append(SummaryLine("cleanup", .text(steps.joined(separator: ", "))))
    let saved = persisted.first { $0.outcome.isDone }
    lines.append(
      SummaryLine(
        "state saved", .flag(saved != nil),
        note: saved.map { "(\(counters.text), \($0.clean ? "clean" : "unclean"))" }
          ?? "(lost: \(counters.text))"))
    lines.append(
      SummaryLine("exit code", .count(Int(exitCode)), note: Self.meaning(of: exitCode), keys: ["exit_code"]))
    return lines
  }

  /// What an exit code says, by the contract.
  static func meaning(of code: Int32) -> String {
    switch code {
    case 0: "(clean shutdown)"
    case 1: "(completed, but not cleanly)"
    case 137: "(killed by SIGKILL)"
    case 129...159:
      "(\(ShutdownSignal(number: code - 128).name): a signal ended it)"
    default: ""
    }
  }
}

/// Every request's fate, counted once.
struct RequestLedger: Sendable, Hashable {
  enum Fate: Sendable { case completed, aborted, failed }

  var accepted = 0
  var completed = 0
  var aborted = 0
  var failed = 0
  var refused = 0
  /// Accepted and not yet ended, in order.
  var inFlight: [String] = []

  mutating func accept(_ name: String) {
    accepted += 1
    inFlight.append(name)
  }

  mutating func end(_ name: String, as fate: Fate) {
    guard let index = inFlight.firstIndex(of: name) else { return }
    inFlight.remove(at: index)
    switch fate {
    case .completed: completed += 1
    case .aborted: aborted += 1
    case .failed: failed += 1
    }
  }
}

/// A cleanup step's error, as the story scripts it.
struct StepFailure: Error, CustomStringConvertible {
  var message: String
  var description: String { message }
}

/// Lets the coordinator's observer reach the service that owns the coordinator (set once, right
/// after both exist). Weak, so the service and its coordinator do not keep each other alive.
private final class ObserverBox: Sendable {
  private struct Reference {
    weak var service: SimulatedService?
  }

  private let storage = Lock(Reference())
  var service: SimulatedService? {
    get { storage.withLock { $0.service } }
    set { storage.withLock { $0.service = newValue } }
  }
}

extension CleanupOutcome {
  /// "done", "failed", "timed out", "skipped": for the summary's one line.
  var shortWord: String {
    switch self {
    case .done: "done"
    case .failed: "failed"
    case .timedOut: "timed out"
    case .skipped: "skipped"
    }
  }
}

extension Int {
  /// "1st", "2nd", "3rd", "4th".
  var ordinalWord: String {
    switch self {
    case 1: "1st"
    case 2: "2nd"
    case 3: "3rd"
    default: "\(self)th"
    }
  }
}
