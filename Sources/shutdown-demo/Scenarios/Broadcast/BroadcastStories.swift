import Patterns

/// `shutdown-demo broadcast`: one message, delivered to every receiver; a slow receiver loses messages.
enum BroadcastStories {
  static let catalog = StoryCatalog(
    command: "broadcast",
    abstract: "Broadcast channel: every receiver gets every message; a slow one loses messages.",
    discussion: """
      Main sends one shutdown message on a broadcast channel; every worker reads it from its own \
      receiver. The channel keeps the last --capacity messages: a receiver that falls further behind \
      gets .lagged(missed:) and reads on from the oldest message still held. The Swift counterpart of \
      tokio::sync::broadcast.
      """,
    scenarios: [basic, slowConsumer, timeout, lateSubscriber, laggedAsClosed])

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
      """
      SIGTERM arrives at \(formatDuration(knobs.shutdownAt)); main sends one shutdown message on a \
      broadcast channel, and \(eachOf(workers: knobs.workers)), holding its own receiver, finds it after \
      the job in hand, cleans up and exits. Main waits at most \(formatDuration(knobs.grace)).
      """
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      Every receiver gets its own copy of every message: one send reaches every worker that subscribed \
      before it, and each acts on it at its next look.
      """,
    invariants: [
      .everyParticipantObservedOrAborted, .everyTaskEnded, .nothingLost,
      .measured(receiversReached) { .count($0.summary.participants.count) },
    ],
    outcome: [.everyParticipantObserved, .nothingAborted]
  ) { context in
    let (shutdown, _) = Broadcast<Command>.channel(capacity: context.knobs.capacity)
    let reached = Collected<Int>()
    await superviseWorkers(on: shutdown, context: context) {
      let count = (try? shutdown.send(.shutdown)) ?? 0
      reached.append(count)
      context.record("main", .notify, "send(.shutdown) reaches \(counted(count, "receiver"))")
    }
    context.mainExits("every worker has stopped")
    return [SummaryLine(receiversReached, .count(reached.values.first ?? 0))]
  }

  static let receiversReached = "receivers the shutdown reached"

  /// The trio's script (``Crew/startAndSupervise(_:context:job:late:lookFor:notify:)``): each worker
  /// subscribes before it starts and looks between jobs.
  static func superviseWorkers(
    on shutdown: Broadcast<Command>.Sender, context: ScenarioContext,
    job: @escaping @Sendable (Int) -> Duration = Crew.pace(ofWorker:), late: Crew.Member? = nil,
    notify: @escaping @Sendable () -> Void
  ) async {
    await Crew.startAndSupervise(
      "a broadcast channel", context: context, job: job, late: late,
      lookFor: { _ in
        let receiver = shutdown.subscribe()
        return { lookForShutdown(receiver) }
      }, notify: notify)
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

  // MARK: timeout

  /// The same as basic, but the last worker is in a 4 s job when the signal comes: it looks for the
  /// message only between jobs, so main's grace deadline cuts it off.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      """
      SIGTERM arrives at \(formatDuration(knobs.shutdownAt)) and main broadcasts the shutdown, but \
      worker-\(knobs.workers) is in a \(formatDuration(Crew.longJob)) job and looks for the message only \
      between jobs. Main waits \(formatDuration(knobs.grace)), then cancels whoever is left.
      """
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      A message only stops a task that reads it: a task deep in a long job hears nothing until the job \
      ends. Bound the wait with a grace period, and cancel the task when it runs out.
      """,
    invariants: [.everyParticipantObservedOrAborted, .everyTaskEnded],
    outcome: [.allButLastObserved, .lastParticipantAborted]
  ) { context in
    let knobs = context.knobs
    let (shutdown, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    await superviseWorkers(
      on: shutdown, context: context,
      job: { index in index == knobs.workers - 1 ? Crew.longJob : Crew.pace(ofWorker: index) }
    ) {
      let reached = (try? shutdown.send(.shutdown)) ?? 0
      context.record("main", .notify, "send(.shutdown) reaches \(counted(reached, "receiver"))")
    }
    context.mainExits("every worker has stopped")
    return []
  }

  // MARK: late-subscriber

  /// The last worker starts after the shutdown was sent. Its new receiver begins at the tail, after
  /// the message: it waits for a shutdown that already happened, until the grace deadline.
  static let lateSubscriber = Scenario(
    name: "late-subscriber",
    headline: { knobs in
      """
      SIGTERM arrives at \(formatDuration(knobs.shutdownAt)) and main broadcasts the shutdown; \
      worker-\(knobs.workers) starts \(formatDuration(Crew.lateBy)) later, subscribes, and waits for the \
      shutdown message. Main waits at most \(formatDuration(knobs.grace)).
      """
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      A broadcast receiver sees only messages sent after it subscribed: a task that subscribes after \
      the shutdown was sent never hears it. Subscribe before you spawn the task (or use watch, which \
      keeps the current state).
      """,
    invariants: [.everyParticipantObservedOrAborted, .everyTaskEnded],
    outcome: [.allButLastObserved, .lastParticipantAborted]
  ) { context in
    let knobs = context.knobs
    let (shutdown, _) = Broadcast<Command>.channel(capacity: knobs.capacity)
    let late = "worker-\(knobs.workers)"
    let lateWorker = Crew.Member(name: late) {
      await context.waitForStartAfterSignal(Crew.lateBy)
      let receiver = shutdown.subscribe()
      context.record(
        late, .start,
        "starts late and subscribes: its receiver begins after the shutdown message, "
          + "\(counted(receiver.count, "message")) to read")
      context.record(late, .wait, "waits for the shutdown message with receive()")
      do {
        _ = try await receiver.receive()
        context.record(late, .observe, "receives the shutdown message")
        return .stopped
      } catch {
        context.record(late, .abort, "task cancelled \(context.cutOff): it never heard the shutdown")
        return .aborted
      }
    }
    await superviseWorkers(on: shutdown, context: context, late: lateWorker) {
      let reached = (try? shutdown.send(.shutdown)) ?? 0
      context.record(
        "main", .notify,
        "send(.shutdown) reaches \(counted(reached, "receiver")): \(late) has not subscribed yet")
    }
    context.mainExits("every worker has stopped")
    return []
  }
}
