import Patterns
import Testing

/// Starts a task that waits on `tracker` and records the virtual time it returned.
private func startWaiter(
  _ tracker: TaskTracker, _ clock: VirtualClock, _ log: Recorder, name: String = "waiter"
)
  -> Task<Void, Never>
{
  spawnTask(name: name) {
    await tracker.wait()
    log.append("\(name) returned at \(clock.now.offset)")
  }
}

/// Holds a tracked piece of work open until `release` is cancelled (Tokio's tests use a
/// `TaskTrackerToken` for this).
private func holdOpen(_ tracker: TaskTracker, until release: CancellationToken) {
  tracker.spawn(name: "held") { await release.cancelled() }
}

@Suite("TaskTracker")
struct TaskTrackerTests {
  @Test func wait_returnsOnlyWhenClosedAndEmpty() throws {
    let log = try simulate { clock in
      let tracker = TaskTracker()
      let log = Recorder()
      tracker.spawn { try await clock.sleep(for: .seconds(2)) }
      let waiter = startWaiter(tracker, clock, log)
      try await clock.sleep(for: .seconds(3))  // empty, but open: still waiting
      log.append("closing at \(clock.now.offset)")
      tracker.close()
      await waiter.value
      return log.values
    }
    #expect(log == ["closing at 3.0 seconds", "waiter returned at 3.0 seconds"])
  }

  @Test func wait_begunWhileClosedAndEmpty_returnsAtOnce() async {
    let tracker = TaskTracker()
    tracker.close()
    await tracker.wait()
    #expect(tracker.isClosed && tracker.isEmpty)
  }

  @Test func tasksSpawnedAfterClose_areTrackedAndWaitedFor() throws {
    let time = try simulate { clock in
      let tracker = TaskTracker()
      tracker.close()
      tracker.spawn { try await clock.sleep(for: .seconds(4)) }
      #expect(tracker.count == 1)
      await tracker.wait()
      return clock.now.offset
    }
    #expect(time == .seconds(4))
  }

  @Test func count_isCountedWhenSpawnReturns_andDropsWhenTheTaskEnds() throws {
    let counts = try simulate { clock in
      let tracker = TaskTracker()
      tracker.spawn { try await clock.sleep(for: .seconds(1)) }
      let atSpawn = tracker.count
      try await clock.sleep(for: .seconds(2))
      return [atSpawn, tracker.count]
    }
    #expect(counts == [1, 0])
  }

  @Test func deinit_doesNotAbortTheTrackedTasks() throws {
    let finished = Flag()
    _ = try simulate { clock in
      do {
        let tracker = TaskTracker()
        tracker.spawn {
          try await clock.sleep(for: .seconds(2))
          finished.set()
        }
      }
      try await clock.sleep(for: .seconds(3))
      return true
    }
    #expect(finished.isSet)
  }

  @Test func finishedTasks_areFreedAtOnce_whileTheTrackerLives() throws {
    let released = Counter()
    _ = try simulate { clock in
      let tracker = TaskTracker()
      for _ in 0..<100 {
        let probe = Probe(onDeinit: released.increment)
        tracker.spawn { withExtendedLifetime(probe) {} }
      }
      try await clock.sleep(for: .seconds(1))
      #expect(released.value == 100)
      withExtendedLifetime(tracker) {}
      return true
    }
  }

  @Test func track_countsWorkThatIsNotASpawnedTask() throws {
    let seen = try simulate { clock in
      let tracker = TaskTracker()
      let log = Recorder()
      tracker.close()
      let inline = spawnTask(name: "inline") {
        try await tracker.track { try await clock.sleep(for: .seconds(2)) }
      }
      try await clock.sleep(for: .seconds(1))
      log.append("count \(tracker.count)")
      await tracker.wait()
      log.append("wait returned at \(clock.now.offset)")
      try await inline.value
      return log.values
    }
    #expect(seen == ["count 1", "wait returned at 2.0 seconds"])
  }

  @Test func wait_returnsWhenTheCallingTaskIsCancelled() throws {
    let seen = try simulate { clock in
      let tracker = TaskTracker()
      let waiter = spawnTask(name: "waiter") { await tracker.wait() }
      try await clock.sleep(for: .seconds(1))
      waiter.cancel()
      await waiter.value
      return (tracker.isClosed, clock.now.offset)
    }
    #expect(!seen.0 && seen.1 == .seconds(1))
  }
}

/// tokio-util's own `tests/task_tracker.rs`, where it applies. Tokio polls a future by hand; here a
/// waiter task records when it returned.
@Suite("TaskTracker: Tokio's suite")
struct TaskTrackerTokioSuiteTests {
  @Test func open_close() {
    let tracker = TaskTracker()
    #expect(!tracker.isClosed && tracker.isEmpty && tracker.count == 0)
    #expect(tracker.close())
    #expect(tracker.isClosed && tracker.isEmpty)
    #expect(tracker.reopen())
    #expect(!tracker.isClosed)
    #expect(!tracker.reopen())
    #expect(!tracker.isClosed)
    #expect(tracker.close())
    #expect(!tracker.close())
    #expect(tracker.isClosed && tracker.count == 0)
  }

  @Test func notify_on_close() throws {
    let log = try simulate { clock in
      let tracker = TaskTracker()
      let log = Recorder()
      let waiter = startWaiter(tracker, clock, log)
      try await clock.sleep(for: .seconds(1))
      tracker.close()
      await waiter.value
      return log.values
    }
    #expect(log == ["waiter returned at 1.0 seconds"])
  }

  @Test func notify_on_close_reopen() throws {
    let log = try simulate { clock in
      let tracker = TaskTracker()
      let log = Recorder()
      let waiter = startWaiter(tracker, clock, log)
      try await clock.sleep(for: .seconds(1))
      tracker.close()
      tracker.reopen()
      await waiter.value
      return log.values
    }
    #expect(log == ["waiter returned at 1.0 seconds"])
  }

  @Test func notify_on_last_task() throws {
    let log = try simulate { clock in
      let tracker = TaskTracker()
      let log = Recorder()
      let release = CancellationToken()
      tracker.close()
      holdOpen(tracker, until: release)
      let waiter = startWaiter(tracker, clock, log)
      try await clock.sleep(for: .seconds(1))
      release.cancel()
      await waiter.value
      return log.values
    }
    #expect(log == ["waiter returned at 1.0 seconds"])
  }

  @Test func notify_on_last_task_respawn() throws {
    let log = try simulate { clock in
      let tracker = TaskTracker()
      let log = Recorder()
      let release = CancellationToken()
      tracker.close()
      holdOpen(tracker, until: release)
      let waiter = startWaiter(tracker, clock, log)
      try await clock.sleep(for: .seconds(1))
      let secondRelease = CancellationToken()
      release.cancel()
      try await clock.sleep(for: .milliseconds(1))  // the held task has ended: the waiter is released
      holdOpen(tracker, until: secondRelease)  // a new task right after does not take that back
      await waiter.value
      secondRelease.cancel()
      return log.values
    }
    #expect(log == ["waiter returned at 1.0 seconds"])
  }

  @Test func no_notify_on_respawn_if_open() throws {
    let log = try simulate { clock in
      let tracker = TaskTracker()
      let log = Recorder()
      let release = CancellationToken()
      holdOpen(tracker, until: release)
      let waiter = startWaiter(tracker, clock, log)
      try await clock.sleep(for: .seconds(1))
      release.cancel()
      holdOpen(tracker, until: CancellationToken())
      try await clock.sleep(for: .seconds(1))
      log.append("still waiting at \(clock.now.offset)")
      waiter.cancel()
      await waiter.value
      return log.values
    }
    #expect(log.first == "still waiting at 2.0 seconds")
  }

  @Test func close_during_exit() throws {
    let iterations = 5
    for closeSpot in 0...iterations {
      let log = try simulate { clock in
        let tracker = TaskTracker()
        let log = Recorder()
        let releases = (0..<iterations).map { _ in CancellationToken() }
        for release in releases { holdOpen(tracker, until: release) }
        let waiter = startWaiter(tracker, clock, log)
        for (index, release) in releases.enumerated() {
          try await clock.sleep(for: .seconds(1))
          if index == closeSpot { tracker.close() }
          release.cancel()
        }
        try await clock.sleep(for: .seconds(1))
        if closeSpot == iterations { tracker.close() }
        await waiter.value
        return log.values
      }
      let expected = closeSpot == iterations ? 6 : 5
      #expect(log == ["waiter returned at \(Duration.seconds(expected))"], "close at \(closeSpot)")
    }
  }

  @Test func notify_many() throws {
    let count = try simulate { clock in
      let tracker = TaskTracker()
      let log = Recorder()
      let waiters = (0..<10).map { startWaiter(tracker, clock, log, name: "waiter-\($0)") }
      try await clock.sleep(for: .seconds(1))
      tracker.close()
      for waiter in waiters { await waiter.value }
      return log.values.count
    }
    #expect(count == 10)
  }
}
