import Patterns
import Synchronization
import Testing

/// Every event the coordinator reported, in order.
final class EventLog: Sendable {
  private let storage = Mutex<[ShutdownEvent]>([])
  func record(_ event: ShutdownEvent) { storage.withLock { $0.append(event) } }
  var events: [ShutdownEvent] { storage.withLock { $0 } }
  var phases: [ShutdownPhase] {
    events.compactMap { if case .phaseChanged(let phase) = $0.kind { phase } else { nil } }
  }
}

/// A coordinator on `clock` with `script` as its signals.
func makeShutdown(
  _ clock: VirtualClock, _ script: [ScriptedSignals.Delivery],
  configuration: ShutdownConfiguration = ShutdownConfiguration(grace: .seconds(10)),
  store: (any StateStore)? = nil, log: EventLog = EventLog()
) -> GracefulShutdown {
  let signals = ScriptedSignals.start(script, clock: clock)
  return GracefulShutdown(
    clock: clock, signals: signals.signals, configuration: configuration, store: store, observer: log.record)
}

/// A task that ignores its token and runs until its Swift task is cancelled.
func straggler(_ clock: VirtualClock) -> @Sendable (CancellationToken) async throws -> Void {
  { _ in try await clock.sleep(for: .seconds(3600)) }
}

@Suite("GracefulShutdown")
struct GracefulShutdownTests {
  @Test func cleanShutdown_exitsZero_withThePhasesInOrder_andSavesACleanSnapshot() throws {
    let log = EventLog()
    let store = InMemoryStateStore()
    let (report, phase) = try simulate { clock in
      let shutdown = makeShutdown(clock, [.init(at: .seconds(1), .terminate)], store: store, log: log)
      shutdown.spawn(name: "worker") { token in
        await token.cancelled()
        try await clock.sleep(for: .seconds(2))  // finishes the unit in hand
      }
      shutdown.cleanup.register(name: "database pool", timeout: .seconds(1)) {
        try await clock.sleep(for: .milliseconds(500))
      }
      shutdown.persist(name: "counters", timeout: .seconds(1)) { [42] }
      let report = await shutdown.run()
      return (report, shutdown.phase)
    }
    #expect(report.exitCode == 0)
    #expect(report.isClean)
    #expect(report.trigger == .signal(.terminate))
    #expect(report.tasksFinished == ["worker"])
    #expect(report.tasksAborted.isEmpty)
    #expect(report.waitEnded == .allDone)
    #expect(
      report.phases == [
        PhaseTime(.draining, at: .zero), PhaseTime(.cleaningUp, at: .seconds(2)),
        PhaseTime(.persisting, at: .milliseconds(2500)), PhaseTime(.stopped, at: .milliseconds(2500)),
      ])
    #expect(report.cleanup.map(\.outcome) == [.done])
    #expect(report.persistence == [PersistResult(name: "counters", outcome: .done, bytes: 1, clean: true)])
    #expect(store.load(name: "counters") == .clean([42]))
    #expect(phase == .stopped)
    #expect(log.phases == [.draining, .cleaningUp, .persisting, .stopped])
    let kinds = log.events.map(\.kind)
    #expect(kinds.first == .signalReceived(.terminate, ordinal: 1))
    #expect(kinds.contains(.listenerClosed(inFlight: 0)))
    #expect(kinds.contains(.tokenCancelled))
    #expect(kinds.last == .exitCode(0))
  }

  @Test func wait_endsTheMomentTheLastTaskAndConnectionEnd_neverSleepingOutTheGrace() throws {
    let (report, end) = try simulate { clock in
      let shutdown = makeShutdown(
        clock, [.init(at: .seconds(1), .terminate)], configuration: ShutdownConfiguration(grace: .seconds(30))
      )
      shutdown.spawn(name: "fast") { token in
        await token.cancelled()
        try await clock.sleep(for: .seconds(1))
      }
      shutdown.spawn(name: "slow") { token in
        await token.cancelled()
        try await clock.sleep(for: .seconds(4))
      }
      hold(shutdown.connections.enter(), for: .seconds(3), clock)
      let report = await shutdown.run()
      return (report, clock.now.offset)
    }
    #expect(report.tasksFinished == ["fast", "slow"])
    #expect(report.connectionsDrained == 1)
    #expect(report.time(of: .cleaningUp) == .seconds(4))  // "slow" ended 4 s after the signal, not 30
    #expect(end == .seconds(5))
    #expect(report.exitCode == 0)
  }

  @Test func straggler_isAbortedAtTheDeadline_andNamed_exitCodeOne_snapshotUnclean() throws {
    let store = InMemoryStateStore()
    let report = try simulate { clock in
      let shutdown = makeShutdown(
        clock, [.init(at: .seconds(1), .terminate)], configuration: ShutdownConfiguration(grace: .seconds(5)),
        store: store)
      shutdown.spawn(name: "slow request", straggler(clock))
      shutdown.spawn(name: "quick request") { _ in try await clock.sleep(for: .seconds(2)) }
      shutdown.persist(name: "counters", timeout: .seconds(1)) { [7] }
      return await shutdown.run()
    }
    #expect(report.tasksAborted == ["slow request"])
    #expect(report.tasksFinished == ["quick request"])
    #expect(report.waitEnded == .deadline)
    #expect(report.time(of: .cleaningUp) == .seconds(5))
    #expect(report.exitCode == 1)
    #expect(store.load(name: "counters") == .unclean([7]))
  }

  @Test(arguments: [ShutdownSignal.terminate, .interrupt])
  func secondSignal_endsTheWaitAtOnce_abortsTheRest_stillCleansUp_andExitsWith128PlusN(signal: ShutdownSignal)
    throws
  {
    let report = try simulate { clock in
      let shutdown = makeShutdown(
        clock, [.init(at: .seconds(1), signal), .init(at: .seconds(3), signal)],
        configuration: ShutdownConfiguration(grace: .seconds(30)), store: InMemoryStateStore())
      shutdown.spawn(name: "stuck handler", straggler(clock))
      shutdown.cleanup.register(name: "database pool", timeout: .seconds(5)) {
        try await clock.sleep(for: .seconds(1))
      }
      shutdown.persist(name: "counters", timeout: .seconds(1)) { [1] }
      return await shutdown.run()
    }
    #expect(report.escalatedBy == signal)
    #expect(report.waitEnded == .escalated)
    #expect(report.tasksAborted == ["stuck handler"])
    #expect(report.time(of: .cleaningUp) == .seconds(2))
    #expect(report.cleanup.map(\.outcome) == [.done])
    #expect(report.persistence.map(\.outcome) == [.done])
    #expect(report.exitCode == 128 + signal.number)
    #expect(report.exitCode == (signal == .terminate ? 143 : 130))
    #expect(!report.isForced)
  }

  @Test func thirdSignal_forcesTheExitAtOnce_andTellsTheCallerImmediately() throws {
    let forcedAt = Mutex<(code: Int32, time: Duration)?>(nil)
    let (report, end) = try simulate { clock in
      let shutdown = makeShutdown(
        clock,
        [
          .init(at: .seconds(1), .interrupt), .init(at: .seconds(2), .interrupt),
          .init(at: .seconds(3), .interrupt),
        ],
        configuration: ShutdownConfiguration(grace: .seconds(30)), store: InMemoryStateStore())
      shutdown.onForcedExit { code in forcedAt.withLock { $0 = (code, clock.now.offset) } }
      shutdown.spawn(name: "stuck handler", straggler(clock))
      shutdown.cleanup.register(name: "database pool", timeout: .seconds(20)) {
        try await clock.sleep(for: .seconds(10))
      }
      shutdown.persist(name: "counters", timeout: .seconds(1)) { [1] }
      let report = await shutdown.run()
      return (report, clock.now.offset)
    }
    let forced = try #require(forcedAt.withLock { $0 })
    #expect(forced.code == 130)
    #expect(forced.time == .seconds(3))
    #expect(end == .seconds(3))  // run() returned at once, without waiting out the 10 s step
    #expect(report.forcedBy == .interrupt)
    #expect(report.escalatedBy == .interrupt)
    #expect(report.isForced)
    #expect(report.exitCode == 130)
    #expect(report.cleanup.map(\.outcome) == [.skipped(reason: "forced exit while running")])
    #expect(report.persistence.map(\.outcome) == [.skipped(reason: "forced exit")])
    #expect(report.phases.last == PhaseTime(.stopped, at: .seconds(2)))
    #expect(report.signals == [.interrupt, .interrupt, .interrupt])
  }

  @Test func hangup_callsTheReloadHandler_andDoesNotShutDown() throws {
    let reloads = Recorder()
    let (report, phaseAfterReload) = try simulate { clock in
      let shutdown = makeShutdown(
        clock, [.init(at: .seconds(1), .hangup), .init(at: .seconds(5), .terminate)])
      shutdown.onReload { signal in reloads.append("\(signal) at \(clock.now.offset)") }
      let probe = spawnTask(name: "readiness probe") { () async throws -> ShutdownPhase in
        try await clock.sleep(for: .seconds(3))
        return shutdown.phase
      }
      let report = await shutdown.run()
      return (report, try await probe.value)
    }
    #expect(reloads.values == ["SIGHUP at 1.0 seconds"])
    #expect(phaseAfterReload == .running)
    #expect(report.trigger == .signal(.terminate))
    #expect(report.signals == [.hangup, .terminate])
    #expect(report.exitCode == 0)
  }

  @Test func drainDelay_keepsAccepting_whileReadinessAlreadySaysDraining() throws {
    let listenerClosed = Recorder()
    let (during, after) = try simulate { clock in
      let shutdown = makeShutdown(
        clock, [.init(at: .seconds(1), .terminate)],
        configuration: ShutdownConfiguration(grace: .seconds(10), drainDelay: .seconds(2)))
      shutdown.onStopAccepting { listenerClosed.append("closed at \(clock.now.offset)") }
      let phases = shutdown.phases()
      let probe = spawnTask(name: "probe") { () async throws -> [String] in
        try await clock.sleep(for: .milliseconds(2500))
        let during = "\(phases.borrow()), accepted: \(shutdown.connections.enter() != nil)"
        try await clock.sleep(for: .seconds(1))
        let after = "\(phases.borrow()), accepted: \(shutdown.connections.enter() != nil)"
        return [during, after]
      }
      _ = await shutdown.run()
      let seen = try await probe.value
      return (seen[0], seen[1])
    }
    #expect(during == "draining, accepted: true")
    #expect(after == "stopped, accepted: false")
    #expect(listenerClosed.values == ["closed at 3.0 seconds"])
  }

  @Test func asyncStopAccepting_isAwaitedBeforeTheTrackerCloses_soAConnectionItAcceptsIsWaitedFor() throws {
    let log = EventLog()
    let seen = Recorder()
    let report = try simulate { clock in
      let shutdown = makeShutdown(clock, [.init(at: .seconds(1), .terminate)], log: log)
      shutdown.onStopAccepting(timeout: .seconds(1)) {
        // The listener's thread accepts one queued connection, then closes the listener.
        try? await clock.sleep(for: .milliseconds(100))
        let entry = shutdown.connections.enter()
        seen.append("accepted while stopping: \(entry != nil)")
        hold(entry, for: .seconds(2), clock)
      }
      let report = await shutdown.run()
      seen.append("accepted after: \(shutdown.connections.enter() != nil)")
      return report
    }
    #expect(seen.values == ["accepted while stopping: true", "accepted after: false"])
    #expect(log.events.map(\.kind).contains(.listenerClosed(inFlight: 1)))
    #expect(report.connectionsDrained == 1)
    #expect(report.time(of: .cleaningUp) == .milliseconds(2100))  // waited for the connection
    #expect(report.exitCode == 0)
  }

  @Test func asyncStopAccepting_thatHangs_isGivenUpAtItsTimeout_andTheShutdownGoesOn() throws {
    let report = try simulate { clock in
      let shutdown = makeShutdown(clock, [.init(at: .seconds(1), .terminate)])
      shutdown.onStopAccepting(timeout: .milliseconds(500)) { try? await clock.sleep(for: .seconds(3600)) }
      return await shutdown.run()
    }
    #expect(report.time(of: .cleaningUp) == .milliseconds(500))
    #expect(report.exitCode == 0)
  }

  @Test func asyncStopAccepting_aThirdSignalWhileItRuns_forcesTheExit() throws {
    let report = try simulate { clock in
      let shutdown = makeShutdown(
        clock,
        [
          .init(at: .seconds(1), .interrupt), .init(at: .seconds(2), .interrupt),
          .init(at: .seconds(3), .interrupt),
        ])
      shutdown.onStopAccepting(timeout: .seconds(60)) { try? await clock.sleep(for: .seconds(3600)) }
      return await shutdown.run()
    }
    #expect(report.forcedBy == .interrupt)
    #expect(report.exitCode == 130)
  }

  @Test func connectionsStillOpenAtTheDeadline_areCountedAsLeft_exitCodeOne() throws {
    let report = try simulate { clock in
      let shutdown = makeShutdown(
        clock, [.init(at: .seconds(1), .terminate)], configuration: ShutdownConfiguration(grace: .seconds(5)))
      hold(shutdown.connections.enter(), for: .seconds(2), clock)
      hold(shutdown.connections.enter(), for: .seconds(3600), clock)
      return await shutdown.run()
    }
    #expect(report.connectionsDrained == 1)
    #expect(report.connectionsLeft == 1)
    #expect(report.waitEnded == .deadline)
    #expect(report.exitCode == 1)
  }

  @Test func failingAndOverrunningCleanupSteps_doNotStopTheOthers_exitCodeOne() throws {
    let report = try simulate { clock in
      let shutdown = makeShutdown(clock, [.init(at: .seconds(1), .terminate)])
      shutdown.cleanup.register(name: "database pool", timeout: .seconds(1)) {}
      shutdown.cleanup.register(name: "queue consumer", timeout: .seconds(1)) {
        await nonCancellableStep(clock, .seconds(60))
      }
      shutdown.cleanup.register(name: "cache flush", timeout: .seconds(1)) { throw Boom() }
      return await shutdown.run()
    }
    #expect(report.cleanup.map(\.name) == ["cache flush", "queue consumer", "database pool"])
    #expect(report.cleanup.map(\.outcome) == [.failed("Boom()"), .timedOut(stillRunning: true), .done])
    #expect(report.exitCode == 1)
  }

  @Test func timers_work_whenRunIsCalledFromAnAlreadyCancelledTask() throws {
    let report = try simulate { clock in
      let script = ScriptedSignals.start([.init(at: .seconds(100), .terminate)], clock: clock)
      let shutdown = GracefulShutdown(clock: clock, signals: script.signals, store: InMemoryStateStore())
      shutdown.cleanup.register(name: "database pool", timeout: .seconds(5)) {
        try await clock.sleep(for: .seconds(1))
      }
      shutdown.persist(name: "counters", timeout: .seconds(1)) { [1] }
      let caller = spawnTask(name: "cancelled caller") { () async -> ShutdownReport in
        withUnsafeCurrentTask { $0?.cancel() }
        return await shutdown.run()
      }
      let report = await caller.value
      script.task.cancel()
      return report
    }
    // The caller's cancellation starts the shutdown and counts as the 2nd rung: no waiting.
    #expect(report.trigger == .callerCancelled)
    #expect(report.waitEnded == .escalated)
    // The step got its second: a Task.sleep in the cancelled caller would have thrown at once.
    #expect(
      report.cleanup == [
        CleanupResult(name: "database pool", outcome: .done, allowed: .seconds(5), took: .seconds(1))
      ])
    #expect(report.persistence.map(\.outcome) == [.done])
    #expect(report.time(of: .persisting) == .seconds(1))
    #expect(report.exitCode == 1)  // escalated, so not clean; no signal, so no 128 + n
  }

  @Test func finishedSignalSequence_isARequestToStop() throws {
    let report = try simulate { clock in
      await makeShutdown(clock, []).run()
    }
    #expect(report.trigger == .signalsFinished)
    #expect(report.exitCode == 0)
  }

  @Test func requestShutdown_startsTheShutdownWithoutASignal() throws {
    let report = try simulate { clock in
      let script = ScriptedSignals.start([.init(at: .seconds(100), .terminate)], clock: clock)
      let shutdown = GracefulShutdown(clock: clock, signals: script.signals)
      spawnTask(name: "requester") {
        try await clock.sleep(for: .seconds(2))
        shutdown.requestShutdown()
      }
      let report = await shutdown.run()
      script.task.cancel()
      return report
    }
    #expect(report.trigger == .requested)
    #expect(report.signals.isEmpty)
    #expect(report.exitCode == 0)
  }

  @Test func report_isTheSame_underEveryExploredSeed() throws {
    var reports: [ShutdownReport] = []
    for seed in UInt64(0)...40 {
      let result = Simulation.run(seed: seed) { clock in
        let shutdown = makeShutdown(
          clock, [.init(at: .seconds(1), .terminate)],
          configuration: ShutdownConfiguration(grace: .seconds(5)))
        shutdown.spawn(name: "slow request", straggler(clock))
        shutdown.spawn(name: "quick request") { token in
          await token.cancelled()
          try await clock.sleep(for: .seconds(1))
        }
        hold(shutdown.connections.enter(), for: .seconds(2), clock)
        shutdown.cleanup.register(name: "database pool", timeout: .seconds(1)) {}
        return await shutdown.run()
      }
      #expect(result.deadlocks.isEmpty, "seed \(seed)")
      reports.append(try result.get())
    }
    #expect(Set(reports).count == 1)
    #expect(reports[0].tasksAborted == ["slow request"])
    #expect(reports[0].tasksFinished == ["quick request"])
  }
}
