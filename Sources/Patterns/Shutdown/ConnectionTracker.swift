/// Counts the connections (or requests) in flight, refuses new ones once closed, and waits for the
/// last one to leave, up to a deadline.
///
/// This is step 2 and step 4 of a graceful shutdown: "stop accepting" is ``close()``, "wait for
/// in-flight requests" is ``drain(until:clock:)``.
///
/// ```swift
/// let connections = ConnectionTracker()
/// // in the accept loop:
/// guard let entry = connections.enter() else { refuse(socket); continue }   // closed: refuse
/// spawnTask { defer { entry.leave() }; await serve(socket) }
/// // at shutdown:
/// connections.close()
/// let left = await connections.drain(until: clock.now.advanced(by: .seconds(10)), clock: clock)
/// // left == 0: drained; otherwise that many were still open at the deadline
/// ```
///
/// The sharp edges, and what this type does about them:
/// - **Closing and counting are one decision.** ``enter()`` and ``close()`` take the same lock, so a
///   connection either got in before the close (and is counted, and waited for) or is refused. With
///   a separate "closed" flag and counter, an `enter` that read "open" just before the close could
///   increment the count just after the drain saw zero, and a request would be cut off mid-flight.
/// - **No lost wake-up.** The racy drain found in many services reads an atomic counter, sees 3, and
///   then awaits a notification; if the last connection leaves between the read and the wait, the
///   notification was sent to nobody, and the drain sleeps until its deadline although nothing is
///   left. Here the count check and the registration of the waiter happen under one lock, and
///   ``ConnectionGuard/leave()`` wakes every registered waiter under that same lock's decision.
/// - **The guard leaves on `deinit`.** ``ConnectionGuard`` is a class: when the handler's last
///   reference goes (the task ends, or throws), the connection leaves. ``ConnectionGuard/leave()`` lets
///   you leave earlier; it is idempotent, so the `deinit` after it does nothing.
/// - **The deadline is a deadline, not a sleep.** ``drain(until:clock:)`` returns the moment the last
///   connection leaves; it sleeps until the deadline only if someone is still there.
/// - **Cancellation returns, it does not hang.** A drain whose calling task is cancelled returns at
///   once with the number still active.
///
/// Why not ``TaskTracker``: a tracker counts tasks, and its `close()` does not refuse new work (as
/// in Tokio, spawning after close is allowed). A connection is not always a task (a keep-alive
/// connection may be served by a pool), and refusing at the door is the point, so this is its own
/// small state machine. tokio-util's `TaskTracker::token()` (a guard that counts as a task) is the
/// same idea as ``ConnectionGuard``; Go's `http.Server.Shutdown` keeps the same count in
/// `activeConn`, and polls it instead of being woken.
public final class ConnectionTracker: Sendable {
  /// A waiter in ``drain(until:clock:)``: reserved before it parks, so a timer or a cancellation
  /// arriving before the continuation exists is remembered rather than lost.
  private enum Waiter {
    case reserved
    /// Ended before it parked; carries the count it returns.
    case releasedBeforeParking(Int)
    case parked(UnsafeContinuation<Int, Never>)
  }

  private struct State {
    var closed = false
    var active = 0
    var nextWaiterID: UInt64 = 0
    /// In the order the waits began, so they wake first come, first served.
    var waiters: [(id: UInt64, waiter: Waiter)] = []

    /// Takes every parked waiter once the count reaches zero; reserved ones are marked released.
    mutating func releaseAllIfEmpty() -> [UnsafeContinuation<Int, Never>] {
      guard active == 0, !waiters.isEmpty else { return [] }
      var parked: [UnsafeContinuation<Int, Never>] = []
      var reserved: [(id: UInt64, waiter: Waiter)] = []
      for entry in waiters {
        switch entry.waiter {
        case .parked(let continuation): parked.append(continuation)
        case .reserved: reserved.append((entry.id, .releasedBeforeParking(0)))
        case .releasedBeforeParking: reserved.append(entry)
        }
      }
      waiters = reserved
      return parked
    }
  }

  private let state = Lock(State())

  /// An open tracker with nothing in flight.
  public init() {}

  /// Counts a new connection in, or refuses it (returns `nil`) once the tracker is closed.
  ///
  /// Keep the guard for as long as the connection is served; it leaves when it is deinitialized or
  /// when you call ``ConnectionGuard/leave()``.
  public func enter() -> ConnectionGuard? {
    let admitted = state.withLock { state -> Bool in
      guard !state.closed else { return false }  // closed: refused, and not counted
      state.active += 1
      return true
    }
    return admitted ? ConnectionGuard(tracker: self) : nil
  }

  /// Stops admitting: every later ``enter()`` returns `nil`. Connections already in are not touched.
  /// - Returns: `true` if this call closed the tracker (it was open).
  @discardableResult
  public func close() -> Bool {
    state.withLock { state in
      guard !state.closed else { return false }
      state.closed = true
      return true
    }
  }

  /// Whether ``close()`` has been called.
  public var isClosed: Bool { state.withLock { $0.closed } }

  /// Connections in flight now.
  public var activeCount: Int { state.withLock { $0.active } }

  /// Waits until no connection is in flight or `deadline` passes, whichever is first, and returns
  /// how many were still in flight then: 0 when drained.
  ///
  /// Returns at once (0) when nothing is in flight. Close the tracker first, or new connections
  /// may enter after this returned. The timer runs in its own task (``spawnTask(name:priority:_:)``),
  /// so inside a `Simulation` the virtual clock drives it. If the calling task is cancelled (before
  /// or during the wait), returns at once with the number in flight at that moment.
  nonisolated(nonsending) public func drain<C: Clock<Duration>>(
    until deadline: C.Instant, clock: C
  ) async -> Int {
    guard let id = reserveWaiter() else { return 0 }
    let timer = spawnTask(name: "connection drain deadline") { [self] in
      do {
        try await clock.sleep(until: deadline, tolerance: nil)
      } catch {
        return  // the drain ended first and cancelled its timer
      }
      release(id)
    }
    defer { timer.cancel() }
    return await park(id)
  }

  /// Waits until no connection is in flight, with no deadline; returns early if the calling task
  /// is cancelled. The coordinator runs this in a task of its own and times it itself.
  func waitUntilEmpty() async {
    guard let id = reserveWaiter() else { return }
    _ = await park(id)
  }

  /// Registers a waiter if anything is in flight; `nil` means "already empty".
  private func reserveWaiter() -> UInt64? {
    state.withLock { state -> UInt64? in
      guard state.active > 0 else { return nil }
      let id = state.nextWaiterID
      state.nextWaiterID += 1
      state.waiters.append((id, .reserved))
      return id
    }
  }

  /// Parks the reserved waiter `id` until the count reaches zero, or ``release(_:)`` ends it.
  private func park(_ id: UInt64) async -> Int {
    let report = WaitReporting.observer?.begin(
      "connection drain", detail: { [self] in "\(activeCount) connection(s) in flight" }
    ) { [self] in release(id) }
    defer { report?.end() }
    return await withTaskCancellationHandler {
      await withUnsafeContinuation { (continuation: UnsafeContinuation<Int, Never>) in
        // Checked under the same lock `leave` takes: either the last one left before this (we see
        // zero, or our waiter was released) or it leaves after, and finds us parked.
        let now = state.withLock { state -> Int? in
          guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return state.active }
          if case .releasedBeforeParking(let count) = state.waiters[index].waiter {
            state.waiters.remove(at: index)
            return count
          }
          if state.active == 0 || Task.isCancelled {
            state.waiters.remove(at: index)
            return state.active
          }
          state.waiters[index].waiter = .parked(continuation)
          return nil
        }
        if let now { continuation.resume(returning: now) }
      }
    } onCancel: { [self] in
      release(id)
    }
  }

  /// Ends one wait early (deadline, cancellation, deadlock unwinding), returning the count in flight
  /// now. Idempotent; a waiter not yet parked is marked so that it returns as soon as it parks.
  private func release(_ id: UInt64) {
    let resume = state.withLock { state -> (UnsafeContinuation<Int, Never>, Int)? in
      guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
      switch state.waiters[index].waiter {
      case .parked(let continuation):
        state.waiters.remove(at: index)
        return (continuation, state.active)
      case .reserved:
        state.waiters[index].waiter = .releasedBeforeParking(state.active)
        return nil
      case .releasedBeforeParking:
        return nil
      }
    }
    if let (continuation, active) = resume { continuation.resume(returning: active) }
  }

  /// One connection left; when it was the last, every drain waiting returns 0.
  fileprivate func leave() {
    let released = state.withLock { state -> [UnsafeContinuation<Int, Never>] in
      state.active -= 1
      return state.releaseAllIfEmpty()
    }
    for continuation in released { continuation.resume(returning: 0) }
  }

  /// Drain waits registered now, for tests checking that no waiter is left behind.
  package var waiterCountForTesting: Int { state.withLock { $0.waiters.count } }
}

/// One connection counted in by ``ConnectionTracker/enter()``. It leaves when deinitialized, or
/// earlier with ``leave()``.
public final class ConnectionGuard: Sendable {
  private let tracker: ConnectionTracker
  private let left = Lock(false)

  fileprivate init(tracker: ConnectionTracker) { self.tracker = tracker }

  deinit { leave() }

  /// Counts the connection out. Idempotent: only the first call (or the `deinit`) counts.
  public func leave() {
    let first = left.withLock { left -> Bool in
      defer { left = true }
      return !left
    }
    if first { tracker.leave() }
  }

  /// Whether ``leave()`` has been called.
  public var hasLeft: Bool { left.withLock { $0 } }
}
