import Patterns
import Testing

@Suite("CleanupStack")
struct CleanupStackTests {
  @Test func steps_runLastRegisteredFirst() throws {
    let (order, results) = try simulate { clock in
      let log = Recorder()
      let stack = CleanupStack()
      for name in ["database pool", "queue consumer", "cache flush"] {
        stack.register(name: name, timeout: .seconds(1)) { log.append(name) }
      }
      #expect(stack.names == ["cache flush", "queue consumer", "database pool"])
      let results = await stack.run(budget: .seconds(10), clock: clock)
      return (log.values, results)
    }
    #expect(order == ["cache flush", "queue consumer", "database pool"])
    #expect(results.map(\.name) == order)
    #expect(results.allSatisfy { $0.outcome == .done })
  }

  @Test func eachStep_getsTheSmallerOfItsTimeoutAndTheBudgetLeft_thenTheRestAreSkipped() throws {
    let (results, time) = try simulate { clock in
      let stack = CleanupStack()
      stack.register(name: "database pool", timeout: .seconds(10)) {}
      stack.register(name: "queue consumer", timeout: .seconds(10)) {
        try await clock.sleep(for: .seconds(60))
      }
      stack.register(name: "cache flush", timeout: .seconds(2)) { try await clock.sleep(for: .seconds(1)) }
      let results = await stack.run(budget: .seconds(5), clock: clock)
      return (results, clock.now.offset)
    }
    #expect(
      results == [
        CleanupResult(name: "cache flush", outcome: .done, allowed: .seconds(2), took: .seconds(1)),
        // 4 s of the budget were left: less than its own 10 s.
        CleanupResult(
          name: "queue consumer", outcome: .timedOut(stillRunning: false), allowed: .seconds(4),
          took: .seconds(4)),
        CleanupResult(
          name: "database pool", outcome: .skipped(reason: "cleanup budget spent"), allowed: .zero),
      ])
    #expect(time == .seconds(5))
  }

  @Test func failedStep_doesNotStopTheNext() throws {
    let results = try simulate { clock in
      let stack = CleanupStack()
      stack.register(name: "database pool", timeout: .seconds(1)) {}
      stack.register(name: "cache flush", timeout: .seconds(1)) { throw Boom() }
      return await stack.run(budget: .seconds(10), clock: clock)
    }
    #expect(results.map(\.outcome) == [.failed("Boom()"), .done])
  }

  @Test func stepIgnoringCancellation_isReportedTimedOutAndStillRunning_andRunReturnsAtItsTimeout() throws {
    let result = Simulation.run { clock in
      let stack = CleanupStack()
      stack.register(name: "database pool", timeout: .seconds(1)) {}
      stack.register(name: "stuck flush", timeout: .seconds(2)) {
        await nonCancellableStep(clock, .seconds(3600))
      }
      let results = await stack.run(budget: .seconds(10), clock: clock)
      return (results, clock.now.offset)
    }
    #expect(result.deadlocks.isEmpty)
    let (results, time) = try result.get()
    #expect(results.map(\.outcome) == [.timedOut(stillRunning: true), .done])
    #expect(time == .seconds(2))
    // The abandoned step is still asleep when the run ends: it was not waited for.
    #expect(result.leftovers.contains { $0.waitsOn.hasPrefix("sleep until") })
  }

  @Test func timers_workWhenTheCallingTaskIsAlreadyCancelled() throws {
    let (results, time) = try simulate { clock in
      let stack = CleanupStack()
      stack.register(name: "database pool", timeout: .seconds(3)) { try await clock.sleep(for: .seconds(60)) }
      stack.register(name: "cache flush", timeout: .seconds(5)) { try await clock.sleep(for: .seconds(1)) }
      let runner = spawnTask(name: "cancelled caller") { () async -> [CleanupResult] in
        withUnsafeCurrentTask { $0?.cancel() }
        return await stack.run(budget: .seconds(10), clock: clock)
      }
      let results = await runner.value
      return (results, clock.now.offset)
    }
    // In the cancelled task a Task.sleep would throw at once; here each step got its full time.
    #expect(results.map(\.outcome) == [.done, .timedOut(stillRunning: false)])
    #expect(results.map(\.took) == [.seconds(1), .seconds(3)])
    #expect(time == .seconds(4))
  }

  @Test func forced_skipsEveryStep_andRunsNone() throws {
    let (results, ran) = try simulate { clock in
      let ran = Flag()
      let stack = CleanupStack()
      stack.register(name: "database pool", timeout: .seconds(1)) { ran.set() }
      return (await stack.run(budget: .seconds(10), clock: clock, forced: true), ran.isSet)
    }
    #expect(results.map(\.outcome) == [.skipped(reason: "forced exit")])
    #expect(!ran)
  }

  @Test func run_takesTheSteps_soASecondRunRunsNothing() throws {
    let counts = try simulate { clock in
      let stack = CleanupStack()
      stack.register(name: "database pool", timeout: .seconds(1)) {}
      let first = await stack.run(budget: .seconds(1), clock: clock)
      let second = await stack.run(budget: .seconds(1), clock: clock)
      return [first.count, second.count]
    }
    #expect(counts == [1, 0])
  }
}
