import Patterns

/// The broadcast stories about a slow receiver: the ring overwrites what it has not read.
extension BroadcastStories {
  static let jobInterval: Duration = .milliseconds(100)
  static let fastJob: Duration = .milliseconds(50)
  static let jobsHandledLabel = "jobs handled"

  // MARK: slow-consumer

  /// A producer broadcasts a job every 100 ms and then the shutdown. The last worker is slow: the
  /// ring overwrites what it has not read, and it gets `.lagged(missed:)`, then reads on.
  static let slowConsumer = Scenario(
    name: "slow-consumer",
    headline: { knobs in
      """
      A producer broadcasts a job every 100ms, then the shutdown at \(formatDuration(knobs.shutdownAt)), \
      into a ring of \(counted(knobs.capacity, "message")). \(fastWorkers(knobs)) \
      worker-\(knobs.workers)\(knobs.workers == 1 ? "," : "") takes \(formatDuration(knobs.consumerDelay)) per job, and loses whatever the \
      ring overwrites before it reads it.
      """
    },
    knobs: [.workers, .shutdownAt, .capacity, .consumerDelay],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      A broadcast channel never waits for a slow receiver: it overwrites the oldest message, and the \
      receiver learns how many it lost from .lagged(missed:). Size the capacity for the slowest reader, \
      and treat .lagged as a loss to log, not as the end.
      """,
    invariants: [.everyParticipantObserved, .everyTaskEnded],
    outcome: [.nothingAborted, .somethingLost]
  ) { context in
    let knobs = context.knobs
    let (sender, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    context.record(
      "main", .start,
      "creates a broadcast channel holding \(counted(knobs.capacity, "message")); "
        + "\(counted(knobs.workers, "worker")) \(knobs.workers == 1 ? "subscribes" : "subscribe")")
    let handled = Tally(knobs.workers)
    var jobs = 0
    await withTaskGroup(of: Void.self) { group in
      for (index, name) in Crew.names(knobs.workers).enumerated() {
        let receiver = sender.subscribe()
        let slow = index == knobs.workers - 1
        group.addTask(name: name) {
          let count = await consumeJobs(
            name, receiver: receiver, perJob: slow ? knobs.consumerDelay : fastJob, narrate: slow,
            context: context)
          handled.set(index, count)
        }
      }
      jobs = await produceJobs(sender, context: context)
    }
    context.mainExits("every worker has stopped")
    return [jobsHandled(names: Crew.names(knobs.workers), handled.values, of: jobs)]
  }

  static func fastWorkers(_ knobs: Knobs) -> String {
    switch knobs.workers {
    case 1: return "The only worker,"
    case 2: return "worker-1 keeps up;"
    case 3: return "worker-1 and worker-2 keep up;"
    default: return "worker-1 to worker-\(knobs.workers - 1) keep up;"
    }
  }

  static func jobsHandled(names: [String], _ counts: [Int], of jobs: Int) -> SummaryLine {
    SummaryLine(jobsHandledLabel, .tally(zip(names, counts).map { Measure.Part($1, $0) }, of: jobs))
  }

  /// Sends a job every 100 ms until the signal, then the shutdown message. Returns how many jobs it
  /// sent. Says when a send overwrites a message someone has not read.
  static func produceJobs(_ sender: Broadcast<Command>.Sender, context: ScenarioContext) async -> Int {
    let capacity = context.knobs.capacity
    var jobs = 0
    while await !context.sleepUnlessShutdownSignal(for: jobInterval) {
      jobs += 1
      context.record(
        "producer", .send, "sends job \(jobs)" + overwriteNote(sender, sending: jobs, capacity: capacity))
      _ = try? sender.send(.job(jobs))
    }
    context.record(
      "producer", .notify,
      "sends the shutdown message" + overwriteNote(sender, sending: jobs + 1, capacity: capacity))
    _ = try? sender.send(.shutdown)
    return jobs
  }

  /// " (the ring is full: job 2 is overwritten)" when message number `number` pushes out one that
  /// some receiver has not read: every slot of the ring holds an unread message.
  static func overwriteNote(_ sender: Broadcast<Command>.Sender, sending number: Int, capacity: Int) -> String
  {
    guard sender.count == capacity else { return "" }
    return " (the ring is full: job \(number - capacity) is overwritten)"
  }

  /// Reads jobs until the shutdown message; each takes `perJob`. Handles `.lagged` by logging the
  /// loss and reading on. Returns how many jobs it handled.
  static func consumeJobs(
    _ name: String, receiver: Broadcast<Command>.Receiver, perJob: Duration, narrate: Bool,
    context: ScenarioContext
  ) async -> Int {
    context.record(name, .start, "starts; each job takes \(formatDuration(perJob))")
    var handled = 0
    var lastJob = 0
    do {
      while true {
        do {
          switch try await receiver.receive() {
          case .job(let number):
            lastJob = number
            if narrate { context.record(name, .receive, "takes job \(number)") }
            try await context.sleep(for: perJob)
            handled += 1
          case .shutdown:
            context.record(
              name, .observe,
              "receives the shutdown message, after handling \(counted(handled, "job")); cleans up")
            try await context.sleep(for: Crew.cleanupTime)
            context.record(name, .exit, "exits")
            return handled
          }
        } catch BroadcastReceiveError.lagged(let missed) {
          let lost =
            missed == 1 ? "job \(lastJob + 1) was" : "jobs \(lastJob + 1)–\(lastJob + missed) were"
          lastJob += missed
          context.record(
            name, .lost, "receive() throws .lagged(missed: \(missed)): \(lost) overwritten unread; reads on",
            count: missed)
        }
      }
    } catch BroadcastReceiveError.closed {
      context.record(name, .exit, "receive() throws .closed: every sender is gone; exits")
    } catch {
      context.record(name, .abort, "task cancelled")
    }
    return handled
  }

  // MARK: lagged-as-closed

  /// Two equally slow workers read the same jobs. One loops `while let c = try? await receive()`,
  /// so the first `.lagged` ends its loop as if the channel had closed; the other catches `.lagged`
  /// and reads on.
  static let laggedAsClosed = Scenario(
    name: "lagged-as-closed",
    headline: { knobs in
      """
      A producer broadcasts a job every 100ms, then the shutdown at \(formatDuration(knobs.shutdownAt)), \
      into a ring of \(counted(knobs.capacity, "message")). Two workers take \
      \(formatDuration(knobs.consumerDelay)) per job: naive loops on \
      `while let job = try? await receiver.receive()`; careful catches .lagged and goes on.
      """
    },
    knobs: [.shutdownAt, .capacity, .consumerDelay],
    participants: { _ in ["naive", "careful"] },
    lesson: """
      `try?` turns .lagged into nil, and a `while let` loop then ends as if the channel had closed: the \
      task stops silently while the service runs on. Catch .lagged, log the loss, and keep reading; \
      stop only on .closed or your shutdown message.
      """,
    invariants: [.everyTaskEnded],
    outcome: [.observedExactly { _ in ["careful"] }, .nothingAborted, .somethingLost]
  ) { context in
    let knobs = context.knobs
    let (sender, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    context.record(
      "main", .start, "creates a broadcast channel holding \(counted(knobs.capacity, "message"))")
    let handled = Tally(2)
    var jobs = 0
    await withTaskGroup(of: Void.self) { group in
      // Each receiver is held by its task's closure alone (a capture list, not a local of main's),
      // so it goes when its task ends, and the ring stops keeping messages for it.
      group.addTask(name: "naive") { [receiver = sender.subscribe()] in
        handled.set(0, await naiveLoop(receiver, perJob: knobs.consumerDelay, context: context))
      }
      group.addTask(name: "careful") { [receiver = sender.subscribe()] in
        let count = await consumeJobs(
          "careful", receiver: receiver, perJob: knobs.consumerDelay, narrate: true, context: context)
        handled.set(1, count)
      }
      jobs = await produceJobs(sender, context: context)
    }
    context.mainExits("both workers are gone")
    return [jobsHandled(names: ["naive", "careful"], handled.values, of: jobs)]
  }

  /// `while let command = try? await receiver.receive() { … }`, written out so the timeline can say
  /// which error `try?` swallowed. It behaves exactly like the one-liner.
  static func naiveLoop(
    _ receiver: Broadcast<Command>.Receiver, perJob: Duration, context: ScenarioContext
  ) async -> Int {
    let name = "naive"
    context.record(name, .start, "starts; each job takes \(formatDuration(perJob))")
    var handled = 0
    var swallowed: (any Error)?
    while true {
      let command: Command
      do { command = try await receiver.receive() } catch {
        swallowed = error
        break  // `try?` gives nil, and `while let` ends
      }
      switch command {
      case .job(let number):
        context.record(name, .receive, "takes job \(number)")
        try? await context.sleep(for: perJob)
        handled += 1
      case .shutdown:
        context.record(name, .observe, "receives the shutdown message; exits")
        return handled
      }
    }
    let error =
      switch swallowed as? BroadcastReceiveError {
      case .lagged(let missed): ".lagged(missed: \(missed))"
      case .closed: ".closed"
      case nil: "an error"
      }
    context.record(
      name, .error, "receive() threw \(error); `try?` made it nil, so the loop ends as if closed")
    context.record(name, .exit, "exits silently, with the service still running")
    return handled
  }
}
