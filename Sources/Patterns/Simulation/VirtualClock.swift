import Synchronization

/// A clock whose time moves only when the simulation says so.
///
/// A sleep parks in a timer queue ordered by (deadline, order of arrival). When the simulation has
/// nothing left to run it moves `now` to the earliest deadline and wakes every sleeper due then, in
/// that order. So a scenario that "takes" seconds finishes in microseconds, and equal deadlines always
/// wake in the same order: the two facts that make scripted output byte-identical.
///
/// Copies share one time line. Outside `Simulation.run` nothing advances it, so a sleep would wait
/// forever: use the clock the simulation hands you.
public struct VirtualClock: Clock, Sendable {
  /// A point on the virtual time line: how long after the clock was created.
  public struct Instant: InstantProtocol, Sendable, Hashable, CustomStringConvertible {
    /// Time since the clock was created.
    public var offset: Duration

    public init(offset: Duration) { self.offset = offset }

    public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
    public func duration(to other: Instant) -> Duration { other.offset - offset }
    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    public var description: String { "\(offset)" }
  }

  let timers: TimerQueue

  /// A new time line starting at zero.
  public init() { timers = TimerQueue() }

  public var now: Instant { timers.now }
  public var minimumResolution: Duration { .nanoseconds(1) }

  /// Suspends until virtual time reaches `deadline`.
  ///
  /// A deadline that is not in the future returns at once. Cancelling the calling task, before or
  /// during the sleep, throws `CancellationError` and leaves no timer behind.
  public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
    if Task.isCancelled {
      // A loop that swallows this error (`try? await clock.sleep(…)`) would spin inside one job,
      // out of the run loop's sight. Past a few hundred such sleeps at one instant, each one first
      // gives the thread back, so the loop shows up as jobs and a job budget can stop it.
      if timers.noteCancelledSleep() { await Task.yield() }
      throw CancellationError()
    }
    guard let id = timers.reserve(deadline: deadline) else { return }
    try await withTaskCancellationHandler {
      try await withCheckedThrowingContinuation { continuation in
        timers.park(id, deadline: deadline, task: Task.name, continuation: continuation)
      }
    } onCancel: {
      timers.cancel(id)
    }
  }

  /// How many sleeps are parked now.
  public var pendingSleeps: Int { timers.pendingCount }

  /// Models a call that blocks the thread it runs on (`DispatchSemaphore.wait()`, `Thread.sleep`,
  /// synchronous file or network I/O) for `duration`, without blocking anything for real.
  ///
  /// The simulation has one executor thread, as a cooperative pool of one core would. While the
  /// caller holds it, virtual time moves on by `duration`: sleeps that fall due in between wake, but
  /// their tasks cannot run until this call returns, so they all run late, at its end. Call it only
  /// from a task running in the simulation; elsewhere nothing would wake those sleeps.
  public func blockThread(for duration: Duration) {
    timers.advance(by: duration)
  }
}

/// The timer queue behind `VirtualClock`: a state machine under one lock.
///
/// Each sleep moves through: reserved (id handed out, continuation not yet parked) → parked (in the
/// heap) → fired or cancelled (gone). Cancellation can arrive in the reserved state, before the
/// continuation exists; it is then remembered and honoured when `park` runs. Continuations are
/// always resumed after the lock is released.
final class TimerQueue: Sendable {
  private enum Sleeper {
    case reserved
    case cancelledBeforeParking
    case parked(deadline: VirtualClock.Instant, task: String?, CheckedContinuation<Void, any Error>)
  }

  private struct Entry: Comparable {
    var deadline: VirtualClock.Instant
    var id: UInt64  // ids grow with arrival, so they order equal deadlines
    static func < (a: Entry, b: Entry) -> Bool { (a.deadline, a.id) < (b.deadline, b.id) }
  }

  private struct State {
    var now = VirtualClock.Instant(offset: .zero)
    var nextID: UInt64 = 0
    var sleepers: [UInt64: Sleeper] = [:]
    var heap = MinHeap<Entry>()  // may hold ids of cancelled sleepers; they are skipped when popped
    /// Sleeps that threw at once, in a cancelled task, since time last moved.
    var cancelledSleepsThisInstant = 0
  }

  /// How many cancelled sleeps at one instant are taken as ordinary shutdown (each task's last
  /// sleep) before the clock starts yielding on them to expose a loop that swallows the error.
  static let cancelledSleepsBeforeYielding = 256

  private let state = Lock(State())

  var now: VirtualClock.Instant { state.withLock { $0.now } }

  var pendingCount: Int {
    state.withLock { state in
      state.sleepers.values.count { if case .parked = $0 { true } else { false } }
    }
  }

  /// Hands out an id for a sleep, or nil when the deadline is not in the future.
  func reserve(deadline: VirtualClock.Instant) -> UInt64? {
    state.withLock { state in
      guard deadline > state.now else { return nil }
      let id = state.nextID
      state.nextID += 1
      state.sleepers[id] = .reserved
      return id
    }
  }

  func park(
    _ id: UInt64, deadline: VirtualClock.Instant, task: String?,
    continuation: CheckedContinuation<Void, any Error>
  ) {
    let cancelled = state.withLock { state -> Bool in
      if case .cancelledBeforeParking = state.sleepers[id] {
        state.sleepers[id] = nil
        return true
      }
      state.sleepers[id] = .parked(deadline: deadline, task: task, continuation)
      state.heap.insert(Entry(deadline: deadline, id: id))
      return false
    }
    if cancelled { continuation.resume(throwing: CancellationError()) }
  }

  func cancel(_ id: UInt64) {
    let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
      switch state.sleepers[id] {
      case .reserved:
        state.sleepers[id] = .cancelledBeforeParking
        return nil
      case .parked(_, _, let continuation):
        state.sleepers[id] = nil  // its heap entry is skipped when popped
        return continuation
      case .cancelledBeforeParking, nil:
        return nil  // already cancelled, or already fired
      }
    }
    continuation?.resume(throwing: CancellationError())
  }

  /// Counts a sleep that threw at once because its task was cancelled; true once there have been
  /// more than ``cancelledSleepsBeforeYielding`` since time last moved.
  func noteCancelledSleep() -> Bool {
    state.withLock { state in
      state.cancelledSleepsThisInstant += 1
      return state.cancelledSleepsThisInstant > Self.cancelledSleepsBeforeYielding
    }
  }

  /// Moves time on by `duration` at once, waking every sleep due by then, in (deadline, arrival)
  /// order: what the world did while the only thread was blocked.
  func advance(by duration: Duration) {
    let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
      let end = state.now.advanced(by: duration)
      var due: [CheckedContinuation<Void, any Error>] = []
      while let top = state.heap.min, top.deadline <= end {
        _ = state.heap.popMin()
        guard case .parked(_, _, let continuation) = state.sleepers[top.id] else { continue }
        state.sleepers[top.id] = nil
        due.append(continuation)
      }
      if duration > .zero {
        state.now = end
        state.cancelledSleepsThisInstant = 0
      }
      return due
    }
    for continuation in due { continuation.resume() }
  }

  /// The earliest deadline of a parked sleep.
  var nextDeadline: VirtualClock.Instant? {
    state.withLock { state in
      while let top = state.heap.min {
        if case .parked = state.sleepers[top.id] { return top.deadline }
        _ = state.heap.popMin()
      }
      return nil
    }
  }

  /// Moves time to the earliest deadline and wakes every sleep due then, oldest first.
  /// Returns how many woke; 0 means no sleep is parked.
  @discardableResult
  func advanceToNextDeadline() -> Int {
    let due = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
      var due: [CheckedContinuation<Void, any Error>] = []
      var deadline: VirtualClock.Instant?
      while let top = state.heap.min {
        guard case .parked(_, _, let continuation) = state.sleepers[top.id] else {
          _ = state.heap.popMin()
          continue
        }
        if let deadline, top.deadline > deadline { break }
        deadline = top.deadline
        _ = state.heap.popMin()
        state.sleepers[top.id] = nil
        due.append(continuation)
      }
      if let deadline {
        state.now = deadline
        state.cancelledSleepsThisInstant = 0
      }
      return due
    }
    for continuation in due { continuation.resume() }
    return due.count
  }

  /// The tasks parked in a sleep, in deadline order, with their deadlines.
  var parkedSleepers: [(task: String?, deadline: VirtualClock.Instant)] {
    state.withLock { state in
      state.sleepers.compactMap { id, sleeper -> (UInt64, String?, VirtualClock.Instant)? in
        guard case .parked(let deadline, let task, _) = sleeper else { return nil }
        return (id, task, deadline)
      }
      .sorted { ($0.2, $0.0) < ($1.2, $1.0) }
      .map { (task: $0.1, deadline: $0.2) }
    }
  }

  /// Cancels every parked sleep, as if each sleeping task had been cancelled. Returns how many.
  func cancelAll() -> Int {
    let parked = state.withLock { state -> [(UInt64, CheckedContinuation<Void, any Error>)] in
      let parked = state.sleepers.compactMap {
        id, sleeper -> (UInt64, CheckedContinuation<Void, any Error>)? in
        guard case .parked(_, _, let continuation) = sleeper else { return nil }
        return (id, continuation)
      }
      for (id, _) in parked { state.sleepers[id] = nil }
      return parked.sorted { $0.0 < $1.0 }
    }
    for (_, continuation) in parked { continuation.resume(throwing: CancellationError()) }
    return parked.count
  }
}
