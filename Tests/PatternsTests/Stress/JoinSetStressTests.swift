import Patterns
import Synchronization
import Testing

/// Join sets and task trackers under real threads: spawners, aborters and joiners working at once.
/// Every task is joined (or reported) exactly once, its outcome is one it could have had, and no
/// waiter is left behind.
@Suite(.timeLimit(.minutes(2))) struct JoinSetStressTests {
  struct Failure: Error {}

  /// What the joiners saw, by task id.
  final class Ledger: Sendable {
    private let state = Lock<(seen: [Int: Int], wrong: [String])>(([:], []))
    func record(_ id: Int, _ problem: String? = nil) {
      state.withLock {
        $0.seen[id, default: 0] += 1
        if let problem { $0.wrong.append(problem) }
      }
    }
    var seen: [Int: Int] { state.withLock { $0.seen } }
    var wrong: [String] { state.withLock { $0.wrong } }
  }

  @Test func everyTaskJoinedExactlyOnce_withConcurrentSpawnAbortAndJoin() async {
    let spawners = 4
    let perSpawner = Stress.count(500)
    let set = JoinSet<Int>()
    let ledger = Ledger()
    let aborted = StressCounter()
    let spawning = StressCounter()  // spawners still running

    await withTaskGroup(of: Void.self) { group in
      for spawner in 0..<spawners {
        spawning.increment()
        group.addTask {
          var random = StressRandom(seed: UInt64(spawner))
          for index in 0..<perSpawner {
            let id = spawner * perSpawner + index
            let kind = Int.random(in: 0..<3, using: &random)  // 0 returns, 1 throws, 2 waits to be aborted
            let handle = set.spawn {
              switch kind {
              case 0: return id
              case 1: throw Failure()
              default:
                try await Task.sleep(for: .seconds(3600))
                return id
              }
            }
            if kind == 2 || random.oneIn(8) {
              aborted.increment()
              handle.abort()
            }
            if index % 32 == 0 { await Task.yield() }
          }
          spawning.increment(by: -1)
        }
      }
      for _ in 0..<3 {
        group.addTask {
          while true {
            guard let outcome = await set.joinNext() else {
              if spawning.count == 0 && set.isEmpty { return }
              await Task.yield()
              continue
            }
            switch outcome {
            case .success(let id): ledger.record(id)
            case .failure(.cancelled): ledger.record(-1)
            case .failure(.failed(let error)):
              ledger.record(-2, error is Failure ? nil : "unexpected error \(error)")
            }
          }
        }
      }
    }
    let total = spawners * perSpawner
    let seen = ledger.seen
    let cancelled = seen[-1, default: 0]
    let failed = seen[-2, default: 0]
    let succeeded = seen.filter { $0.key >= 0 }
    #expect(ledger.wrong.isEmpty)
    #expect(succeeded.allSatisfy { $0.value == 1 }, "a task's value was joined twice")
    #expect(succeeded.count + cancelled + failed == total)
    #expect(cancelled <= aborted.count)
    #expect(set.isEmpty)
    #expect(set.waiterCountForTesting == 0)
  }

  @Test func trackerWaitReturnsOnlyWhenEveryTaskEnded_withConcurrentSpawnAndCancelledWaits() async {
    for round in 0..<Stress.count(20) {
      let tracker = TaskTracker()
      let ran = StressCounter()
      let perSpawner = 50
      let waitersReturned = StressCounter()
      let waitsSawUnfinished = StressCounter()
      await withTaskGroup(of: Void.self) { group in
        // Spawning after close() is allowed (and tracked), so a wait that returned could see the
        // tracker non-empty again if spawners were still running. Closing once every spawn call has
        // returned keeps the check below exact; the spawned tasks themselves are still running.
        group.addTask {
          await withTaskGroup(of: Void.self) { spawners in
            for _ in 0..<4 {
              spawners.addTask {
                for index in 0..<perSpawner {
                  if index % 2 == 0 {
                    tracker.spawn {
                      await Task.yield()
                      ran.increment()
                    }
                  } else {
                    await tracker.track { ran.increment() }
                  }
                }
              }
            }
          }
          tracker.close()
        }
        for waiter in 0..<8 {
          var random = StressRandom(seed: UInt64(round * 8 + waiter))
          let cancel = random.oneIn(3)
          group.addTask {
            let result = await Stress.maybeCancelled(cancel: cancel, yields: 2) {
              await tracker.wait()
              return Task.isCancelled
            }
            // An uncancelled wait returns only when the tracker is closed and empty.
            if case .success(false) = result, !(tracker.isClosed && tracker.isEmpty) {
              waitsSawUnfinished.increment()
            }
            waitersReturned.increment()
          }
        }
      }
      await tracker.wait()
      #expect(ran.count == 4 * perSpawner)
      #expect(waitersReturned.count == 8)
      #expect(waitsSawUnfinished.count == 0)
      #expect(tracker.isEmpty)
      #expect(tracker.waiterCountForTesting == 0)
    }
  }
}
