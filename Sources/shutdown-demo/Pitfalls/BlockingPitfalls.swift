import Patterns

/// Pitfalls that keep the shutdown from being noticed: a blocked thread, a slow signal handler, and
/// a loop that swallows its cancellation.
enum BlockingPitfalls {
  // MARK: blocking-wait

  static let blockingWait = Pitfall(
    name: "blocking-wait",
    goesWrong: "a blocking wait holds a cooperative thread, so SIGTERM waits behind it",
    headline: """
      An uploader waits 2s for a callback from a network library, from 0.9s. SIGTERM arrives at 1s. The \
      simulation has one executor thread, as a cooperative pool on one core has.
      """,
    metric: "SIGTERM noticed late by",
    wrong: PitfallSide(
      [
        "let done = DispatchSemaphore(value: 0)",
        "uploader.start { done.signal() }",
        "done.wait()                            // blocks the thread, not the task",
      ]
    ) { context in
      await upload(context) {
        context.record("uploader", .wait, "done.wait(): blocks the thread for the 2s upload")
        context.blockThread(for: .seconds(2))
        context.record("uploader", .work, "the callback came; done.wait() returns, the thread is free")
      }
    },
    right: PitfallSide(
      [
        "await withCheckedContinuation { done in",
        "  uploader.start { done.resume() }     // suspends the task; the thread runs others",
        "}",
      ]
    ) { context in
      await upload(context) {
        context.record("uploader", .wait, "awaits the callback in a continuation: the thread is free")
        try? await context.sleep(for: .seconds(2))
        context.record("uploader", .work, "the callback came; the continuation resumes")
      }
    },
    why: """
      Swift's cooperative pool has one thread per core and expects every job to return soon. A \
      semaphore, a lock held across I/O, Thread.sleep or a synchronous read keeps the thread; every task \
      queued behind it (here the one that handles SIGTERM) waits too, and if the signaller is itself \
      queued behind the waiter, nothing ever runs again. Suspend instead: a continuation, an async API, \
      or a dedicated thread that resumes one.
      """,
    measure: { report in .duration(lateness(report) ?? .zero) },
    failure: { report in
      guard let late = lateness(report), late > .zero else { return nil }
      return "SIGTERM sent at 1.000s was noticed \(formatDuration(late)) late"
    })

  static func lateness(_ report: ScenarioReport) -> Duration? {
    report.events.first { $0.kind == .signal }.map { $0.time - .seconds(1) }
  }

  static func upload(_ context: ScenarioContext, wait: @escaping @Sendable () async -> Void) async
    -> [SummaryLine]
  {
    await withTaskGroup(of: Void.self) { group in
      group.addTask(name: "uploader") {
        try? await context.sleep(for: .milliseconds(900))
        await wait()
      }
      await context.waitForShutdownSignal()
      context.record("main", .observe, "handles SIGTERM at \(formatTimestamp(context.timeline.now))")
    }
    context.record("main", .exit, "exits 0")
    return []
  }

  // MARK: slow-signal-handler

  static let slowSignalHandler = Pitfall(
    name: "slow-signal-handler",
    goesWrong: "the signal handler saves state first, so the workers hear of SIGTERM late",
    headline: """
      2 workers serve until told to stop. SIGTERM arrives at 1s. Saving state takes 3s and closing the \
      database 5s.
      """,
    metric: "workers told after",
    wrong: PitfallSide(
      [
        "sigterm.setEventHandler {",
        "  saveState(); db.close()              // 8s, before anyone is told",
        "  token.cancel()",
        "}",
      ], participants: ["worker-1", "worker-2"]
    ) { context in
      await handleSignal(context, cleanupFirst: true)
    },
    right: PitfallSide(
      [
        "sigterm.setEventHandler { token.cancel() }   // only notify",
        "// main: await workers, then saveState(); db.close()",
      ], participants: ["worker-1", "worker-2"]
    ) { context in
      await handleSignal(context, cleanupFirst: false)
    },
    why: """
      The signal handler (or the queue it runs on) is the one place that must stay instant: until it \
      tells the tasks, they keep accepting work as if nothing happened, the grace period runs out \
      under them, and a second SIGTERM queues behind it. Notify and return; the shutdown task drains, \
      then cleans up.
      """,
    measure: { report in .duration(toldAfter(report) ?? .zero) },
    failure: { report in
      guard let after = toldAfter(report), after > .zero else { return nil }
      return "the workers kept serving \(formatDuration(after)) after SIGTERM"
    })

  static func toldAfter(_ report: ScenarioReport) -> Duration? {
    guard let signal = report.summary.shutdownAt,
      let told = report.events.first(where: { $0.kind == .notify })?.time
    else { return nil }
    return told - signal
  }

  static func handleSignal(_ context: ScenarioContext, cleanupFirst: Bool) async -> [SummaryLine] {
    let token = CancellationToken()
    let steps: [(String, Duration)] = [("saves state", .seconds(3)), ("closes the database", .seconds(5))]
    await withTaskGroup(of: Void.self) { group in
      for (index, name) in ["worker-1", "worker-2"].enumerated() {
        group.addTask(name: name) {
          await PitfallSupport.work(
            name, unit: .milliseconds(400 + 100 * index), until: token, context: context)
        }
      }
      await context.waitForShutdownSignal()
      if cleanupFirst {
        for (step, time) in steps {
          context.record("handler", .cleanup, "\(step) (\(formatDuration(time)))")
          try? await context.sleep(for: time)
        }
      }
      token.cancel()
      context.record("handler", .notify, "token.cancel(): tells the workers")
      await group.waitForAll()
    }
    if !cleanupFirst {
      for (step, time) in steps {
        context.record("main", .cleanup, "\(step) (\(formatDuration(time))), after the workers stopped")
        try? await context.sleep(for: time)
      }
    }
    context.record("main", .exit, "exits 0")
    return []
  }

  // MARK: swallowed-cancellation

  static let swallowedCancellation = Pitfall(
    name: "swallowed-cancellation",
    goesWrong: "try? swallows CancellationError, so a loop spins forever after the cancel",
    headline: """
      A ticker flushes metrics every 250ms in a task group. SIGTERM arrives at 1s and main cancels the \
      group.
      """,
    metric: "ticker after the cancel",
    wrong: PitfallSide(
      [
        "while true {",
        "  try? await clock.sleep(for: .milliseconds(250))   // throws at once when cancelled",
        "  flushMetrics()",
        "}",
      ], participants: ["ticker"], expectsLivelock: true
    ) { context in
      await tick(context, swallowing: true)
    },
    right: PitfallSide(
      [
        "while true {",
        "  try await clock.sleep(for: .milliseconds(250))    // cancellation ends the loop",
        "  flushMetrics()",
        "}",
      ], participants: ["ticker"]
    ) { context in
      await tick(context, swallowing: false)
    },
    why: """
      Cancellation in Swift only sets a flag; a cancelled Task.sleep throws at once, every time. A \
      try? turns that into a loop that never waits again: one core at 100 %, and the task group (and \
      main, and the process) never ends. Let CancellationError end the loop, or check Task.isCancelled.
      """,
    measure: { report in
      report.livelock == nil
        ? .text("stops at " + formatTimestamp(PitfallSupport.last(.exit, of: "ticker", in: report) ?? .zero))
        : .text("spins: livelock at " + formatTimestamp(report.events.last?.time ?? .zero))
    },
    failure: { report in
      report.livelock.map { "the ticker never stopped (\($0.replacingOccurrences("livelock: ", "")))" }
    })

  static func tick(_ context: ScenarioContext, swallowing: Bool) async -> [SummaryLine] {
    await withTaskGroup(of: Void.self) { group in
      group.addTask(name: "ticker") {
        context.record("ticker", .start, "flushes metrics every 250ms")
        var flushes = 0
        var noticed = false
        while true {
          if swallowing {
            try? await context.sleep(for: .milliseconds(250))
            if Task.isCancelled, !noticed {
              noticed = true
              context.record("ticker", .observe, "its sleep threw CancellationError; try? dropped it")
            }
          } else {
            do {
              try await context.sleep(for: .milliseconds(250))
            } catch {
              context.record("ticker", .observe, "its sleep threw CancellationError; the loop ends")
              context.record("ticker", .exit, "exits after \(counted(flushes, "flush", plural: "flushes"))")
              return
            }
          }
          flushes += 1
        }
      }
      await context.waitForShutdownSignal()
      context.record("main", .notify, "cancels the task group")
      group.cancelAll()
    }
    context.record("main", .exit, "exits 0")
    return []
  }
}

extension String {
  fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
    split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
  }
}
