import Patterns
import Synchronization
import Testing

/// Runs `body` in a simulation and returns its value; fails the test on a deadlock.
func simulate<T: Sendable>(
  _ body: @escaping @Sendable (VirtualClock) async throws -> T,
  sourceLocation: SourceLocation = #_sourceLocation
) throws -> T {
  let result = Simulation.run(body)
  #expect(result.deadlocks.isEmpty, "\(result.deadlocks)", sourceLocation: sourceLocation)
  #expect(result.foreignEnqueues == 0, sourceLocation: sourceLocation)
  return try result.get()
}

struct Boom: Error, Equatable {}

/// Calls `onDeinit` when it goes: shows that a closure holding it was released.
final class Probe: Sendable {
  let onDeinit: @Sendable () -> Void
  init(onDeinit: @escaping @Sendable () -> Void) { self.onDeinit = onDeinit }
  deinit { onDeinit() }
}

/// A count tests bump from any task.
final class Counter: Sendable {
  private let storage = Mutex(0)
  func increment() { storage.withLock { $0 += 1 } }
  var value: Int { storage.withLock { $0 } }
}

/// What a join returned, as a string tests can compare.
func describe<T>(_ outcome: Result<T, JoinError>?) -> String {
  switch outcome {
  case nil: "nil"
  case .success(let value)?: "\(value)"
  case .failure(.cancelled)?: "cancelled"
  case .failure(.failed(let error))?: "failed \(error)"
  }
}

@Suite("JoinSet")
struct JoinSetTests {
  @Test func joinNext_returnsResultsInCompletionOrder_notSpawnOrder() throws {
    let order = try simulate { clock in
      let set = JoinSet<String>()
      for (name, seconds) in [("slow", 3), ("fast", 1), ("middle", 2)] {
        set.spawn(name: name) {
          try await clock.sleep(for: .seconds(seconds))
          return name
        }
      }
      var order: [String] = []
      while let outcome = await set.joinNext() { order.append(describe(outcome)) }
      return order
    }
    #expect(order == ["fast", "middle", "slow"])
  }

  @Test func joinNext_onAnEmptySet_returnsNil() async {
    let set = JoinSet<Int>()
    #expect(describe(await set.joinNext()) == "nil")
    #expect(set.isEmpty)
  }

  @Test func count_includesFinishedTasksNotYetJoined() throws {
    let counts = try simulate { clock in
      let set = JoinSet<Int>()
      set.spawn { 1 }
      set.spawn { 2 }
      let atSpawn = set.count
      try await clock.sleep(for: .seconds(1))  // both have finished
      let finished = set.count
      _ = await set.joinNext()
      return [atSpawn, finished, set.count]
    }
    #expect(counts == [2, 2, 1])
  }

  @Test func finishedTask_releasesWhatItCaptured_beforeItIsJoined() throws {
    // The set keeps a finished task's result (and its handle) until it is joined, but not the
    // resources its operation captured: those go when the task ends, as in Tokio.
    let released = try simulate { clock in
      let set = JoinSet<Int>()
      let releases = Counter()
      do {
        let probe = Probe(onDeinit: releases.increment)
        set.spawn { withExtendedLifetime(probe) { 7 } }
      }
      try await clock.sleep(for: .seconds(1))  // the task has finished; nobody has joined it
      let beforeJoin = releases.value
      let joined = describe(await set.joinNext())
      return [String(beforeJoin), joined]
    }
    #expect(released == ["1", "7"])
  }

  @Test func tryJoinNext_returnsNilWhileTasksRun_thenAFinishedResult_withoutWaiting() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      set.spawn {
        try await clock.sleep(for: .seconds(1))
        return 5
      }
      let early = describe(set.tryJoinNext())
      try await clock.sleep(for: .seconds(2))
      return [early, describe(set.tryJoinNext()), describe(set.tryJoinNext())]
    }
    #expect(seen == ["nil", "5", "nil"])
  }

  @Test func thrownError_joinsAsFailed() throws {
    let seen = try simulate { _ in
      let set = JoinSet<Int>()
      set.spawn { throw Boom() }
      return describe(await set.joinNext())
    }
    #expect(seen == "failed Boom()")
  }

  @Test func abortedTask_thatThrows_joinsAsCancelled_whateverItThrew() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      let handle = set.spawn {
        do {
          try await clock.sleep(for: .seconds(10))
        } catch {
          throw Boom()  // not a CancellationError: still "cancelled", because it was aborted
        }
        return 1
      }
      try await clock.sleep(for: .seconds(1))
      handle.abort()
      return describe(await set.joinNext())
    }
    #expect(seen == "cancelled")
  }

  @Test func abortedTask_thatReturnsAValueAnyway_reportsTheValue() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      let handle = set.spawn {
        try? await clock.sleep(for: .seconds(10))  // swallows the cancellation
        return 99
      }
      try await clock.sleep(for: .seconds(1))
      handle.abort()
      return describe(await set.joinNext())
    }
    #expect(seen == "99")
  }

  @Test func taskAbortedBeforeItStarts_neverRuns_andJoinsAsCancelled() throws {
    let ran = Flag()
    let seen = try simulate { _ in
      let set = JoinSet<Int>()
      set.spawn {
        ran.set()
        return 1
      }.abort()
      return describe(await set.joinNext())
    }
    #expect(seen == "cancelled")
    #expect(!ran.isSet)
  }

  @Test func abortHandle_isFinished_staysFalseAfterAbort_untilTheTaskHasEnded() throws {
    let states = try simulate { clock in
      let set = JoinSet<Int>()
      let handle = set.spawn {
        await nonCancellableStep(clock, .seconds(2))
        return 1
      }
      try await clock.sleep(for: .seconds(1))
      handle.abort()
      let afterAbort = handle.isFinished
      try await clock.sleep(for: .seconds(2))
      let afterEnd = handle.isFinished
      _ = await set.joinNext()
      set.spawn { 2 }  // reuses the slot: the old handle must still say finished
      return [afterAbort, afterEnd, handle.isFinished]
    }
    #expect(states == [false, true, true])
  }

  @Test func abortAll_keepsTheTasksInTheSet_untilTheyAreJoined() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      for index in 0..<3 {
        set.spawn {
          try await clock.sleep(for: .seconds(10))
          return index
        }
      }
      set.abortAll()
      let countAfterAbort = set.count
      var outcomes: [String] = []
      while let outcome = await set.joinNext() { outcomes.append(describe(outcome)) }
      return ["\(countAfterAbort)"] + outcomes + ["\(clock.now.offset)"]
    }
    #expect(seen == ["3", "cancelled", "cancelled", "cancelled", "0.0 seconds"])
  }

  @Test func shutdown_abortsEveryTask_andWaitsUntilTheyHaveStopped() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      set.spawn {
        try await clock.sleep(for: .seconds(10))
        return 1
      }
      set.spawn {
        await nonCancellableStep(clock, .seconds(3))  // ignores the abort for 3 s
        return 2
      }
      try await clock.sleep(for: .seconds(1))
      await set.shutdown()
      return (set.isEmpty, clock.now.offset)
    }
    #expect(seen.0 && seen.1 == .seconds(3))
  }

  @Test func joinAll_returnsEveryValue_inCompletionOrder() throws {
    let values = try simulate { clock in
      let set = JoinSet<Int>()
      for seconds in [3, 1, 2] {
        set.spawn {
          try await clock.sleep(for: .seconds(seconds))
          return seconds
        }
      }
      return try await set.joinAll()
    }
    #expect(values == [1, 2, 3])
  }

  @Test func joinAll_throwsTheFirstError_andAbortsTheRest_withoutWaitingForThem() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      set.spawn {
        try await clock.sleep(for: .seconds(1))
        throw Boom()
      }
      set.spawn {
        try await clock.sleep(for: .seconds(10))
        return 2
      }
      var thrown = ""
      do { _ = try await set.joinAll() } catch { thrown = "\(error)" }
      let leftInSet = set.count
      let rest = describe(await set.joinNext())
      return [thrown, "\(leftInSet)", rest, "\(clock.now.offset)"]
    }
    #expect(seen == ["failed: Boom()", "1", "cancelled", "1.0 seconds"])
  }

  @Test func detachAll_emptiesTheSet_andTheTasksRunOn() throws {
    let finished = Flag()
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      set.spawn {
        try await clock.sleep(for: .seconds(1))
        finished.set()
        return 1
      }
      set.detachAll()
      let empty = set.isEmpty
      let joined = describe(await set.joinNext())
      try await clock.sleep(for: .seconds(2))
      return (empty, joined)
    }
    #expect(seen.0 && seen.1 == "nil")
    #expect(finished.isSet)
  }

  @Test func abortHandle_stillAbortsItsTask_afterDetachAll() throws {
    let cancelled = Flag()
    try simulate { clock in
      let set = JoinSet<Int>()
      let handle = set.spawn {
        do { try await clock.sleep(for: .seconds(5)) } catch { cancelled.set() }
        return 1
      }
      try await clock.sleep(for: .seconds(1))  // it has started, and sleeps
      set.detachAll()
      handle.abort()
      try await clock.sleep(for: .seconds(5))
    }
    #expect(cancelled.isSet)
  }

  @Test func abortHandle_ofAFinishedTask_leavesTheTaskThatReusedItsSlotAlone() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      let stale = set.spawn { 1 }
      let first = describe(await set.joinNext())
      set.spawn {  // takes the freed slot
        try await clock.sleep(for: .seconds(1))
        return 2
      }
      stale.abort()
      return [first, describe(await set.joinNext())]
    }
    #expect(seen == ["1", "2"])
  }

  @Test func deinit_abortsWhateverIsLeft() throws {
    let aborted = Flag()
    _ = try simulate { clock in
      do {
        let set = JoinSet<Int>()
        set.spawn {
          do { try await clock.sleep(for: .seconds(10)) } catch { aborted.set() }
          return 1
        }
        try await clock.sleep(for: .seconds(1))
        withExtendedLifetime(set) {}
      }
      try await clock.sleep(for: .seconds(1))
      return clock.now.offset
    }
    #expect(aborted.isSet)
  }

  /// Like `TaskGroup.next()`: the caller's cancellation does not end the wait for the set's tasks.
  @Test func joinNext_isNotCutShort_byTheCallersCancellation() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      set.spawn {
        try await clock.sleep(for: .seconds(5))
        return 5
      }
      let joiner = spawnTask(name: "joiner") { describe(await set.joinNext()) }
      try await clock.sleep(for: .seconds(1))
      joiner.cancel()
      return (await joiner.value, clock.now.offset)
    }
    #expect(seen.0 == "5" && seen.1 == .seconds(5))
  }

  @Test func concurrentJoiners_eachGetADifferentTask_andOneTooManyGetsNil() throws {
    let seen = try simulate { clock in
      let set = JoinSet<Int>()
      for seconds in [1, 2] {
        set.spawn {
          try await clock.sleep(for: .seconds(seconds))
          return seconds
        }
      }
      let joiners = (0..<3).map { index in
        spawnTask(name: "joiner-\(index)") { describe(await set.joinNext()) }
      }
      var seen: [String] = []
      for joiner in joiners { seen.append(await joiner.value) }
      return seen
    }
    #expect(seen == ["1", "2", "nil"])
  }

  @Test func spawnedTasks_runInsideTheSimulation_inVirtualTime() throws {
    let result = Simulation.run { clock in
      let set = JoinSet<Duration>()
      set.spawn {
        try await clock.sleep(for: .seconds(3600))
        return clock.now.offset
      }
      return describe(await set.joinNext())
    }
    #expect(try result.get() == "3600.0 seconds")
    #expect(result.foreignEnqueues == 0)
  }

  @Test func aJoinerStuckOnATaskThatNeverEnds_isNamedInTheDeadlockReport_andUnwound() throws {
    let result = Simulation.run { _ in
      let set = JoinSet<Int>()
      let never = CancellationToken()
      set.spawn(name: "stuck") {
        await never.cancelled()
        try Task.checkCancellation()
        return 1
      }
      return describe(await set.joinNext())
    }
    #expect(
      result.deadlocks.first?.description.contains("main waits on join set joinNext(); 1 task(s) running")
        == true)
    #expect(try result.get() == "cancelled")
  }
}

/// Tokio's own `tokio/tests/task_join_set.rs`, where it applies.
@Suite("JoinSet: Tokio's suite")
struct JoinSetTokioSuiteTests {
  @Test func test_with_sleep() throws {
    let ok = try simulate { clock in
      let set = JoinSet<Int>()
      for index in 0..<10 {
        set.spawn { index }
        #expect(set.count == index + 1)
      }
      set.detachAll()
      #expect(set.count == 0)
      #expect(describe(await set.joinNext()) == "nil")
      for _ in 0..<2 {
        for index in 0..<10 {
          set.spawn {
            try await clock.sleep(for: .seconds(index))
            return index
          }
        }
        var seen = Set<Int>()
        while let outcome = await set.joinNext() { seen.insert(try outcome.get()) }
        #expect(seen == Set(0..<10))
        #expect(describe(await set.joinNext()) == "nil")
      }
      return true
    }
    #expect(ok)
  }

  /// Tokio's tasks own a oneshot sender whose drop shows the abort; ours own a probe.
  @Test func test_abort_on_drop() throws {
    let aborted = Counter()
    _ = try simulate { clock in
      do {
        let set = JoinSet<Void>()
        for _ in 0..<16 {
          let probe = Probe(onDeinit: aborted.increment)
          set.spawn {
            try await clock.sleep(for: .seconds(3600))
            withExtendedLifetime(probe) {}
          }
        }
      }
      try await clock.sleep(for: .seconds(1))
      return true
    }
    #expect(aborted.value == 16)
  }

  @Test func alternating() throws {
    _ = try simulate { _ in
      let set = JoinSet<Void>()
      set.spawn {}
      set.spawn {}
      #expect(set.count == 2)
      for _ in 0..<16 {
        _ = try await set.joinNext()!.get()
        #expect(set.count == 1)
        set.spawn {}
        #expect(set.count == 2)
      }
      return true
    }
  }

  @Test func abort_tasks() throws {
    let counts = try simulate { clock in
      let set = JoinSet<Int>()
      for index in 0..<16 {
        let handle = set.spawn {
          try await clock.sleep(for: .seconds(index))
          return index
        }
        if index % 2 != 0 { handle.abort() }
      }
      var cancelled = 0
      var completed = 0
      while let outcome = await set.joinNext() {
        switch outcome {
        case .success(let value):
          #expect(value % 2 == 0)
          completed += 1
        case .failure(let error):
          #expect(error.isCancelled)
          cancelled += 1
        }
      }
      return [cancelled, completed]
    }
    #expect(counts == [8, 8])
  }

  @Test func join_all() throws {
    let values = try simulate { _ in
      let set = JoinSet<Int>()
      for _ in 0..<5 { set.spawn { 1 } }
      return try await set.joinAll()
    }
    #expect(values == [1, 1, 1, 1, 1])
  }

  @Test func abort_all() throws {
    let count = try simulate { clock in
      let set = JoinSet<Void>()
      for _ in 0..<5 { set.spawn { try await clock.sleep(for: .seconds(3600)) } }
      for _ in 0..<5 { set.spawn { try await clock.sleep(for: .seconds(1)) } }
      try await clock.sleep(for: .seconds(2))  // 5 pending, 5 finished
      set.abortAll()
      #expect(set.count == 10)
      var count = 0
      while let outcome = await set.joinNext() {
        if case .failure(let error) = outcome { #expect(error.isCancelled) }
        count += 1
      }
      #expect(set.count == 0)
      return count
    }
    #expect(count == 10)
  }

  @Test func try_join_next() throws {
    let count = try simulate { clock in
      let set = JoinSet<Void>()
      let go = CancellationToken()
      for _ in 0..<1000 { set.spawn { await go.cancelled() } }
      #expect(describe(set.tryJoinNext()) == "nil")
      go.cancel()
      try await clock.sleep(for: .seconds(1))
      var count = 0
      while let outcome = set.tryJoinNext() {
        _ = try outcome.get()
        count += 1
      }
      return count
    }
    #expect(count == 1000)
  }

  @Test func spawn_then_shutdown() throws {
    _ = try simulate { _ in
      let set = JoinSet<Void>()
      let never = CancellationToken()
      for _ in 0..<8 { set.spawn { await never.cancelled() } }
      #expect(describe(set.tryJoinNext()) == "nil")
      await set.shutdown()
      #expect(set.isEmpty)
      return true
    }
  }
}
