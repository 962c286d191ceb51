import Patterns
import Synchronization
import Testing

@Suite("VirtualClock")
struct VirtualClockTests {
  @Test func sleep_advancesVirtualTimeExactly() throws {
    let result = Simulation.run { clock in
      try await clock.sleep(for: .seconds(30))
      let afterFirst = clock.now.offset
      try await clock.sleep(for: .milliseconds(250))
      return [afterFirst, clock.now.offset]
    }
    #expect(try result.get() == [.seconds(30), .milliseconds(30_250)])
    #expect(result.endTime == .milliseconds(30_250))
  }

  @Test func equalDeadlines_wakeInTheOrderTheSleepsBegan() throws {
    let result = Simulation.run { clock in
      let order = Recorder()
      await withTaskGroup(of: Void.self) { group in
        for name in ["c", "a", "b", "d"] {
          group.addTask {
            try? await clock.sleep(until: .init(offset: .seconds(1)))
            order.append(name)
          }
        }
      }
      return order.values
    }
    #expect(try result.get() == ["c", "a", "b", "d"])
  }

  @Test func earlierDeadline_wakesFirst_whateverTheOrderOfSleeping() throws {
    let result = Simulation.run { clock in
      let order = Recorder()
      await withTaskGroup(of: Void.self) { group in
        for (name, ms) in [("slow", 300), ("fast", 100), ("middle", 200)] {
          group.addTask {
            try? await clock.sleep(for: .milliseconds(ms))
            order.append("\(name)@\(clock.now.offset)")
          }
        }
      }
      return order.values
    }
    #expect(try result.get() == ["fast@0.1 seconds", "middle@0.2 seconds", "slow@0.3 seconds"])
  }

  @Test func sleepUntilThePast_returnsWithoutWaiting() throws {
    let result = Simulation.run { clock in
      try await clock.sleep(for: .seconds(1))
      try await clock.sleep(until: .init(offset: .milliseconds(500)))
      try await clock.sleep(for: .zero)
      return clock.now.offset
    }
    #expect(try result.get() == .seconds(1))
  }

  @Test func cancellingASleepingTask_throwsCancellationError_andLeavesNoTimer() throws {
    let result = Simulation.run { clock in
      let sleeper = Task(name: "sleeper", executorPreference: ExecutorPreference.current) {
        try await clock.sleep(for: .seconds(60))
      }
      try await clock.sleep(for: .seconds(1))
      #expect(clock.pendingSleeps == 1)
      sleeper.cancel()
      let outcome = await sleeper.result
      return (outcome, clock.pendingSleeps, clock.now.offset)
    }
    let (outcome, pending, now) = try result.get()
    #expect(throws: CancellationError.self) { try outcome.get() }
    #expect(pending == 0)
    #expect(now == .seconds(1))  // the 60 s timer never fired
  }

  @Test func sleepInAnAlreadyCancelledTask_throwsAtOnce_andParksNothing() throws {
    let result = Simulation.run { clock in
      withUnsafeCurrentTask { $0?.cancel() }
      let error = await #expect(throws: CancellationError.self) { try await clock.sleep(for: .seconds(5)) }
      return (error != nil, clock.pendingSleeps, clock.now.offset)
    }
    let (threw, pending, now) = try result.get()
    #expect(threw)
    #expect(pending == 0)
    #expect(now == .zero)
  }
}

/// Collects strings from several tasks, in the order they arrive.
final class Recorder: Sendable {
  private let storage = Mutex<[String]>([])
  func append(_ value: String) { storage.withLock { $0.append(value) } }
  var values: [String] { storage.withLock { $0 } }
}
