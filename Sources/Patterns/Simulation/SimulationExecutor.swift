import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A single-threaded task executor: jobs run one at a time, on the thread that drives the run loop,
/// in the order they were enqueued (SE-0417 `TaskExecutor`).
///
/// Tasks created with `Task(executorPreference:)`, and their children, enqueue here whenever they
/// become runnable: when started, after a continuation is resumed, after `Task.yield()`. Order is FIFO
/// unless a non-zero `seed` is given; then the next job is drawn from the ready ones by a seeded
/// generator, which explores other legal interleavings of the same instant, reproducibly.
///
/// A scripted run must not receive jobs from other threads (that would make order depend on the OS
/// scheduler): such enqueues are counted in ``foreignEnqueues`` and tests fail on them.
public final class SimulationExecutor: TaskExecutor, Sendable {
  private struct State {
    var ready: [UnownedJob] = []
    var head = 0  // ready[head...] are the waiting jobs; the prefix is compacted away lazily
    var owner: pthread_t?
    var foreignEnqueues = 0
    var random: SplitMix64?
  }

  private let state: Lock<State>

  /// - Parameter seed: 0 runs ready jobs first-in first-out; any other value permutes the jobs that
  ///   are ready at the same moment, the same way on every run.
  public init(seed: UInt64 = 0) {
    state = Lock(State(random: seed == 0 ? nil : SplitMix64(seed: seed)))
  }

  public func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    let current = pthread_self()
    state.withLock { state in
      if let owner = state.owner, pthread_equal(owner, current) == 0 { state.foreignEnqueues += 1 }
      state.ready.append(job)
    }
  }

  /// Jobs enqueued from a thread other than the one running the loop.
  public var foreignEnqueues: Int { state.withLock { $0.foreignEnqueues } }

  /// Claims the calling thread as the only one that should enqueue.
  func claimCurrentThread() { state.withLock { $0.owner = pthread_self() } }

  /// Runs ready jobs until none is left, or `limit` have run. Returns how many ran.
  func runUntilIdle(limit: Int = .max) -> Int {
    var ran = 0
    while ran < limit, let job = nextJob() {
      job.runSynchronously(on: asUnownedTaskExecutor())
      ran += 1
    }
    return ran
  }

  /// Whether a job is waiting to run.
  var hasReadyJobs: Bool { state.withLock { $0.ready.count > $0.head } }

  private func nextJob() -> UnownedJob? {
    state.withLock { state in
      let waiting = state.ready.count - state.head
      guard waiting > 0 else {
        state.ready.removeAll(keepingCapacity: true)
        state.head = 0
        return nil
      }
      if var random = state.random {
        let pick = state.head + Int(random.next() % UInt64(waiting))
        state.random = random
        state.ready.swapAt(state.head, pick)
      }
      let job = state.ready[state.head]
      state.head += 1
      if state.head > 1024, state.head * 2 > state.ready.count {
        state.ready.removeFirst(state.head)
        state.head = 0
      }
      return job
    }
  }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64): the same seed gives the
/// same sequence on every platform and build, which `SystemRandomNumberGenerator` does not promise.
public struct SplitMix64: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
