import Foundation
import Patterns
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A user's own task executor, not the simulation's: one thread of its own runs its jobs, one at a
/// time, and it counts every job it is given.
private final class CountingThreadExecutor: TaskExecutor, Sendable {
  private struct Queue {
    var jobs: [UnownedJob] = []
    var stopping = false
  }

  private let queue = Mutex(Queue())
  // One signal per job and one to stop; only the executor's own thread waits on it.
  private let wakeUp = DispatchSemaphore(value: 0)
  private let thread = Mutex<pthread_t?>(nil)  // set before the first job runs
  private let jobs = Atomic<Int>(0)

  init() {
    Thread { [self] in
      thread.withLock { $0 = pthread_self() }
      runJobs()
    }.start()
  }

  /// Jobs enqueued so far: every start of a task here, and every resumption after a suspension.
  var enqueuedJobs: Int { jobs.load(ordering: .relaxed) }

  /// Whether the caller runs on this executor's thread.
  var isCurrentThread: Bool {
    guard let owner = thread.withLock({ $0 }) else { return false }
    return pthread_equal(owner, pthread_self()) != 0
  }

  func enqueue(_ job: consuming ExecutorJob) {
    jobs.add(1, ordering: .relaxed)
    let job = UnownedJob(job)
    queue.withLock { $0.jobs.append(job) }
    wakeUp.signal()
  }

  /// Ends the thread once the jobs already queued have run.
  func stop() {
    queue.withLock { $0.stopping = true }
    wakeUp.signal()
  }

  private func runJobs() {
    while true {
      wakeUp.wait()
      let next = queue.withLock { queue -> UnownedJob?? in
        if !queue.jobs.isEmpty { return .some(queue.jobs.removeFirst()) }
        return queue.stopping ? .none : .some(nil)
      }
      guard let next else { break }
      next?.runSynchronously(on: asUnownedTaskExecutor())
    }
  }
}

/// Runs `body` with a fresh counting executor and stops it afterwards.
private func withCountingExecutor<T>(_ body: (CountingThreadExecutor) async throws -> T) async rethrows -> T {
  let executor = CountingThreadExecutor()
  defer { executor.stop() }
  return try await body(executor)
}

@Suite("Spawned tasks keep the caller's executor preference")
struct ExecutorPreferenceTests {
  @Test func joinSet_spawnedInsideAUsersPreference_runsOnThatExecutor() async {
    await withCountingExecutor { executor in
      let onExecutor = await withTaskExecutorPreference(executor) { () async -> [Bool] in
        let set = JoinSet<Bool>()
        for _ in 0..<5 { set.spawn { executor.isCurrentThread } }
        var results: [Bool] = []
        while let result = await set.joinNext() { results.append(try! result.get()) }
        return results
      }
      #expect(onExecutor == [true, true, true, true, true])
      #expect(executor.enqueuedJobs >= 5)  // at least each task's start
    }
  }

  @Test func taskTracker_spawnedInsideAUsersPreference_runsOnThatExecutor() async {
    await withCountingExecutor { executor in
      let (throwing, plain) = await withTaskExecutorPreference(executor) { () async -> (Bool, Bool) in
        let tracker = TaskTracker()
        let throwing = tracker.spawn { () async throws -> Bool in executor.isCurrentThread }
        let plain = tracker.spawn { () async -> Bool in executor.isCurrentThread }
        tracker.close()
        await tracker.wait()
        return (try! await throwing.value, await plain.value)
      }
      #expect(throwing && plain)
      #expect(executor.enqueuedJobs >= 2)
    }
  }

  @Test func spawnTask_insideAUsersPreference_runsOnThatExecutor_andSoDoesWhatItSpawns() async {
    await withCountingExecutor { executor in
      let (outer, inner) = await withTaskExecutorPreference(executor) { () async -> (Bool, Bool) in
        await spawnTask { () async -> (Bool, Bool) in
          let here = executor.isCurrentThread
          let grandchild = await spawnTask { () async -> Bool in executor.isCurrentThread }.value
          return (here, grandchild)
        }.value
      }
      #expect(outer && inner)
      #expect(executor.enqueuedJobs >= 2)
    }
  }

  @Test func noPreference_spawnedTasksStayOffTheExecutor_andItCountsNothing() async {
    await withCountingExecutor { executor in
      #expect(ExecutorPreference.current == nil)
      let set = JoinSet<Bool>()
      set.spawn { executor.isCurrentThread }
      let fromSet = try! await set.joinNext()!.get()
      let fromSpawn = await spawnTask { () async -> Bool in executor.isCurrentThread }.value
      let tracker = TaskTracker()
      let fromTracker = await tracker.spawn { () async -> Bool in executor.isCurrentThread }.value
      #expect(!fromSet && !fromSpawn && !fromTracker)
      #expect(executor.enqueuedJobs == 0)
    }
  }

  @Test func nestedPreferences_theInnermostWins_andTheOuterOneComesBack() async {
    await withCountingExecutor { outer in
      await withCountingExecutor { inner in
        let placement = await withTaskExecutorPreference(outer) { () async -> [String] in
          func place() async -> String {
            let set = JoinSet<String>()
            set.spawn { outer.isCurrentThread ? "outer" : inner.isCurrentThread ? "inner" : "elsewhere" }
            return try! await set.joinNext()!.get()
          }
          let before = await place()
          let nested = await withTaskExecutorPreference(inner) { await place() }
          // nil means "no change", as SE-0417 defines it
          let keptByNil = await withTaskExecutorPreference(nil) { await place() }
          let after = await place()
          return [before, nested, keptByNil, after]
        }
        #expect(placement == ["outer", "inner", "outer", "outer"])
      }
    }
  }

  @Test func current_isTheExecutorInstalled_andNilOutsideAny() async {
    await withCountingExecutor { executor in
      #expect(ExecutorPreference.current == nil)
      let inside = await withTaskExecutorPreference(executor) { ExecutorPreference.current }
      #expect(inside.map { ObjectIdentifier($0) } == ObjectIdentifier(executor))
      #expect(ExecutorPreference.current == nil)
    }
  }
}
