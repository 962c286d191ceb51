import Patterns
import Synchronization
import Testing

/// The connection tracker and the shutdown coordinator under real threads. What must hold however
/// the threads interleave: no connection is admitted after `close()` returned, a drain never misses
/// the last leave, no waiter is left behind; a shutdown with signals arriving in any phase returns,
/// accounts for every task exactly once, moves through its phases in order, and ends with the exit
/// code its report implies.
@Suite(.timeLimit(.minutes(2))) struct ShutdownStressTests {
  @Test func connectionTracker_enterAndLeaveOnManyThreads_whileClosingAndDraining() async {
    let tracker = ConnectionTracker()
    let closed = Flag()
    let admitted = StressCounter()
    let refused = StressCounter()
    let admittedAfterClose = StressCounter()
    let drainsReturned = StressCounter()
    let perTask = Stress.count(2000)
    let clock = ContinuousClock()

    await withTaskGroup(of: Void.self) { group in
      for worker in 0..<4 {
        group.addTask {
          var random = StressRandom(seed: UInt64(worker))
          for _ in 0..<perTask {
            let closedBefore = closed.isSet
            guard let entry = tracker.enter() else {
              refused.increment()
              continue
            }
            admitted.increment()
            if closedBefore { admittedAfterClose.increment() }
            if random.oneIn(4) { await Task.yield() }
            if random.oneIn(2) { entry.leave() }  // otherwise its deinit leaves
          }
        }
      }
      for drainer in 0..<3 {
        group.addTask {
          var random = StressRandom(seed: UInt64(100 + drainer))
          for _ in 0..<Stress.count(200) {
            let cancel = random.oneIn(3)
            _ = await Stress.maybeCancelled(cancel: cancel, yields: Int.random(in: 0..<3, using: &random)) {
              await tracker.drain(until: clock.now.advanced(by: .seconds(60)), clock: clock)
            }
            drainsReturned.increment()
          }
        }
      }
      group.addTask {
        for _ in 0..<Stress.count(300) { await Task.yield() }
        tracker.close()
        closed.set()
      }
    }
    tracker.close()
    // Everyone has left: a drain now must return 0 at once, and so must one racing nothing.
    let left = await tracker.drain(until: clock.now.advanced(by: .seconds(60)), clock: clock)
    #expect(left == 0)
    #expect(tracker.activeCount == 0)
    #expect(admittedAfterClose.count == 0)
    #expect(admitted.count + refused.count == 4 * perTask)
    #expect(drainsReturned.count == 3 * Stress.count(200))
    #expect(tracker.waiterCountForTesting == 0)
  }

  /// Many short drains racing the last leave: each must return 0 (not wait out its 60 s deadline).
  @Test func drain_racingTheLastLeave_onRealThreads_neverLosesTheWakeUp() async {
    let clock = ContinuousClock()
    for round in 0..<Stress.count(300) {
      let tracker = ConnectionTracker()
      let entry = tracker.enter()
      tracker.close()
      async let left = tracker.drain(until: clock.now.advanced(by: .seconds(60)), clock: clock)
      if round % 2 == 0 { await Task.yield() }
      entry?.leave()
      #expect(await left == 0)
      #expect(tracker.waiterCountForTesting == 0)
    }
  }

  @Test func coordinator_withSignalsArrivingInEveryPhase_onTheDefaultExecutor() async {
    let clock = ContinuousClock()
    for round in 0..<Stress.count(30) {
      var random = StressRandom(seed: UInt64(round))
      let (sender, signals) = MPSC<ShutdownSignal>.unboundedChannel()
      let forcedCalls = StressCounter()
      let shutdown = GracefulShutdown(
        clock: clock, signals: signals,
        configuration: ShutdownConfiguration(
          grace: .milliseconds(40), drainDelay: random.oneIn(2) ? .milliseconds(5) : .zero,
          cleanupBudget: .milliseconds(60), persistenceBudget: .milliseconds(30)),
        store: InMemoryStateStore())
      shutdown.onForcedExit { _ in forcedCalls.increment() }

      var names: [String] = []
      var handles: [Task<Void, any Error>] = []
      for index in 0..<6 {
        let name = "task \(index)"
        names.append(name)
        let straggles = random.oneIn(3)
        let work = Int.random(in: 0..<20, using: &random)
        handles.append(
          shutdown.spawn(name: name) { token in
            if straggles {
              try await Task.sleep(for: .seconds(3600))  // ends only when aborted
            } else {
              await token.cancelled()
              try await Task.sleep(for: .milliseconds(work))
            }
          })
      }
      for _ in 0..<3 {
        let entry = shutdown.connections.enter()
        let hold = Int.random(in: 0..<80, using: &random)
        Task {
          try? await Task.sleep(for: .milliseconds(hold))
          _ = entry
        }
      }
      for index in 0..<3 {
        let step = Int.random(in: 0..<30, using: &random)
        shutdown.cleanup.register(name: "step \(index)", timeout: .milliseconds(20)) {
          try await Task.sleep(for: .milliseconds(step))
        }
      }
      shutdown.persist(name: "state", timeout: .milliseconds(20)) { [UInt8(round % 256)] }

      // 1 to 3 signals, at moments that land in different phases from round to round.
      let count = Int.random(in: 1...3, using: &random)
      let delays = (0..<count).map { _ in Int.random(in: 0..<60, using: &random) }
      let signaler = Task {
        for delay in delays {
          try? await Task.sleep(for: .milliseconds(delay))
          try? sender.send(.terminate)
        }
      }

      let report = await shutdown.run()
      await signaler.value
      for handle in handles { _ = await handle.result }  // every aborted task did stop

      let accounted = report.tasksFinished + report.tasksAborted
      #expect(accounted.sorted() == names.sorted(), "round \(round): \(report)")
      #expect(Set(report.tasksFinished).isDisjoint(with: report.tasksAborted))
      #expect(report.phases.map(\.phase) == report.phases.map(\.phase).sorted())
      #expect(report.phases.last?.phase == .stopped)
      #expect(report.cleanup.count == 3)
      #expect(report.persistence.count == 1)
      #expect(forcedCalls.count <= 1)
      if report.isForced {
        #expect(forcedCalls.count == 1)
        #expect(report.exitCode == 143)
      } else if report.escalatedBy != nil {
        #expect(report.exitCode == 143)
      } else {
        #expect(report.exitCode == (report.isClean ? 0 : 1))
      }
      #expect(shutdown.connections.waiterCountForTesting == 0)
    }
  }
}
