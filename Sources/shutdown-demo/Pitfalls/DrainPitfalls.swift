import Patterns

/// Pitfalls of stopping the listener and draining connections: a drain that loses its wake-up,
/// a listener closed before the load balancer knows, and a pool closed before its users.
enum DrainPitfalls {
  // MARK: racy-drain

  static let connections = ["conn-1", "conn-2", "conn-3"]

  static let racyDrain = Pitfall(
    name: "racy-drain",
    goesWrong: "the drain checks a counter, then awaits a notification: the last close can fall between",
    headline: """
      3 idle keep-alive connections close when the listener closes, at SIGTERM (1s); main then waits \
      for the count of open connections to reach 0. Which runs first, main or a closing connection, \
      depends on the schedule: each seed is one.
      """,
    metric: "hangs in",
    wrong: PitfallSide(
      [
        "while active.load(ordering: .acquiring) > 0 {   // check…",
        "  await log.info(\"draining\")                     // any await: the last close lands here",
        "  await allClosed.notified()    // …then wait: notifyWaiters() wakes only who waits now",
        "}",
      ], expectsDeadlock: true
    ) { context in
      await racy(context)
    },
    right: PitfallSide(
      [
        "connections.close()                               // ConnectionTracker",
        "let left = await connections.drain(until: deadline, clock: clock)",
        "// the check and the registration of the waiter are one step, under one lock",
      ]
    ) { context in
      await tracked(context)
    },
    why: """
      A notification that wakes only the tasks waiting at that moment (Tokio's notify_waiters, a \
      condition variable's broadcast, a hand-rolled list of continuations) loses the wake-up of a task \
      that has checked the counter but not yet registered. The check and the registration must be one \
      atomic step: register first, then check (Tokio's Notified::enable), or do both under one lock, as \
      ConnectionTracker does.
      """,
    measure: { report in .flag(!report.deadlocks.isEmpty) },
    failure: { report in PitfallSupport.deadlock(report) },
    schedules: 20)

  /// The hand-rolled notification of the racy drain: wakes the tasks waiting now, remembers nothing.
  final class AllClosed: Sendable {
    private let waiters = Lock<[OnceContinuation]>([])
    let active: Lock<Int>

    init(active: Int) { self.active = Lock(active) }

    func notified() async {
      try? await withLabelledContinuation(
        "notified", detail: { [self] in "\(active.withLock { $0 }) connections active" }
      ) { waiter in waiters.withLock { $0.append(waiter) } }
    }

    func notifyWaiters() {
      let waiting = waiters.withLock { waiters in
        defer { waiters = [] }
        return waiters
      }
      for waiter in waiting { waiter.resume() }
    }
  }

  static func racy(_ context: ScenarioContext) async -> [SummaryLine] {
    let listenerClosed = CancellationToken()
    let allClosed = AllClosed(active: connections.count)
    await withTaskGroup(of: Void.self) { group in
      for name in connections {
        group.addTask(name: name) {
          await listenerClosed.cancelled()
          let left = allClosed.active.withLock { active in
            active -= 1
            return active
          }
          context.record(name, .exit, "closes (\(counted(left, "connection")) left)")
          if left == 0 { allClosed.notifyWaiters() }
        }
      }
      await context.waitForShutdownSignal()
      listenerClosed.cancel()
      context.record("main", .notify, "closes the listener; idle connections close")
      while allClosed.active.withLock({ $0 }) > 0 {
        context.record("main", .wait, "sees connections open; logs, then waits for allClosed")
        await Task.yield()  // the await between the check and the wait
        await allClosed.notified()
      }
      if context.timeline.events.contains(where: { $0.actor == "simulation" }) {
        context.record("main", .note, "the wait ended only because the simulation unwound the deadlock")
        context.record("main", .note, "a real process would have waited here until SIGKILL")
      } else {
        context.record("main", .exit, "drained; exits 0")
      }
    }
    return []
  }

  static func tracked(_ context: ScenarioContext) async -> [SummaryLine] {
    let listenerClosed = CancellationToken()
    let tracker = ConnectionTracker()
    await withTaskGroup(of: Void.self) { group in
      for name in connections {
        guard let entry = tracker.enter() else { continue }
        group.addTask(name: name) {
          await listenerClosed.cancelled()
          entry.leave()
          context.record(name, .exit, "closes (\(counted(tracker.activeCount, "connection")) left)")
        }
      }
      await context.waitForShutdownSignal()
      listenerClosed.cancel()
      tracker.close()
      context.record("main", .notify, "closes the listener; idle connections close")
      context.record("main", .wait, "connections.drain(until: 30s from now)")
      let left = await context.drain(tracker, within: .seconds(30))
      context.record("main", .exit, "drained (\(counted(left, "connection")) left); exits 0")
    }
    return []
  }

  // MARK: readiness-after-close

  static let readinessAfterClose = Pitfall(
    name: "readiness-after-close",
    goesWrong: "the listener closes before readiness fails, so the load balancer's requests are refused",
    headline: """
      A load balancer sends a request every 100ms and takes 2s after SIGTERM (1s) to stop routing to \
      this pod (its endpoint removal, or failed readiness probes). Each request takes 50ms.
      """,
    metric: "requests refused",
    wrong: PitfallSide(
      [
        "onSIGTERM {",
        "  listener.close()                     // the load balancer still routes here",
        "  await connections.drain(until: deadline, clock: clock)",
        "}",
      ]
    ) { context in
      await loadBalanced(context, flipReadinessFirst: false)
    },
    right: PitfallSide(
      [
        "onSIGTERM {",
        "  ready.send(false)                    // /ready answers 503",
        "  try await clock.sleep(for: .seconds(3))   // keep serving while routing stops",
        "  listener.close(); await connections.drain(until: deadline, clock: clock)",
        "}",
      ]
    ) { context in
      await loadBalanced(context, flipReadinessFirst: true)
    },
    why: """
      The pod hears of its termination before the load balancer stops sending to it: in Kubernetes the \
      endpoint removal runs at the same time as SIGTERM. Close the listener first and every request \
      in that window is refused. Fail readiness first, keep serving for longer than the routing takes \
      to catch up (GracefulShutdown's drainDelay, or a preStop sleep), then close and drain.
      """,
    measure: { report in
      .count(report.events.first { $0.actor == "balancer" && $0.kind == .exit }?.count ?? 0)
    },
    failure: { report in
      let refused = report.events.first { $0.actor == "balancer" && $0.kind == .exit }?.count ?? 0
      return refused == 0 ? nil : "\(counted(refused, "request")) refused: the client saw connection refused"
    })

  static func loadBalanced(_ context: ScenarioContext, flipReadinessFirst: Bool) async -> [SummaryLine] {
    let tracker = ConnectionTracker()
    let (ready, readiness) = Watch<Bool>.channel(true)
    await withTaskGroup(of: Void.self) { group in
      group.addTask(name: "balancer") {
        context.record("balancer", .start, "routes a request every 100ms to this pod")
        var served = 0
        var refused = 0
        try? await context.sleep(for: .milliseconds(50))
        await withTaskGroup(of: Void.self) { requests in
          // Routing stops 2s after SIGTERM whatever the pod does.
          while context.timeline.now < .seconds(3) {
            if let entry = tracker.enter() {
              served += 1
              requests.addTask {
                try? await context.sleep(for: .milliseconds(50))
                entry.leave()
              }
            } else {
              if refused == 0 { context.record("balancer", .error, "request refused: connection refused") }
              refused += 1
            }
            try? await context.sleep(for: .milliseconds(100))
          }
        }
        let why = readiness.borrow() ? "its endpoint is removed" : "readiness has failed"
        context.record(
          "balancer", .exit, "stops routing here (\(why)): \(served) served, \(refused) refused",
          count: refused)
      }
      await context.waitForShutdownSignal()
      if flipReadinessFirst {
        try? ready.send(false)
        context.record("main", .notify, "readiness → false: /ready answers 503; keeps serving for 3s")
        try? await context.sleep(for: .seconds(3))
      }
      tracker.close()
      context.record("main", .notify, "closes the listener: new connections are refused")
      let left = await context.drain(tracker, within: .seconds(5))
      context.record("main", .exit, "drained (\(counted(left, "connection")) left); exits 0")
    }
    return []
  }

  // MARK: pool-closed-first

  /// Requests in flight at SIGTERM: when each queries the database.
  static let queries: [(name: String, at: Duration)] = [
    ("req-1", .milliseconds(800)), ("req-2", .milliseconds(1200)), ("req-3", .milliseconds(1400)),
  ]

  static let poolClosedFirst = Pitfall(
    name: "pool-closed-first",
    goesWrong: "the database pool closes before the requests that use it have finished",
    headline: """
      3 requests each run a query; the last queries at 1.4s. SIGTERM arrives at 1s; the service must \
      drain the requests and close its database pool.
      """,
    metric: "requests failed",
    wrong: PitfallSide(
      [
        "await pool.close()                      // first: \"release resources\"",
        "connections.close()",
        "await connections.drain(until: deadline, clock: clock)",
      ]
    ) { context in
      await closePool(context, poolFirst: true)
    },
    right: PitfallSide(
      [
        "cleanup.register(name: \"database pool\", timeout: .seconds(5)) { await pool.close() }",
        "connections.close(); await connections.drain(until: deadline, clock: clock)",
        "await cleanup.run(budget: .seconds(10), clock: clock)   // last in, first out",
      ]
    ) { context in
      await closePool(context, poolFirst: false)
    },
    why: """
      A resource must outlive its users. Close the pool first and every request still in flight fails \
      with "pool closed" (or "database connection closed"), though it would have finished in time. Stop \
      accepting, drain, then close what the requests used, in the reverse of the order you opened it: \
      a CleanupStack runs last-in first-out.
      """,
    measure: { report in .count(PitfallSupport.count(.error, in: report)) },
    failure: { report in
      let failed = report.events.filter { $0.kind == .error }.map(\.actor)
      return failed.isEmpty ? nil : "\(listed(failed)) failed: pool closed"
    })

  /// A database pool that refuses queries once closed.
  final class Pool: Sendable {
    struct Closed: Error, CustomStringConvertible { var description: String { "pool closed" } }
    private let closed = Lock(false)
    func query() throws(Closed) { if closed.withLock({ $0 }) { throw Closed() } }
    func close() { closed.withLock { $0 = true } }
  }

  static func closePool(_ context: ScenarioContext, poolFirst: Bool) async -> [SummaryLine] {
    let pool = Pool()
    let tracker = ConnectionTracker()
    let cleanup = CleanupStack()
    cleanup.register(name: "database pool", timeout: .seconds(5)) {
      pool.close()
      context.record("main", .cleanup, "closes the database pool")
    }
    await withTaskGroup(of: Void.self) { group in
      for query in queries {
        guard let entry = tracker.enter() else { continue }
        group.addTask(name: query.name) {
          defer { entry.leave() }
          try? await context.sleep(for: query.at)
          do {
            try pool.query()
            context.record(query.name, .exit, "query done; replies 200")
          } catch {
            context.record(query.name, .error, "query failed: \(error); replies 500")
          }
        }
      }
      await context.waitForShutdownSignal()
      if poolFirst {
        pool.close()
        context.record("main", .cleanup, "closes the database pool")
      }
      tracker.close()
      context.record("main", .notify, "stops accepting; drains the requests")
      _ = await context.drain(tracker, within: .seconds(5))
      if !poolFirst { _ = await cleanup.run(budget: .seconds(10), clock: context.clock) }
      context.record("main", .exit, "exits 0")
    }
    return []
  }
}
