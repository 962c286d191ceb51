/// The shutdown coordinator: from the first SIGTERM to the exit code, in seven steps, within a
/// grace period, with an escalation ladder when something hangs.
///
/// A service that is stopped (a rolling deploy, Ctrl-C, a scale-down) either drops what it
/// accepted or finishes it. Finishing it takes seven steps, and `run()` does them in order:
///
/// 1. **Signal.** The first shutdown signal (SIGTERM, SIGINT) arrives. The phase watch says
///    ``ShutdownPhase/draining`` at once, so readiness answers 503 and load balancers that probe
///    stop sending.
/// 2. **Stop accepting.** After the optional drain delay (the in-app preStop: keep accepting while
///    the load balancers catch up), the listener hook runs and the ``ConnectionTracker`` closes:
///    every later `enter()` is refused. (A listener on a thread of its own uses the asynchronous
///    hook, ``onStopAccepting(timeout:_:)``, which is awaited before the tracker closes.)
/// 3. **Tell every task.** The root ``CancellationToken`` is cancelled; every task holding a child
///    token (``spawn(name:_:)`` hands one out) sees it.
/// 4. **Drain.** Wait for the tasks (``TaskTracker``) *and* the connections until both are done or
///    the grace deadline comes, whichever is first. It never sleeps out the grace period: it returns
///    the moment the last one ends. At the deadline, the named tasks still running are aborted
///    (their Swift tasks cancelled) and named in the report.
/// 5. **Close resources.** The ``CleanupStack`` runs, last registered first, each step under the
///    smaller of its timeout and the budget left.
/// 6. **Persist.** Each persistence hook produces bytes, saved atomically to the ``StateStore``
///    with the clean-shutdown marker.
/// 7. **Exit.** The phase becomes ``ShutdownPhase/stopped`` and `run()` returns a
///    ``ShutdownReport`` whose `exitCode` the caller exits with.
///
/// ```swift
/// let signals = await ProcessSignals.install()           // or ScriptedSignals in a test
/// let shutdown = GracefulShutdown(
///   clock: ContinuousClock(), signals: signals.signals,
///   configuration: ShutdownConfiguration(grace: .seconds(20), drainDelay: .seconds(2)),
///   store: try FileStateStore(directory: "state"))
/// shutdown.onStopAccepting { listener.close() }
/// shutdown.onReload { _ in config.sendReplace(loadConfig()) }
/// shutdown.onForcedExit { code in exit(code) }            // a 3rd Ctrl-C: leave now
/// shutdown.cleanup.register(name: "database pool", timeout: .seconds(5)) { await pool.close() }
/// shutdown.persist(name: "counters", timeout: .seconds(2)) { counters.encoded() }
/// shutdown.spawn(name: "accept loop") { token in
///   while !token.isCancelled, let socket = await listener.accept() {
///     guard let entry = shutdown.connections.enter() else { break }
///     shutdown.spawn(name: "connection \(socket)") { _ in defer { entry.leave() }; await serve(socket) }
///   }
/// }
/// let report = await shutdown.run()                       // returns once stopped
/// exit(report.exitCode)
/// ```
///
/// **The escalation ladder.** The 1st shutdown signal starts the graceful path. The 2nd (any
/// shutdown signal) ends the waiting at once, aborts what is left, and still runs cleanup and
/// persistence with what is left of their timeouts; the exit code is then 128 + its number. The
/// 3rd means "exit now": ``onForcedExit(_:)`` is called at once, from the task that receives the
/// signals, whatever `run()` is doing, and `run()` returns a forced report (exit code 128 + n)
/// without waiting for anything more. The library never calls `exit()` itself. Cancelling the task
/// that runs `run()` counts as an escalation (the 2nd rung) but sets no signal exit code.
///
/// **SIGHUP is not a shutdown.** Reload signals go to ``onReload(_:)`` and the service keeps running.
///
/// **Timers that survive cancellation.** Every timer (drain delay, grace deadline, step timeouts)
/// runs in its own task started with ``spawnTask(name:priority:_:)``, and every step runs in its own
/// task too; `run()` waits on a mailbox they report into. So the timeouts hold when the task calling
/// `run()` is already cancelled (a `Task.sleep` there would throw at once), and inside a
/// `Simulation` everything stays on the simulated executor, driven by the virtual clock.
///
/// **Observing.** Pass an `observer` to receive every step as a ``ShutdownEvent``, in order, from the
/// task running `run()`: a story records them, a live run logs them. The coordinator itself prints
/// nothing.
///
/// What the sources we follow lack, and this adds: swift-service-lifecycle swallows a repeated
/// Ctrl-C (a graceful signal listener returns after the first one) and ends its cancellation timeout
/// in `fatalError`; axum and mini-redis have no deadline; Go's `Server.Shutdown` returns at its
/// deadline but leaves the connections open; none persists state, reports readiness as draining,
/// or gives each cleanup step its own timeout.
public final class GracefulShutdown: Sendable {
  /// The configuration it was made with.
  public let configuration: ShutdownConfiguration
  /// The root token, cancelled in step 3. Hand tasks ``CancellationToken/childToken()``s of it.
  public let token: CancellationToken
  /// Counts the tasks waited for in step 4. ``spawn(name:_:)`` uses it; tasks spawned on it
  /// directly are waited for too, but cannot be aborted or named.
  public let tasks: TaskTracker
  /// The connections waited for in step 4; closed in step 2.
  public let connections: ConnectionTracker
  /// The resources closed in step 5.
  public let cleanup: CleanupStack

  private let clock: ShutdownClock
  private let signals: any AsyncSequence<ShutdownSignal, Never> & Sendable
  private let store: (any StateStore)?
  private let observer: (@Sendable (ShutdownEvent) -> Void)?
  private let phaseSender: Watch<ShutdownPhase>.Sender
  private let phaseReceiver: Watch<ShutdownPhase>.Receiver
  private let mailbox = Mailbox<CoordinatorEvent>(label: "graceful shutdown", cancelEvent: .callerCancelled)
  private let registry = TaskRegistry()
  private let ladder = Lock(Ladder())
  private let hooks = Lock(Hooks())

  /// A coordinator for one service run.
  /// - Parameters:
  ///   - clock: measures every delay, deadline and timeout. `ContinuousClock()` in a live process,
  ///     the simulation's `VirtualClock` in a scripted run.
  ///   - signals: the signals, from ``ProcessSignals`` or ``ScriptedSignals`` (or any sequence that
  ///     ends when its iterating task is cancelled). Its end counts as a request to stop.
  ///   - configuration: grace, drain delay, budgets, which signals do what, exit codes.
  ///   - store: where persistence hooks save; without one, hooks are skipped.
  ///   - observer: receives every step, in order.
  public init(
    clock: some Clock<Duration>,
    signals: some AsyncSequence<ShutdownSignal, Never> & Sendable,
    configuration: ShutdownConfiguration = ShutdownConfiguration(),
    store: (any StateStore)? = nil,
    observer: (@Sendable (ShutdownEvent) -> Void)? = nil
  ) {
    self.clock = ShutdownClock(clock)
    self.signals = signals
    self.configuration = configuration
    self.store = store
    self.observer = observer
    token = CancellationToken()
    tasks = TaskTracker()
    connections = ConnectionTracker()
    cleanup = CleanupStack()
    (phaseSender, phaseReceiver) = Watch<ShutdownPhase>.channel(.running)
  }

  // MARK: registration

  /// A receiver of the phase: readiness reads it (`borrow()`), a task can wait for a change.
  public func phases() -> Watch<ShutdownPhase>.Receiver { phaseSender.subscribe() }

  /// The phase now.
  public var phase: ShutdownPhase { phaseSender.borrow() }

  /// Sets what to do when it is time to stop accepting (step 2): close the listening socket, stop
  /// the accept loop. Runs synchronously in the coordinator's task; keep it short.
  public func onStopAccepting(_ body: @escaping @Sendable () -> Void) {
    hooks.withLock { $0.stopAccepting = body }
  }

  /// Sets an asynchronous stop-accepting step, for a listener that lives on a thread of its own (an
  /// event loop): `body` asks that thread to accept what the kernel already queued, close the
  /// listener and close the idle connections, and returns once it has. The coordinator awaits it
  /// (at most `timeout`, then it goes on) *before* it closes the ``ConnectionTracker`` and counts
  /// the connections in flight, so a connection accepted from the queue while the listener closes
  /// still enters the tracker and is waited for. (With the synchronous ``onStopAccepting(_:)``, the
  /// tracker closes first, which suits an accept loop that calls `enter()` itself.) A 2nd signal
  /// while it runs lets it finish; a 3rd abandons it. Runs before the synchronous hook, if both are
  /// set.
  public func onStopAccepting(timeout: Duration, _ body: @escaping @Sendable () async -> Void) {
    hooks.withLock { $0.stopAcceptingAsync = (timeout, body) }
  }

  /// Sets what to do on a reload signal (SIGHUP): typically send a new configuration into a
  /// `Watch`. Runs synchronously in the coordinator's task; keep it short.
  public func onReload(_ body: @escaping @Sendable (ShutdownSignal) -> Void) {
    hooks.withLock { $0.reload = body }
  }

  /// Sets what to do on the 3rd shutdown signal: called at once, from the task receiving the
  /// signals, with the exit code (128 + n). A live process calls `exit(code)` here.
  public func onForcedExit(_ body: @escaping @Sendable (Int32) -> Void) {
    hooks.withLock { $0.forcedExit = body }
  }

  /// Adds a persistence hook (step 6): `produce` returns the bytes to save as snapshot `name`.
  /// Hooks run in registration order, each under the smaller of `timeout` and the persistence
  /// budget left.
  public func persist(
    name: String, timeout: Duration, _ produce: @escaping @Sendable () async throws -> [UInt8]
  ) {
    hooks.withLock { $0.persistence.append(PersistenceHook(name: name, timeout: timeout, produce: produce)) }
  }

  /// Starts a named, tracked task that receives a child of the root token. Waited for in step 4;
  /// if still running at the deadline (or on a 2nd signal), its Swift task is cancelled and its name
  /// reported. Keeps the current executor preference.
  @discardableResult
  public func spawn(
    name: String, _ operation: sending @escaping (CancellationToken) async throws -> Void
  ) -> Task<Void, any Error> {
    let child = token.childToken()
    let registry = registry
    let mailbox = mailbox
    let id = registry.add(name)
    let task = tasks.spawn(name: name) {
      // Registered out before the tracker counts this task out, so the coordinator hears "finished"
      // before "all done".
      defer { if registry.remove(id) { mailbox.push(.taskFinished(name)) } }
      try await operation(child)
    }
    registry.attach(task, to: id)
    return task
  }

  /// Starts the shutdown as if a shutdown signal had arrived (the trigger is
  /// ``ShutdownTrigger/requested``). Does nothing once a shutdown has begun.
  public func requestShutdown() {
    let level = ladder.withLock { $0.raise(to: 1) }
    if let level { mailbox.push(.requested(level: level)) }
  }

  // MARK: running

  /// Serves until a shutdown is triggered, runs it, and returns its report. Call once.
  public func run() async -> ShutdownReport {
    let forwarder = startForwarding()
    defer { forwarder.cancel() }
    var run = RunState()

    // Running: wait for the trigger; reloads and ignored signals pass by.
    while run.trigger == nil {
      let event = await mailbox.next()
      switch event {
      case .signal(let signal, let level):
        run.signals.append(signal)
        guard level > 0 else {
          emit(nil, .signalReceived(signal, ordinal: 0))
          handleUnaryAndReload(signal)
          continue
        }
        emit(.zero, .signalReceived(signal, ordinal: level))
        begin(&run, .signal(signal))
        if level >= 2 { escalate(&run, signal) }
        if level >= 3 { return forcedExit(&run, by: signal) }
      case .requested:
        begin(&run, .requested)
      case .signalsFinished:
        _ = ladder.withLock { $0.raise(to: 1) }
        begin(&run, .signalsFinished)
      case .callerCancelled:
        _ = ladder.withLock { $0.raise(to: 2) }
        begin(&run, .callerCancelled)
        escalate(&run, nil)
      case .timer, .taskFinished, .tasksDone, .connectionsDrained, .step:
        continue  // nothing of this run's yet
      }
    }

    // Step 1 happened in `begin`. Drain delay: keep accepting while readiness says draining.
    if configuration.drainDelay > .zero, run.escalatedBy == nil, !run.escalatedByCancellation {
      let timer = clock.startTimer(
        name: "drain delay", at: run.start + configuration.drainDelay, into: mailbox, .timer(.drainDelay))
      defer { timer.cancel() }
      waitDelay: while true {
        switch await nextDuringShutdown(&run) {
        case .forced(let signal): return forcedExit(&run, by: signal)
        case .escalated: break waitDelay
        case .event(.timer(.drainDelay)): break waitDelay
        case .event: continue
        }
      }
    }

    // Step 2: stop accepting. Step 3: tell every task. (Tasks ending from here on are reported:
    // one may end the moment the token is cancelled.)
    registry.startReporting()
    let runner = TimedStepRunner(clock: clock, mailbox: mailbox)
    if let (timeout, body) = hooks.withLock({ $0.stopAcceptingAsync }) {
      var forcedBy: ShutdownSignal?
      _ = await runner.run(
        name: "stop accepting", limit: timeout, wrap: { .step($0) },
        unwrap: { if case .step(let step) = $0 { step } else { nil } },
        onOther: { event in
          if case .forced(let signal) = absorb(&run, event) {
            forcedBy = signal
            return true
          }
          return false
        }
      ) { await body() }
      if let forcedBy { return forcedExit(&run, by: forcedBy) }
    }
    let inFlight = connections.activeCount
    connections.close()
    hooks.withLock { $0.stopAccepting }?()
    emit(run, .listenerClosed(inFlight: inFlight))
    token.cancel()
    emit(run, .tokenCancelled)
    tasks.close()

    // Step 4: wait for tasks and connections, until done or the deadline.
    if let signal = await drain(&run, connectionsAtClose: inFlight) {
      return forcedExit(&run, by: signal)
    }

    // Step 5: cleanup.
    setPhase(&run, .cleaningUp)
    var forcedBy: ShutdownSignal?
    run.cleanup = await cleanup.runSteps(
      budget: configuration.cleanupBudget, forced: false, runner: runner, wrap: { .step($0) },
      unwrap: { if case .step(let step) = $0 { step } else { nil } },
      onResult: { [start = run.start] result in emit(clock.elapsed() - start, .cleanupStep(result)) }
    ) { event in
      switch absorb(&run, event) {
      case .forced(let signal):
        forcedBy = signal
        return true
      case .escalated, .event: return false
      }
    }
    if let forcedBy { return forcedExit(&run, by: forcedBy) }

    // Step 6: persistence.
    setPhase(&run, .persisting)
    if let signal = await persistAll(&run, runner: runner) { return forcedExit(&run, by: signal) }

    // Step 7: stopped.
    return finish(&run)
  }

  // MARK: the steps

  /// Step 1: the phase says draining at once.
  private func begin(_ run: inout RunState, _ trigger: ShutdownTrigger) {
    run.trigger = trigger
    run.start = clock.elapsed()
    emit(run, .shutdownStarted(trigger))
    setPhase(&run, .draining)
  }

  /// Step 4. Returns the signal if the process was forced to exit meanwhile.
  private func drain(_ run: inout RunState, connectionsAtClose: Int) async -> ShutdownSignal? {
    let deadline = clock.elapsed() + configuration.grace
    if run.escalatedBy == nil, !run.escalatedByCancellation {
      let (tracker, connections, mailbox) = (tasks, self.connections, mailbox)
      let waitTasks = spawnTask(name: "shutdown: wait for tasks") {
        await tracker.wait()
        if !Task.isCancelled { mailbox.push(.tasksDone) }
      }
      let waitConnections = spawnTask(name: "shutdown: wait for connections") {
        await connections.waitUntilEmpty()
        if !Task.isCancelled { mailbox.push(.connectionsDrained) }
      }
      let timer = clock.startTimer(name: "grace deadline", at: deadline, into: mailbox, .timer(.grace))
      defer {
        waitTasks.cancel()
        waitConnections.cancel()
        timer.cancel()
      }
      emit(
        run,
        .waiting(
          tasks: registry.count, connections: self.connections.activeCount, deadline: deadline - run.start))
      var tasksDone = false
      var connectionsDone = false
      waitLoop: while !(tasksDone && connectionsDone) {
        switch await nextDuringShutdown(&run) {
        case .forced(let signal):
          run.waitEnded = .forced
          return signal
        case .escalated:
          run.waitEnded = .escalated
          break waitLoop
        case .event(.taskFinished(let name)):
          run.tasksFinished.append(name)
          emit(run, .taskFinished(name))
        case .event(.tasksDone):
          tasksDone = true
        case .event(.connectionsDrained):
          connectionsDone = true
          emit(run, .connectionsDrained)
        case .event(.timer(.grace)):
          run.waitEnded = .deadline
          break waitLoop
        case .event:
          continue
        }
      }
      if tasksDone && connectionsDone { run.waitEnded = .allDone }
    } else {
      run.waitEnded = .escalated
    }
    emit(run, .waitEnded(run.waitEnded))
    abortStragglers(&run)
    run.connectionsLeft = connections.activeCount
    run.connectionsDrained = max(0, connectionsAtClose - run.connectionsLeft)
    if run.connectionsLeft > 0 { emit(run, .connectionsLeft(run.connectionsLeft)) }
    return nil
  }

  /// Cancels every named task still running and names it. Tasks that finished just before (their
  /// event still queued) are reported finished first: the registry, not the mailbox, decides.
  private func abortStragglers(_ run: inout RunState) {
    let (finished, aborted) = registry.abortAll()
    var announced = run.tasksFinished
    for name in finished {
      if let index = announced.firstIndex(of: name) {
        announced.remove(at: index)
      } else {
        emit(run, .taskFinished(name))
      }
    }
    run.tasksFinished = finished
    for name in aborted {
      run.tasksAborted.append(name)
      emit(run, .taskAborted(name))
    }
  }

  /// Step 6. Returns the signal if the process was forced to exit meanwhile.
  private func persistAll(_ run: inout RunState, runner: TimedStepRunner<CoordinatorEvent>) async
    -> ShutdownSignal?
  {
    let hooks = hooks.withLock { hooks in
      defer { hooks.persistence = [] }
      return hooks.persistence
    }
    let clean = run.isCleanSoFar
    let start = clock.elapsed()
    for (index, hook) in hooks.enumerated() {
      guard let store else {
        record(&run, PersistResult(name: hook.name, outcome: .skipped(reason: "no state store")))
        continue
      }
      let left = configuration.persistenceBudget - (clock.elapsed() - start)
      guard left > .zero else {
        record(&run, PersistResult(name: hook.name, outcome: .skipped(reason: "persistence budget spent")))
        continue
      }
      let produced = BytesBox()
      var forcedBy: ShutdownSignal?
      let result = await runner.run(
        name: "persist \(hook.name)", limit: min(hook.timeout, left), wrap: { .step($0) },
        unwrap: { if case .step(let step) = $0 { step } else { nil } },
        onOther: { event in
          if case .forced(let signal) = absorb(&run, event) {
            forcedBy = signal
            return true
          }
          return false
        }
      ) { produced.set(try await hook.produce()) }
      if let forcedBy {
        record(&run, PersistResult(name: hook.name, outcome: .skipped(reason: "forced exit while running")))
        for rest in hooks[(index + 1)...] {
          record(&run, PersistResult(name: rest.name, outcome: .skipped(reason: "forced exit")))
        }
        return forcedBy
      }
      switch result.outcome {
      case .done:
        let bytes = produced.get() ?? []
        do {
          try store.save(name: hook.name, bytes: bytes, clean: clean)
          record(&run, PersistResult(name: hook.name, outcome: .done, bytes: bytes.count, clean: clean))
        } catch {
          record(&run, PersistResult(name: hook.name, outcome: .failed(String(describing: error))))
        }
      case .failed(let message):
        record(&run, PersistResult(name: hook.name, outcome: .failed(message)))
      case .timedOut:
        record(&run, PersistResult(name: hook.name, outcome: .timedOut(stillRunning: !result.finished.isSet)))
      case .forced:
        continue  // handled above
      }
    }
    return nil
  }

  private func record(_ run: inout RunState, _ result: PersistResult) {
    run.persistence.append(result)
    emit(run, .persisted(result))
  }

  /// Step 7.
  private func finish(_ run: inout RunState) -> ShutdownReport {
    setPhase(&run, .stopped)
    let codes = configuration.exitCodes
    let report = run.report(duration: clock.elapsed() - run.start) { report in
      if let signal = report.escalatedBy { return codes.forced(by: signal) }
      return report.isClean ? codes.clean : codes.unclean
    }
    emit(run, .exitCode(report.exitCode))
    return report
  }

  /// The 3rd signal: abort everything, skip what is left, and return at once. (The caller was
  /// already told through `onForcedExit` by the forwarding task.)
  private func forcedExit(_ run: inout RunState, by signal: ShutdownSignal) -> ShutdownReport {
    run.forcedBy = signal
    if run.waitEnded == .allDone { run.waitEnded = .forced }
    let code = configuration.exitCodes.forced(by: signal)
    emit(run, .forcedExit(code: code))
    abortStragglers(&run)
    for step in cleanup.takeSteps() {
      run.cleanup.append(
        CleanupResult(name: step.name, outcome: .skipped(reason: "forced exit"), allowed: .zero))
      emit(run, .cleanupStep(run.cleanup[run.cleanup.count - 1]))
    }
    let hooks = hooks.withLock { hooks in
      defer { hooks.persistence = [] }
      return hooks.persistence
    }
    for hook in hooks {
      record(&run, PersistResult(name: hook.name, outcome: .skipped(reason: "forced exit")))
    }
    run.connectionsLeft = connections.activeCount
    setPhase(&run, .stopped)
    let report = run.report(duration: clock.elapsed() - run.start) { _ in code }
    emit(run, .exitCode(code))
    return report
  }

  // MARK: events

  /// What a wait during the shutdown learned from one event.
  private enum Absorbed {
    /// Not a signal: for the phase to handle.
    case event(CoordinatorEvent)
    /// The 2nd rung: stop waiting.
    case escalated
    /// The 3rd rung: exit now.
    case forced(ShutdownSignal)
  }

  private func nextDuringShutdown(_ run: inout RunState) async -> Absorbed {
    while true {
      let absorbed = absorb(&run, await mailbox.next())
      if case .event(.signal) = absorbed { continue }
      return absorbed
    }
  }

  /// Handles signals, requests and cancellation during a shutdown; passes everything else on.
  private func absorb(_ run: inout RunState, _ event: CoordinatorEvent) -> Absorbed {
    switch event {
    case .signal(let signal, let level):
      run.signals.append(signal)
      emit(run, .signalReceived(signal, ordinal: level))
      guard level > 0 else {
        handleUnaryAndReload(signal)
        return .event(event)
      }
      if level >= 3 { return .forced(signal) }
      if level == 2, run.escalatedBy == nil {
        escalate(&run, signal)
        return .escalated
      }
      return .event(event)
    case .callerCancelled:
      guard run.escalatedBy == nil, !run.escalatedByCancellation else { return .event(event) }
      _ = ladder.withLock { $0.raise(to: 2) }
      escalate(&run, nil)
      return .escalated
    case .requested, .signalsFinished:
      return .event(event)  // already shutting down
    case .timer, .taskFinished, .tasksDone, .connectionsDrained, .step:
      return .event(event)
    }
  }

  /// The 2nd rung: remember who escalated (a signal, or `nil` for the caller's cancellation).
  private func escalate(_ run: inout RunState, _ signal: ShutdownSignal?) {
    if let signal { run.escalatedBy = signal } else { run.escalatedByCancellation = true }
    emit(run, .escalated(signal))
  }

  /// A signal outside the ladder: reload, or ignore.
  private func handleUnaryAndReload(_ signal: ShutdownSignal) {
    let time: Duration? = nil
    if configuration.reloadSignals.contains(signal) {
      emit(time, .reloadRequested(signal))
      hooks.withLock { $0.reload }?(signal)
    } else {
      emit(time, .signalIgnored(signal))
    }
  }

  private func setPhase(_ run: inout RunState, _ phase: ShutdownPhase) {
    phaseSender.sendReplace(phase)
    run.phases.append(PhaseTime(phase, at: clock.elapsed() - run.start))
    emit(run, .phaseChanged(phase))
  }

  private func emit(_ run: RunState, _ kind: ShutdownEvent.Kind) {
    emit(run.trigger == nil ? nil : clock.elapsed() - run.start, kind)
  }

  private func emit(_ time: Duration?, _ kind: ShutdownEvent.Kind) {
    observer?(ShutdownEvent(time: time, kind: kind))
  }

  /// Reads the signal sequence in its own task, climbs the ladder for shutdown signals, and calls
  /// `onForcedExit` at once on the 3rd: whatever `run()` is doing, the caller hears it now.
  private func startForwarding() -> Task<Void, Never> {
    let (signals, mailbox) = (signals, mailbox)
    let (shutdownSignals, codes) = (configuration.shutdownSignals, configuration.exitCodes)
    return spawnTask(name: "shutdown: signals") { [self] in
      for await signal in signals {
        guard shutdownSignals.contains(signal) else {
          mailbox.push(.signal(signal, level: 0))
          continue
        }
        let level = ladder.withLock { $0.climb() }
        if level == 3 { hooks.withLock { $0.forcedExit }?(codes.forced(by: signal)) }
        mailbox.push(.signal(signal, level: level))
      }
      if !Task.isCancelled { mailbox.push(.signalsFinished) }
    }
  }
}

// MARK: - state

/// What reports into the coordinator's mailbox.
enum CoordinatorEvent: Sendable {
  enum Timer: Sendable {
    case drainDelay
    case grace
  }

  /// A signal, with the rung of the ladder it reached (0 for a signal outside the ladder).
  case signal(ShutdownSignal, level: Int)
  case requested(level: Int)
  case signalsFinished
  case callerCancelled
  case timer(Timer)
  case taskFinished(String)
  case tasksDone
  case connectionsDrained
  case step(StepEvent)
}

/// The escalation ladder: how many shutdown requests have arrived (1 graceful, 2 escalate, 3 force).
private struct Ladder {
  var level = 0

  /// One more shutdown signal; returns the new rung.
  mutating func climb() -> Int {
    level += 1
    return level
  }

  /// At least `target` (a request, or the caller's cancellation); returns the new rung, or nil if
  /// the ladder was already there.
  mutating func raise(to target: Int) -> Int? {
    guard level < target else { return nil }
    level = target
    return level
  }
}

private struct Hooks {
  var stopAccepting: (@Sendable () -> Void)?
  var stopAcceptingAsync: (timeout: Duration, body: @Sendable () async -> Void)?
  var reload: (@Sendable (ShutdownSignal) -> Void)?
  var forcedExit: (@Sendable (Int32) -> Void)?
  var persistence: [PersistenceHook] = []
}

private struct PersistenceHook: Sendable {
  var name: String
  var timeout: Duration
  var produce: @Sendable () async throws -> [UInt8]
}

/// The bytes a persistence hook produced, handed from its task to the coordinator.
private final class BytesBox: Sendable {
  private let value = Lock<[UInt8]?>(nil)
  func set(_ bytes: [UInt8]) { value.withLock { $0 = bytes } }
  func get() -> [UInt8]? { value.withLock { $0 } }
}

/// The named tasks spawned through the coordinator, in spawn order, with their `Task`s so that
/// the stragglers can be cancelled at the deadline.
private final class TaskRegistry: Sendable {
  private struct Entry {
    var id: UInt64
    var name: String
    var task: Task<Void, any Error>?
  }

  private struct State {
    var nextID: UInt64 = 0
    var entries: [Entry] = []
    var reporting = false
    /// Names that ended while reporting, in the order they ended.
    var finished: [String] = []
  }

  private let state = Lock(State())

  func add(_ name: String) -> UInt64 {
    state.withLock { state in
      let id = state.nextID
      state.nextID += 1
      state.entries.append(Entry(id: id, name: name))
      return id
    }
  }

  /// Stores the task's handle, unless it has already ended.
  func attach(_ task: Task<Void, any Error>, to id: UInt64) {
    let endedAlready = state.withLock { state -> Bool in
      guard let index = state.entries.firstIndex(where: { $0.id == id }) else { return true }
      state.entries[index].task = task
      return false
    }
    _ = endedAlready
  }

  /// The task ended. Returns true when the shutdown wants to hear of it.
  func remove(_ id: UInt64) -> Bool {
    state.withLock { state in
      guard let index = state.entries.firstIndex(where: { $0.id == id }) else { return false }
      let entry = state.entries.remove(at: index)
      if state.reporting { state.finished.append(entry.name) }
      return state.reporting
    }
  }

  /// From now on, ending tasks are reported (the shutdown's wait began).
  func startReporting() { state.withLock { $0.reporting = true } }

  var count: Int { state.withLock { $0.entries.count } }

  /// Ends the reporting in one step: returns the names that finished while reporting, and cancels
  /// every task still registered, returning their names in spawn order. Tasks ending after this are
  /// no longer reported.
  func abortAll() -> (finished: [String], aborted: [String]) {
    let (finished, entries) = state.withLock { state in
      defer {
        state.entries = []
        state.reporting = false
      }
      return (state.finished, state.entries)
    }
    for entry in entries { entry.task?.cancel() }
    return (finished, entries.map(\.name))
  }
}

/// Everything one `run()` learns, turned into the report at the end.
private struct RunState {
  var trigger: ShutdownTrigger?
  var start: Duration = .zero
  var signals: [ShutdownSignal] = []
  var phases: [PhaseTime] = []
  var tasksFinished: [String] = []
  var tasksAborted: [String] = []
  var connectionsDrained = 0
  var connectionsLeft = 0
  var waitEnded: WaitEnd = .allDone
  var cleanup: [CleanupResult] = []
  var persistence: [PersistResult] = []
  var escalatedBy: ShutdownSignal?
  var escalatedByCancellation = false
  var forcedBy: ShutdownSignal?

  /// The clean-shutdown marker snapshots are saved with: nothing aborted, nothing left open, no
  /// escalation, every cleanup step done.
  var isCleanSoFar: Bool {
    tasksAborted.isEmpty && connectionsLeft == 0 && escalatedBy == nil && !escalatedByCancellation
      && forcedBy == nil && waitEnded == .allDone && cleanup.allSatisfy(\.outcome.isDone)
  }

  func report(duration: Duration, exitCode: (ShutdownReport) -> Int32) -> ShutdownReport {
    var report = ShutdownReport(
      trigger: trigger ?? .requested, signals: signals, phases: phases, tasksFinished: tasksFinished,
      tasksAborted: tasksAborted, connectionsDrained: connectionsDrained, connectionsLeft: connectionsLeft,
      waitEnded: waitEnded, cleanup: cleanup, persistence: persistence, escalatedBy: escalatedBy,
      forcedBy: forcedBy, exitCode: 0, duration: duration)
    report.exitCode = exitCode(report)
    return report
  }
}
