import Patterns

/// `shutdown-demo broadcast`: one message, delivered to every receiver; a slow receiver loses messages.
enum BroadcastScenarios {
  static let catalog = PatternCatalog(
    pattern: "broadcast", scenarios: [basic, slowConsumer, timeout, lateSubscriber, laggedAsClosed])

  /// What travels on the channel in these stories.
  enum Command: Sendable, Equatable, CustomStringConvertible {
    case job(Int)
    case shutdown

    var description: String {
      switch self {
      case .job(let number): "job \(number)"
      case .shutdown: "shutdown"
      }
    }
  }

  // MARK: basic

  /// Main keeps the sender; every worker subscribes its own receiver before it starts. SIGTERM
  /// arrives; main sends one `shutdown` message; each worker finds it between two jobs.
  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      "SIGTERM arrives at \(formatDuration(knobs.shutdownAt)); main sends one shutdown message on a "
        + "broadcast channel, and \(eachOf(workers: knobs.workers)), holding its own receiver, finds it "
        + "after the job in hand, cleans up and exits. Main waits at most \(formatDuration(knobs.grace))."
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in ChannelWorkers.names(knobs.workers) },
    lesson: "Every receiver gets its own copy of every message: one send reaches every worker that "
      + "subscribed before it, and each acts on it at its next look.",
    invariants: Invariant.all(
      .everyParticipantObserved, .nothingAborted, .nothingLost,
      .measured("receivers the shutdown reached") { "\($0.summary.participants.count)" })
  ) { context in
    let knobs = context.knobs
    // The channel's first receiver is dropped at once: each worker subscribes its own.
    let (shutdown, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    context.record(
      "main", .start,
      "creates a broadcast channel; starts \(workerCount(knobs.workers)), each with subscribe()")
    var reached = 0
    await withTaskGroup(of: ChannelWorkers.Outcome.self) { group in
      for (index, name) in ChannelWorkers.names(knobs.workers).enumerated() {
        let receiver = shutdown.subscribe()
        group.addTask(name: name) {
          await ChannelWorkers.runJobs(
            name, job: ChannelWorkers.jobLength(forWorker: index), context: context,
            check: { lookForShutdown(receiver) })
        }
      }
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("signal", .signal, "SIGTERM")
      reached = (try? shutdown.send(.shutdown)) ?? 0
      context.record("main", .notify, "send(.shutdown) reaches \(reached) receiver(s)")
      await ChannelWorkers.awaitWorkers(&group, running: knobs.workers, grace: knobs.grace, context: context)
    }
    context.record("main", .exit, "every worker has stopped; exit 0")
    return [SummaryLine(label: "receivers the shutdown reached", value: "\(reached)")]
  }

  /// A worker's look between jobs: `tryReceive()` never waits.
  static func lookForShutdown(_ receiver: Broadcast<Command>.Receiver) -> String? {
    do {
      let command = try receiver.tryReceive()
      return command == .shutdown
        ? "tryReceive() returns the shutdown message: takes no new job, cleans up" : nil
    } catch .closed {
      return "tryReceive() throws .closed: every sender is gone, so it stops too"
    } catch {
      return nil  // .empty: keep working (.lagged: the next look reads on)
    }
  }

  // MARK: slow-consumer

  static let jobInterval: Duration = .milliseconds(100)
  static let fastJob: Duration = .milliseconds(50)

  /// A producer broadcasts a job every 100 ms and then the shutdown. The last worker is slow: the
  /// ring overwrites what it has not read, and it gets `.lagged(missed:)`, then reads on.
  static let slowConsumer = Scenario(
    name: "slow-consumer",
    headline: { knobs in
      "A producer broadcasts a job every 100ms, then the shutdown at \(formatDuration(knobs.shutdownAt)), "
        + "into a ring of \(knobs.capacity) messages. \(fastWorkers(knobs)) worker-\(knobs.workers) takes "
        + "\(formatDuration(knobs.consumerDelay)) per job and falls behind."
    },
    knobs: [.workers, .shutdownAt, .capacity, .consumerDelay],
    participants: { knobs in ChannelWorkers.names(knobs.workers) },
    lesson: "A broadcast channel never waits for a slow receiver: it overwrites the oldest message, "
      + "and the receiver learns how many it lost from .lagged(missed:). Size the capacity for the "
      + "slowest reader, and treat .lagged as a loss to log, not as the end.",
    invariants: Invariant.all(.everyParticipantObserved, .nothingAborted, .somethingLost)
  ) { context in
    let knobs = context.knobs
    let (sender, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    context.record(
      "main", .start,
      "creates a broadcast channel holding \(knobs.capacity) messages; \(knobs.workers) workers subscribe")
    let handled = Tally(knobs.workers)
    var jobs = 0
    await withTaskGroup(of: Void.self) { group in
      for (index, name) in ChannelWorkers.names(knobs.workers).enumerated() {
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
    context.record("main", .exit, "every worker has stopped; exit 0")
    return [jobsHandled(names: ChannelWorkers.names(knobs.workers), handled.values, of: jobs)]
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
    SummaryLine(
      label: "jobs handled",
      value: zip(names, counts).map { "\($0) \($1)" }.joined(separator: ", ")
        + " (of \(jobs))")
  }

  /// Sends a job every 100 ms until the signal, then the shutdown message. Returns how many jobs it
  /// sent. Says when a send overwrites a message someone has not read.
  static func produceJobs(_ sender: Broadcast<Command>.Sender, context: ScenarioContext) async -> Int {
    let knobs = context.knobs
    var jobs = 0
    while jobInterval * (jobs + 1) < knobs.shutdownAt {
      try? await context.sleep(for: jobInterval)
      jobs += 1
      context.record(
        "producer", .send,
        "sends job \(jobs)" + overwriteNote(sender, sending: jobs, capacity: knobs.capacity))
      _ = try? sender.send(.job(jobs))
    }
    try? await context.sleep(for: knobs.shutdownAt - jobInterval * jobs)
    context.record("signal", .signal, "SIGTERM")
    context.record(
      "producer", .notify,
      "sends the shutdown message" + overwriteNote(sender, sending: jobs + 1, capacity: knobs.capacity))
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
              name, .observe, "receives the shutdown message, after handling \(handled) job(s); cleans up")
            try await context.sleep(for: ChannelWorkers.cleanupTime)
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

  // MARK: timeout

  static let longJob: Duration = .seconds(4)

  /// The same as basic, but the last worker is in a 4 s job when the signal comes: it looks for the
  /// message only between jobs, so main's grace deadline cuts it off.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      "SIGTERM arrives at \(formatDuration(knobs.shutdownAt)) and main broadcasts the shutdown, but "
        + "worker-\(knobs.workers) is in a \(formatDuration(longJob)) job and looks for the message only "
        + "between jobs. Main waits \(formatDuration(knobs.grace)), then cancels whoever is left."
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in ChannelWorkers.names(knobs.workers) },
    lesson: "A message only stops a task that reads it: a task deep in a long job hears nothing until "
      + "the job ends. Bound the wait with a grace period, and cancel the task when it runs out.",
    invariants: Invariant.all(.allButLastObserved, .lastParticipantAborted)
  ) { context in
    let knobs = context.knobs
    let (shutdown, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    context.record(
      "main", .start,
      "creates a broadcast channel; starts \(workerCount(knobs.workers)), each with subscribe()")
    await withTaskGroup(of: ChannelWorkers.Outcome.self) { group in
      for (index, name) in ChannelWorkers.names(knobs.workers).enumerated() {
        let receiver = shutdown.subscribe()
        let job = index == knobs.workers - 1 ? longJob : ChannelWorkers.jobLength(forWorker: index)
        group.addTask(name: name) {
          await ChannelWorkers.runJobs(name, job: job, context: context, check: { lookForShutdown(receiver) })
        }
      }
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("signal", .signal, "SIGTERM")
      let reached = (try? shutdown.send(.shutdown)) ?? 0
      context.record("main", .notify, "send(.shutdown) reaches \(reached) receiver(s)")
      await ChannelWorkers.awaitWorkers(&group, running: knobs.workers, grace: knobs.grace, context: context)
    }
    context.record("main", .exit, "every worker has stopped or been cancelled; exit 0")
    return []
  }

  // MARK: late-subscriber

  static let lateBy: Duration = .milliseconds(500)

  /// The last worker starts after the shutdown was sent. Its new receiver begins at the tail, after
  /// the message: it waits for a shutdown that already happened, until the grace deadline.
  static let lateSubscriber = Scenario(
    name: "late-subscriber",
    headline: { knobs in
      "SIGTERM arrives at \(formatDuration(knobs.shutdownAt)) and main broadcasts the shutdown; "
        + "worker-\(knobs.workers) starts \(formatDuration(lateBy)) later, subscribes, and waits for the "
        + "shutdown message. Main waits at most \(formatDuration(knobs.grace))."
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in ChannelWorkers.names(knobs.workers) },
    lesson: "A broadcast receiver sees only messages sent after it subscribed: a task that subscribes "
      + "after the shutdown was sent never hears it. Subscribe before you spawn the task (or use "
      + "watch, which keeps the current state).",
    invariants: Invariant.all(.allButLastObserved, .lastParticipantAborted)
  ) { context in
    let knobs = context.knobs
    let (shutdown, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    context.record("main", .start, "creates a broadcast channel; starts \(knobs.workers - 1) worker(s) now")
    let names = ChannelWorkers.names(knobs.workers)
    await withTaskGroup(of: ChannelWorkers.Outcome.self) { group in
      for (index, name) in names.dropLast().enumerated() {
        let receiver = shutdown.subscribe()
        group.addTask(name: name) {
          await ChannelWorkers.runJobs(
            name, job: ChannelWorkers.jobLength(forWorker: index), context: context,
            check: { lookForShutdown(receiver) })
        }
      }
      let late = names[names.count - 1]
      group.addTask(name: late) {
        try? await context.sleep(for: knobs.shutdownAt + lateBy)
        let receiver = shutdown.subscribe()
        context.record(
          late, .start,
          "starts late and subscribes: its receiver begins after the shutdown message, "
            + "\(receiver.count) message(s) to read")
        context.record(late, .wait, "waits for the shutdown message with receive()")
        do {
          _ = try await receiver.receive()
          context.record(late, .observe, "receives the shutdown message")
          return .stopped
        } catch {
          context.record(late, .abort, "task cancelled at the grace deadline: it never heard the shutdown")
          return .aborted
        }
      }
      try? await context.sleep(for: knobs.shutdownAt)
      context.record("signal", .signal, "SIGTERM")
      let reached = (try? shutdown.send(.shutdown)) ?? 0
      context.record(
        "main", .notify, "send(.shutdown) reaches \(reached) receiver(s): \(late) has not subscribed yet")
      await ChannelWorkers.awaitWorkers(&group, running: knobs.workers, grace: knobs.grace, context: context)
    }
    context.record("main", .exit, "every worker has stopped or been cancelled; exit 0")
    return []
  }

  // MARK: lagged-as-closed

  /// Two equally slow workers read the same jobs. One loops `while let c = try? await receive()`,
  /// so the first `.lagged` ends its loop as if the channel had closed; the other catches `.lagged`
  /// and reads on.
  static let laggedAsClosed = Scenario(
    name: "lagged-as-closed",
    headline: { knobs in
      "A producer broadcasts a job every 100ms, then the shutdown at \(formatDuration(knobs.shutdownAt)), "
        + "into a ring of \(knobs.capacity). Two workers take \(formatDuration(knobs.consumerDelay)) per job: "
        + "naive loops on `while let job = try? await receiver.receive()`; careful catches .lagged and goes on."
    },
    knobs: [.shutdownAt, .capacity, .consumerDelay],
    participants: { _ in ["naive", "careful"] },
    lesson: "`try?` turns .lagged into nil, and a `while let` loop then ends as if the channel had "
      + "closed: the task stops silently while the service runs on. Catch .lagged, log the loss, and "
      + "keep reading; stop only on .closed or your shutdown message.",
    invariants: Invariant.all(.observedExactly { _ in ["careful"] }, .nothingAborted, .somethingLost)
  ) { context in
    let knobs = context.knobs
    let (sender, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    context.record("main", .start, "creates a broadcast channel holding \(knobs.capacity) messages")
    let handled = Tally(2)
    var jobs = 0
    await withTaskGroup(of: Void.self) { group in
      // Each receiver is handed to its task and held by nothing else, so it goes when its task ends.
      startNaive(in: &group, receiver: sender.subscribe(), handled: handled, context: context)
      startCareful(in: &group, receiver: sender.subscribe(), handled: handled, context: context)
      jobs = await produceJobs(sender, context: context)
    }
    context.record("main", .exit, "both workers are gone; exit 0")
    return [jobsHandled(names: ["naive", "careful"], handled.values, of: jobs)]
  }

  static func startNaive(
    in group: inout TaskGroup<Void>, receiver: Broadcast<Command>.Receiver, handled: Tally,
    context: ScenarioContext
  ) {
    group.addTask(name: "naive") {
      handled.set(0, await naiveLoop(receiver, perJob: context.knobs.consumerDelay, context: context))
    }
  }

  static func startCareful(
    in group: inout TaskGroup<Void>, receiver: Broadcast<Command>.Receiver, handled: Tally,
    context: ScenarioContext
  ) {
    group.addTask(name: "careful") {
      let count = await consumeJobs(
        "careful", receiver: receiver, perJob: context.knobs.consumerDelay, narrate: true, context: context)
      handled.set(1, count)
    }
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
