import Foundation
import Patterns
import Testing

@Suite("Simulation run loop")
struct SimulationTests {
  @Test func readyJobs_runFirstInFirstOut() throws {
    let result = Simulation.run { _ in
      let order = Recorder()
      await withTaskGroup(of: Void.self) { group in
        for index in 0..<3 {
          group.addTask {
            for step in 0..<2 {
              order.append("\(index).\(step)")
              await Task.yield()
            }
          }
        }
      }
      return order.values
    }
    #expect(try result.get() == ["0.0", "1.0", "2.0", "0.1", "1.1", "2.1"])
    #expect(result.foreignEnqueues == 0)
  }

  @Test func sameSeed_sameOrder_andSomeSeedDiffersFromFIFO() throws {
    func order(seed: UInt64) throws -> [String] {
      try Simulation.run(seed: seed) { _ in
        let order = Recorder()
        await withTaskGroup(of: Void.self) { group in
          for index in 0..<6 { group.addTask { order.append("\(index)") } }
        }
        return order.values
      }.get()
    }
    let fifo = try order(seed: 0)
    #expect(fifo == ["0", "1", "2", "3", "4", "5"])
    for seed: UInt64 in 1...5 { #expect(try order(seed: seed) == order(seed: seed)) }
    #expect(try (1...20).contains { try order(seed: UInt64($0)) != fifo })
    #expect(try Set(order(seed: 7)) == Set(fifo))
  }

  @Test func deadlock_isReported_namingTheWaiter_andTheRunReturns() throws {
    var reported: [DeadlockReport] = []
    let result = Simulation.run(onDeadlock: { reported.append($0) }) { clock in
      try await clock.sleep(for: .seconds(2))
      let neverCancelled = CancellationToken()
      await neverCancelled.cancelled()  // nobody will ever cancel it
      return clock.now.offset
    }
    #expect(result.deadlocks.count == 1)
    #expect(reported.map(\.description) == result.deadlocks.map(\.description))
    let report = try #require(result.deadlocks.first)
    #expect(report.time == .seconds(2))
    #expect(report.blocked.map(\.description) == ["main waits on token cancelled(); token not cancelled"])
    #expect(try result.get() == .seconds(2))  // unwound: the wait ended and main went on
  }

  @Test func deadlock_namesEveryBlockedTask_oldestWaitFirst() throws {
    let result = Simulation.run { _ in
      let token = CancellationToken()
      await withTaskGroup(of: Void.self) { group in
        group.addTask(name: "worker-1") { await token.cancelled() }
        group.addTask(name: "worker-2") { await token.childToken().cancelled() }
      }
    }
    #expect(result.deadlocks.first?.blocked.map(\.task) == ["worker-1", "worker-2"])
    #expect(result.value != nil)
  }

  @Test func spawnTask_keepsTheSimulationExecutor() throws {
    let result = Simulation.run { clock in
      let child = spawnTask(name: "spawned") {
        try await clock.sleep(for: .seconds(5))
        return Task.name ?? "?"
      }
      return try await (child.value, clock.now.offset)
    }
    let (name, now) = try result.get()
    #expect(name == "spawned")
    #expect(now == .seconds(5))
    #expect(result.foreignEnqueues == 0)
  }

  @Test func tasksStillSleepingWhenMainReturns_areNamedAsLeftovers_andEnded() throws {
    let ended = Recorder()
    let result = Simulation.run { clock in
      spawnTask(name: "forgotten") {
        do { try await clock.sleep(for: .seconds(10)) } catch { ended.append("cancelled") }
      }
      try await clock.sleep(for: .seconds(1))
    }
    #expect(result.leftovers.map(\.task) == ["forgotten"])
    #expect(result.leftovers.first?.waitsOn == "sleep until 10.0 seconds")
    #expect(ended.values == ["cancelled"])
    #expect(result.endTime == .seconds(1))
  }

  @Test func secondsOfVirtualTime_needNoWallTime() throws {
    let result = Simulation.run { clock in
      for _ in 0..<1000 { try await clock.sleep(for: .seconds(3600)) }
      return clock.now.offset
    }
    #expect(try result.get() == .seconds(3_600_000))
  }
}

@Suite("Simulation guard against other threads")
struct ForeignThreadTests {
  @Test func aJobEnqueuedFromAnotherThread_isCounted() throws {
    let result = Simulation.run { clock in
      let woken = Recorder()
      let mainSuspended = DispatchSemaphore(value: 0)
      // Keeps the run loop busy in virtual time until the other thread has woken main. One thread
      // runs the jobs, so this child starts only once main's job has ended: main is then suspended.
      async let poll: Void = {
        mainSuspended.signal()
        while woken.values.isEmpty { try? await clock.sleep(for: .milliseconds(1)) }
      }()
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread {
          // Resuming before main suspends would let it carry on without a job; waiting for the
          // signal makes the wake-up a job enqueued from this thread, however the OS schedules it.
          mainSuspended.wait()
          continuation.resume()
        }.start()
      }
      woken.append("main")
      await poll
    }
    #expect(result.value != nil)
    #expect(result.foreignEnqueues >= 1)
  }
}
