import Patterns

/// Pitfalls of channels at shutdown: a stream nobody finishes, a sender nobody drops, and a
/// broadcast too small for its slowest receiver.
enum ChannelPitfalls {
  // MARK: stream-never-finished

  static let streamNeverFinished = Pitfall(
    name: "stream-never-finished",
    goesWrong: "an AsyncStream's continuation is never finished, so for await never ends",
    headline: """
      A producer yields 5 jobs into an AsyncStream, one every 100ms; the consumer handles each and \
      should return when the jobs run out.
      """,
    metric: "consumer returned",
    wrong: PitfallSide(
      [
        "let (jobs, continuation) = AsyncStream.makeStream(of: Job.self)",
        "for job in batch { continuation.yield(job) }   // no finish()",
        "for await job in jobs { await handle(job) }    // never ends",
      ], expectsDeadlock: true, script: []
    ) { context in
      await stream(context, finish: false)
    },
    right: PitfallSide(
      [
        "let (jobs, continuation) = AsyncStream.makeStream(of: Job.self)",
        "for job in batch { continuation.yield(job) }; continuation.finish()",
        "for await job in jobs { await handle(job) }    // ends after the last job",
      ], script: []
    ) { context in
      await stream(context, finish: true)
    },
    why: """
      Only finish() makes an AsyncStream's iterator return nil. Dropping the continuation does not end \
      it (unlike the last sender of an mpsc channel), so a consumer that waits for the end waits \
      forever, and whoever awaits the consumer waits with it. Finish in the producer, with defer \
      { continuation.finish() } so an early return or a throw finishes too.
      """,
    measure: { report in PitfallSupport.hangOrReturn(report, actor: "consumer") },
    failure: { report in PitfallSupport.deadlock(report) })

  static func stream(_ context: ScenarioContext, finish: Bool) async -> [SummaryLine] {
    let (jobs, continuation) = AsyncStream.makeStream(of: Int.self)
    await withTaskGroup(of: Void.self) { group in
      group.addTask(name: "producer") {
        for job in 1...5 {
          try? await context.sleep(for: .milliseconds(100))
          continuation.yield(job)
        }
        context.record("producer", .exit, finish ? "yielded 5 jobs; finish()" : "yielded 5 jobs; returns")
        if finish { continuation.finish() }
      }
      group.addTask(name: "consumer") {
        var iterator = jobs.makeAsyncIterator()
        var handled = 0
        // The stream's own wait is a bare continuation: announced here so a deadlock names it.
        while let job = await WaitReporting.labelled(
          "AsyncStream next", detail: { "its continuation was never finished" },
          unwind: { continuation.finish() }, { await iterator.next() })
        {
          handled += 1
          context.record("consumer", .receive, "handles job \(job)")
        }
        context.record("consumer", .exit, "the stream ended after \(counted(handled, "job")); returns")
      }
    }
    if context.timeline.events.contains(where: { $0.actor == "simulation" }) {
      context.record("main", .note, "the stream ended only because the simulation unwound the deadlock")
    }
    return []
  }

  // MARK: last-sender-kept

  static let lastSenderKept = Pitfall(
    name: "last-sender-kept",
    goesWrong: "main keeps its own mpsc sender, so receive() never returns nil",
    headline: """
      3 workers each send a result on an mpsc channel, by 1.2s; main collects results until the channel \
      ends, which it does when the last sender is gone.
      """,
    metric: "results loop ended",
    wrong: PitfallSide(
      [
        "let (results, inbox) = MPSC<Result>.channel(capacity: 8)",
        "for w in workers { let tx = results.clone(); spawn { await w.run(reportingTo: tx) } }",
        "while let r = await inbox.receive() { record(r) }   // main still holds `results`",
      ], expectsDeadlock: true, script: []
    ) { context in
      await collect(context, dropOwnSender: false)
    },
    right: PitfallSide(
      [
        "for w in workers { let tx = results.clone(); spawn { await w.run(reportingTo: tx) } }",
        "_ = consume results                      // main's own handle goes first",
        "while let r = await inbox.receive() { record(r) }",
      ], script: []
    ) { context in
      await collect(context, dropOwnSender: true)
    },
    why: """
      "Every sender gone means done" counts every sender, the waiter's own included. The handle main \
      used to make the clones keeps the channel open, and receive() waits for a value that will never \
      come. Drop it before you wait: _ = consume results (Rust: drop(tx)).
      """,
    measure: { report in PitfallSupport.hangOrReturn(report) },
    failure: { report in PitfallSupport.deadlock(report) })

  static func collect(_ context: ScenarioContext, dropOwnSender: Bool) async -> [SummaryLine] {
    let (results, inbox) = MPSC<String>.channel(capacity: 8)
    context.record("main", .start, "starts 3 workers, each with a clone of the sender")
    for index in 1...3 {
      let name = "worker-\(index)"
      spawnTask(name: name) { [sender = results.clone()] in
        try? await context.sleep(for: .milliseconds(400 * index))
        try? await sender.send("\(name) done")
        context.record(name, .exit, "sent its result; its sender goes with it")
      }
    }
    if dropOwnSender {
      _ = consume results
      context.record("main", .notify, "_ = consume results: only the workers hold senders now")
      await receiveAll(inbox, context: context)
    } else {
      context.record("main", .wait, "receives until nil, still holding its own sender")
      await receiveAll(inbox, context: context)
      extendLifetime(results)  // main held it all along: that is the bug
      context.record("main", .note, "a real process would wait here forever")
    }
    return []
  }

  static func receiveAll(_ inbox: MPSC<String>.Receiver, context: ScenarioContext) async {
    var received = 0
    while let result = await inbox.receive() {
      received += 1
      context.record("main", .receive, "receives \"\(result)\"")
    }
    if context.timeline.events.contains(where: { $0.actor == "simulation" }) {
      context.record("main", .note, "receive() gave up only because the simulation unwound the deadlock")
    } else {
      context.record("main", .exit, "receive() returned nil after \(counted(received, "result")); exits 0")
    }
  }

  // MARK: broadcast-too-small

  static let events = ["e1", "e2", "e3", "e4", "e5", "shutdown"]

  static let broadcastTooSmall = Pitfall(
    name: "broadcast-too-small",
    goesWrong: "a broadcast smaller than the burst makes the slow receiver lag and miss shutdown",
    headline: """
      A sender broadcasts a burst of 5 events and then "shutdown", 10ms apart; the audit receiver needs \
      100ms per event and stops when it sees "shutdown".
      """,
    metric: "events the receiver saw",
    wrong: PitfallSide(
      [
        "let (events, audit) = Broadcast<Event>.channel(capacity: 2)   // smaller than the burst",
        "while let event = try? await audit.receive() {   // the first .lagged ends the loop",
        "  await handle(event)",
        "}",
      ], participants: ["audit"], script: []
    ) { context in
      await broadcast(context, capacity: 2, countLag: false)
    },
    right: PitfallSide(
      [
        "let (events, audit) = Broadcast<Event>.channel(capacity: 8)   // at least the burst",
        "do { await handle(try await audit.receive()) }",
        "catch BroadcastReceiveError.lagged(let missed) { lost += missed }   // count it, go on",
      ], participants: ["audit"], script: []
    ) { context in
      await broadcast(context, capacity: 8, countLag: true)
    },
    why: """
      A broadcast channel keeps the last `capacity` values; a receiver further behind gets .lagged and \
      skips to the oldest one kept. That is by design for droppable events, not for "stop": a try? loop \
      ends at the first lag, and the shutdown event can be the one dropped. Size it for the burst, \
      handle .lagged, and send "stop" by a token or a watch, which cannot be lost.
      """,
    measure: { report in .fraction(PitfallSupport.count(.receive, in: report), of: events.count) },
    failure: { report in
      let seen = report.events.contains { $0.actor == "audit" && $0.kind == .observe }
      let lost = events.count - PitfallSupport.count(.receive, in: report)
      return seen && lost == 0 ? nil : "\(counted(lost, "event")) never seen, \"shutdown\" among them"
    })

  static func broadcast(_ context: ScenarioContext, capacity: Int, countLag: Bool) async -> [SummaryLine] {
    let (sender, audit) = Broadcast<String>.channel(capacity: capacity)
    context.record("main", .start, "a broadcast channel of capacity \(capacity)")
    await withTaskGroup(of: Void.self) { group in
      group.addTask(name: "audit") {
        while true {
          do {
            let event = try await audit.receive()
            context.record("audit", .receive, "receives \(event)")
            if event == "shutdown" {
              context.record("audit", .observe, "sees shutdown; stops")
              return
            }
            try? await context.sleep(for: .milliseconds(100))
          } catch BroadcastReceiveError.lagged(let missed) {
            context.record("audit", .lost, "lagged: missed \(missed)", count: missed)
            if !countLag {
              context.record("audit", .exit, "try? turned .lagged into nil: the loop ends")
              return
            }
          } catch {
            return
          }
        }
      }
      group.addTask(name: "sender") {
        for event in events {
          _ = try? sender.send(event)
          try? await context.sleep(for: .milliseconds(10))
        }
        context.record("sender", .send, "sent 5 events and shutdown")
      }
    }
    context.record("main", .exit, "exits 0")
    return []
  }
}
