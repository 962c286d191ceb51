import Patterns

/// `shutdown-demo mpsc`: many senders, one receiver — a work queue that pushes back, and "every
/// sender dropped" as the signal that all work is done.
///
/// Lifetimes are explicit everywhere below. A sender is given to a task through a capture list
/// (`[done = done.clone()]`), so it dies the moment that task ends; main ends its own with
/// `_ = consume done`. Leaving a sender's end to "the last use" would make the story depend on the
/// optimizer, and the output differ between debug and release builds.
enum MPSCStories {
  static let catalog = StoryCatalog(
    command: "mpsc",
    abstract: "Many senders, one receiver: back-pressure, and \"every sender dropped\" as \"all done\".",
    discussion: """
      A bounded channel makes fast producers wait for a slow consumer; when every sender is gone, \
      receive() returns nil, which tells main that all work is done. The Swift counterpart of \
      tokio::sync::mpsc.
      """,
    scenarios: [basic, forgotDrop, backpressure, drain, closeThenDrain, timeout])

  // MARK: basic

  /// Every worker holds a clone of the sender; main drops its own and waits in `receive()`. Each
  /// worker's sender goes when the worker ends; `nil` arrives right after the last one.
  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      """
      \(knobs.workers == 1 ? "The one worker holds" : "Each of \(knobs.workers) workers holds") a clone of \
      the sender and reports its results through it. Main drops its own sender and receives until \
      receive() returns nil: that nil means every worker has finished, and nobody counted anything.
      """
    },
    knobs: [.workers],
    participants: { _ in [] },
    lesson: """
      Give every task a sender and drop your own: when the last sender is gone, receive() returns nil, \
      so "all done" needs no counter, and cannot miss a task.
      """,
    invariants: [
      .nothingAborted, .nothingLost, .everyTaskEnded,
      .measured(resultsReceived) { .count(2 * $0.knobs.workers) },
    ]
  ) { context in
    let result = await runCompletionStory(context, mainDropsItsSender: true)
    return [
      SummaryLine(resultsReceived, .count(result.received)),
      SummaryLine(
        "\"all done\" known at", .instant(result.allDoneAt ?? .zero), note: "(as the last sender was dropped)"
      ),
    ]
  }

  static let resultsReceived = "results received"
  static let sendersAlive = "senders alive when main gave up"

  // MARK: forgot-drop

  /// The same story, but main keeps its own sender. `receive()` can never return `nil`: the
  /// simulation finds nothing left to run, names the sender that is still alive and who holds it,
  /// and unwinds the wait instead of hanging.
  static let forgotDrop = Scenario(
    name: "forgot-drop",
    headline: { knobs in
      """
      The basic story with one line missing: main never drops its own sender. The workers finish, but \
      one sender is still alive, so receive() never returns nil and main would wait forever; the \
      simulation reports the deadlock and who holds the sender.
      """
    },
    knobs: [.workers],
    participants: { _ in [] },
    lesson: """
      A receive() that never returns nil means a sender is still alive somewhere, often your own: drop \
      it before you wait (`_ = consume done`), and a sender stored in a property or captured by a \
      closure lives as long as they do.
      """,
    expectsDeadlock: true,
    invariants: [
      .nothingLost, .measured(resultsReceived) { .count(2 * $0.knobs.workers) },
      .measured(sendersAlive, .count(1)),
    ]
  ) { context in
    let result = await runCompletionStory(context, mainDropsItsSender: false)
    return [
      SummaryLine(resultsReceived, .count(result.received)),
      SummaryLine(sendersAlive, .count(result.sendersLeft), note: "(main's own)"),
      SummaryLine("the fix", .text("`_ = consume done` before the receive loop (see: basic)")),
    ]
  }

  struct CompletionResult: Sendable {
    var received = 0
    var allDoneAt: Duration?
    var sendersLeft = 0
  }

  /// Workers report results through clones of one sender; main receives until `nil`.
  static func runCompletionStory(_ context: ScenarioContext, mainDropsItsSender: Bool) async
    -> CompletionResult
  {
    let knobs = context.knobs
    return await withTaskGroup(of: Void.self) { group in
      let (done, results) = MPSC<String>.channel(capacity: knobs.capacity)
      context.record(
        "main", .start,
        "creates the channel and starts \(counted(knobs.workers, "worker"))\(eachWith(knobs.workers)) a clone of the sender"
      )
      for (index, name) in Crew.names(knobs.workers).enumerated() {
        let unit = Crew.pace(ofWorker: index)
        group.addTask(name: name) { [done = done.clone()] in
          context.record(name, .start, "starts 2 jobs, \(formatDuration(unit)) each")
          for job in 1...2 {
            guard (try? await context.sleep(for: unit)) != nil else { return }
            try? await done.send("\(name) job \(job)")
          }
          // The task ends here, and its sender with it: nothing else runs in between.
          context.record(
            name, .exit, "exits; its sender goes with it (\(senders(done.strongCount - 1)) left)")
        }
      }
      let result: CompletionResult
      if mainDropsItsSender {
        _ = consume done
        context.record("main", .wait, "drops its own sender, then waits in receive() until nil")
        result = await receiveUntilNil(results, context: context)
      } else {
        context.record("main", .wait, "waits in receive() until nil, still holding its own sender")
        result = await receiveUntilNil(results, context: context)
        extendLifetime(done)  // main held it all along: that is the bug
      }
      if mainDropsItsSender {
        context.mainExits("every result is in")
      } else {
        context.record("main", .note, "a real process would wait here forever: it never exits")
      }
      return result
    }
  }

  /// Main's side of the completion story: receive until `nil`.
  static func receiveUntilNil(_ results: MPSC<String>.Receiver, context: ScenarioContext) async
    -> CompletionResult
  {
    var result = CompletionResult()
    while let message = await results.receive() {
      result.received += 1
      context.record("main", .receive, "receives \"\(message)\"")
    }
    if Task.isCancelled {
      // Only the simulation's unwinding ends this wait: no nil from the senders ever came.
      result.sendersLeft = results.senderStrongCount
      context.record(
        "main", .note,
        "receive() gave up only because the simulation unwound the deadlock: "
          + "\(senders(result.sendersLeft)) still alive")
    } else {
      result.allDoneAt = context.timeline.now
      context.record(
        "main", .observe, "receive() returned nil: every sender is gone, so every worker is done")
    }
    return result
  }

  // MARK: backpressure

  /// A producer makes a job every 50ms; the consumer needs --consumer-delay per job. Bounded, the
  /// producer waits whenever the channel is full; unbounded, the queue just grows.
  static let backpressure = Scenario(
    name: "backpressure",
    headline: { knobs in
      """
      A producer makes \(backpressureJobs) jobs, one every \(formatDuration(producerPace)); the consumer \
      needs \(formatDuration(knobs.consumerDelay)) per job. First on a channel of capacity \
      \(knobs.capacity): when it is full, send() waits. Then on an unbounded channel: nothing waits, and \
      the queue grows.
      """
    },
    knobs: [.capacity, .consumerDelay],
    participants: { _ in [] },
    lesson: """
      A bounded channel makes a fast producer wait for a slow consumer, so the queue (and the memory it \
      holds) never exceeds its capacity; an unbounded one grows for as long as the producer outpaces \
      the consumer.
      """,
    invariants: [.nothingLost, .everyTaskEnded]
  ) { context in
    context.record("main", .start, "a bounded channel of capacity \(context.knobs.capacity)")
    let bounded = await runProducerAndConsumer(context, capacity: context.knobs.capacity)
    context.record("main", .start, "the same producer and consumer on an unbounded channel")
    let unbounded = await runProducerAndConsumer(context, capacity: nil)
    context.mainExits("both runs are done")
    return [
      SummaryLine(
        "bounded: peak queued", .bounded(bounded.peak, limit: .init(context.knobs.capacity, "capacity"))),
      SummaryLine("bounded: producer waited", waited(bounded, context: context)),
      SummaryLine("unbounded: peak queued", .count(unbounded.peak)),
      SummaryLine("unbounded: producer waited", waited(unbounded, context: context)),
    ]
  }

  /// "never", or "4 times, 800ms in all".
  static func waited(_ pressure: Pressure, context: ScenarioContext) -> Measure {
    pressure.waits == 0
      ? .text("never")
      : .text("\(counted(pressure.waits, "time")), \(context.measured(pressure.waited)) in all")
  }

  static let backpressureJobs = 10
  static let producerPace: Duration = .milliseconds(50)

  struct Pressure: Sendable {
    var peak = 0
    var waits = 0
    var waited: Duration = .zero
  }

  /// Runs the producer against a consumer that takes --consumer-delay per job, on a bounded
  /// channel (`capacity`) or an unbounded one (`nil`). The producer's task owns the sender: when the
  /// producer ends, the consumer's loop ends.
  static func runProducerAndConsumer(_ context: ScenarioContext, capacity: Int?) async -> Pressure {
    await withTaskGroup(of: Pressure.self) { group in
      let receiver: MPSC<Int>.Receiver
      if let capacity {
        let (sender, boundedReceiver) = MPSC<Int>.channel(capacity: capacity)
        receiver = boundedReceiver
        group.addTask(name: "producer") { [sender = consume sender] in
          await produceJobs(context, queued: { receiver.count }) { job in
            // Try first, only to show the wait in the timeline; `send` alone would wait the same way.
            guard
              case .failure(.full) = Result(catching: { () throws(MPSC<Int>.TrySendError) in
                try sender.trySend(job)
              })
            else { return false }
            context.record(
              "producer", .wait, "job \(job): channel full (\(receiver.count) queued), waits for room")
            try? await sender.send(job)
            return true
          }
        }
      } else {
        let (sender, unboundedReceiver) = MPSC<Int>.unboundedChannel()
        receiver = unboundedReceiver
        group.addTask(name: "producer") { [sender = consume sender] in
          await produceJobs(context, queued: { receiver.count }) { job in
            try? sender.send(job)  // never waits
            return false
          }
        }
      }
      group.addTask(name: "consumer") {
        for await job in receiver {
          context.record("consumer", .receive, "takes job \(job) (\(receiver.count) left queued)")
          try? await context.sleep(for: context.knobs.consumerDelay)
        }
        context.record(
          "consumer", .exit, "receive() returned nil: the producer is gone and the queue is empty")
        return Pressure()
      }
      var result = Pressure()
      for await pressure in group where pressure.peak > 0 { result = pressure }
      return result
    }
  }

  /// Makes a job every 50ms; `send` returns whether it had to wait.
  static func produceJobs(
    _ context: ScenarioContext, queued: () -> Int, send: (Int) async -> Bool
  ) async -> Pressure {
    var pressure = Pressure()
    for job in 1...backpressureJobs {
      if job > 1 { try? await context.sleep(for: producerPace) }
      let started = context.timeline.now
      let waited = await send(job)
      pressure.peak = max(pressure.peak, queued())
      if waited {
        pressure.waits += 1
        pressure.waited += context.timeline.now - started
        context.record("producer", .send, "job \(job) sent after waiting (\(queued()) queued)")
      } else {
        context.record("producer", .send, "sends job \(job) (\(queued()) queued)")
      }
    }
    context.record("producer", .exit, "done producing; its sender goes as it ends")
    return pressure
  }

  /// "no sender", "1 sender", "2 senders".
  static func senders(_ count: Int) -> String { count == 0 ? "no sender" : counted(count, "sender") }
}
