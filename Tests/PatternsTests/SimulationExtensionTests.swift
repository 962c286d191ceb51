import Patterns
import Testing

/// The runtime's answers to code that cannot be shown as it is: a wait no primitive announces, a
/// loop that never lets time move, a call that blocks the only thread.
@Suite("Simulation: labelled waits, livelocks, blocked threads")
struct SimulationExtensionTests {
  @Test func labelledWait_isNamedInTheDeadlockReport_andUnwindingEndsIt() throws {
    let result = Simulation.run { _ in
      let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
      continuation.yield(1)
      var iterator = stream.makeAsyncIterator()
      var seen: [Int] = []
      while let value = await WaitReporting.labelled(
        "AsyncStream next", detail: { "continuation never finished" }, unwind: { continuation.finish() },
        { await iterator.next() })
      {
        seen.append(value)
      }
      return seen
    }
    #expect(result.deadlocks.count == 1)
    #expect(
      result.deadlocks.first?.blocked.map(\.description) == [
        "main waits on AsyncStream next; continuation never finished"
      ])
    #expect(try result.get() == [1])
  }

  @Test func labelledContinuation_isNamed_andAResumeAfterTheUnwindIsIgnored() throws {
    let holder = Lock<OnceContinuation?>(nil)
    let result = Simulation.run { _ in
      do {
        try await withLabelledContinuation("notified", detail: { "nobody will notify" }) { waiter in
          holder.withLock { $0 = waiter }
        }
        return "resumed"
      } catch {
        return "unwound: \(error is CancellationError)"
      }
    }
    #expect(
      result.deadlocks.first?.blocked.map(\.description) == ["main waits on notified; nobody will notify"])
    #expect(try result.get() == "unwound: true")
    #expect(holder.withLock { $0?.resume() } == false)  // already resumed once: no double resume
  }

  @Test func onceContinuation_resumedBeforeItParks_returnsAtOnce() throws {
    let result = Simulation.run { _ in
      try await withLabelledContinuation("ready at once") { waiter in waiter.resume() }
      return true
    }
    #expect(result.deadlocks.isEmpty)
    #expect(try result.get())
  }

  @Test func busyLoop_thatSwallowsCancellation_isStoppedAsALivelock_atItsInstant() throws {
    let result = Simulation.run(jobBudget: 5_000) { clock in
      await withTaskGroup(of: Void.self) { group in
        group.addTask(name: "ticker") {
          while true { try? await clock.sleep(for: .milliseconds(50)) }  // never leaves
        }
        try? await clock.sleep(for: .seconds(1))
        group.cancelAll()
      }
      return 0
    }
    let livelock = try #require(result.livelock)
    #expect(livelock.time == .seconds(1))
    #expect(livelock.jobs > 5_000)
    #expect(result.value == nil)
  }

  @Test func jobBudget_doesNotStopARunThatOnlyDoesALotOfWork() throws {
    let result = Simulation.run(jobBudget: 100) { clock in
      for _ in 0..<1_000 { try await clock.sleep(for: .milliseconds(1)) }
      return clock.now.offset
    }
    #expect(result.livelock == nil)
    #expect(try result.get() == .seconds(1))
  }

  @Test func cancelledSleeps_atOneInstant_stillThrowAtOnce_belowTheYieldThreshold() throws {
    let result = Simulation.run { clock in
      await withTaskGroup(of: Bool.self) { group in
        group.cancelAll()
        group.addTask { (try? await clock.sleep(for: .seconds(1))) == nil }
        return await group.next() ?? false
      }
    }
    #expect(try result.get())
  }

  @Test func blockThread_movesTheClock_andEveryoneElseRunsLate() throws {
    let result = Simulation.run { clock in
      let order = Recorder()
      await withTaskGroup(of: Void.self) { group in
        group.addTask(name: "heartbeat") {
          for _ in 0..<3 {
            try? await clock.sleep(for: .milliseconds(400))
            order.append("beat at \(clock.now.offset)")
          }
        }
        group.addTask(name: "blocker") {
          try? await clock.sleep(for: .milliseconds(100))
          clock.blockThread(for: .seconds(1))
          order.append("unblocked at \(clock.now.offset)")
        }
      }
      return order.values
    }
    // The beat due at 0.4 s wakes during the block but runs only when the thread is free, at 1.1 s.
    #expect(
      try result.get() == [
        "unblocked at 1.1 seconds", "beat at 1.1 seconds", "beat at 1.5 seconds", "beat at 1.9 seconds",
      ])
  }
}
