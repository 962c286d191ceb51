import Patterns

/// `shutdown-demo watch`: one current value, observed; a slow observer skips to the newest.
enum WatchStories {
  static let catalog = StoryCatalog(
    command: "watch",
    abstract: "Watch channel: observers see the latest value; intermediate values are skipped.",
    discussion: """
      Main stores "stopping" in a watch channel; every worker sees the current value whenever it \
      looks, even one that starts late. A slow observer skips to the newest value instead of queueing \
      the ones in between. The Swift counterpart of tokio::sync::watch.
      """,
    scenarios: [basic, slowConsumer, timeout, lateSubscriber, busyLoop])

  /// The service's state, as the stories publish it.
  enum ServiceState: Sendable, Equatable, CustomStringConvertible {
    case running(config: Int)
    case stopping

    var description: String {
      switch self {
      case .running(let config): "running (config v\(config))"
      case .stopping: "stopping"
      }
    }
  }

  // MARK: basic

  /// Main holds the sender of the service state; every worker holds a receiver and reads the state
  /// between jobs. SIGTERM arrives; main stores `.stopping`; each worker sees it at its next look.
  static let basic = Scenario(
    name: "basic",
    headline: { knobs in
      """
      SIGTERM arrives at \(formatDuration(knobs.shutdownAt)); main stores "stopping" in a watch channel, \
      and \(eachOf(workers: knobs.workers)) reads the state after the job in hand, cleans up and exits. \
      Main waits at most \(formatDuration(knobs.grace)).
      """
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      A watch channel holds the current state, not a queue of messages: whoever looks, whenever they \
      look, reads the newest value.
      """,
    invariants: [
      .everyParticipantObservedOrAborted, .everyTaskEnded,
      .measured(receiversWhenChanged) { .count($0.summary.participants.count) },
    ],
    outcome: [.everyParticipantObserved, .nothingAborted]
  ) { context in
    let (state, _) = Watch<ServiceState>.channel(.running(config: 1))
    let receivers = Collected<Int>()
    await superviseWorkers(on: state, context: context) {
      receivers.append(state.receiverCount)
      state.sendReplace(.stopping)
      context.record("main", .notify, "sendReplace(.stopping): the channel now holds \"stopping\"")
    }
    context.mainExits("every worker has stopped")
    return [SummaryLine(receiversWhenChanged, .count(receivers.values.first ?? 0))]
  }

  static let receiversWhenChanged = "receivers when the state changed"

  /// The trio's script (``Crew/startAndSupervise(_:context:job:late:lookFor:notify:)``): each worker
  /// subscribes before it starts and looks between jobs.
  static func superviseWorkers(
    on state: Watch<ServiceState>.Sender, context: ScenarioContext,
    job: @escaping @Sendable (Int) -> Duration = Crew.pace(ofWorker:), late: Crew.Member? = nil,
    notify: @escaping @Sendable () -> Void
  ) async {
    await Crew.startAndSupervise(
      "a watch channel holding \"running\"", context: context, job: job, late: late,
      lookFor: { _ in
        let receiver = state.subscribe()
        return { lookForStopping(receiver) }
      }, notify: notify)
  }

  /// A worker's look between jobs: `borrow()` reads the current value and never waits.
  static func lookForStopping(_ receiver: Watch<ServiceState>.Receiver) -> String? {
    receiver.borrow() == .stopping ? "borrow() reads \"stopping\": takes no new job, cleans up" : nil
  }

  // MARK: timeout

  /// As basic, but the last worker is in a 4 s job when the state changes: it reads the state only
  /// between jobs, so main's grace deadline cuts it off.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      """
      SIGTERM arrives at \(formatDuration(knobs.shutdownAt)) and main stores "stopping", but \
      worker-\(knobs.workers) is in a \(formatDuration(Crew.longJob)) job and reads the state only between \
      jobs. Main waits \(formatDuration(knobs.grace)), then cancels whoever is left.
      """
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      The new state waits for whoever looks, but a task deep in a long job does not look. Bound the \
      wait with a grace period, and cancel the task when it runs out.
      """,
    invariants: [.everyParticipantObservedOrAborted, .everyTaskEnded],
    outcome: [.allButLastObserved, .lastParticipantAborted]
  ) { context in
    let knobs = context.knobs
    let (state, _) = Watch<ServiceState>.channel(.running(config: 1))
    await superviseWorkers(
      on: state, context: context,
      job: { index in index == knobs.workers - 1 ? Crew.longJob : Crew.pace(ofWorker: index) }
    ) {
      state.sendReplace(.stopping)
      context.record("main", .notify, "sendReplace(.stopping): the channel now holds \"stopping\"")
    }
    context.mainExits("every worker has stopped")
    return []
  }

  // MARK: late-subscriber

  /// The broadcast story's script, on a watch channel: the last worker starts after the shutdown
  /// and subscribes. The channel holds "stopping", and `waitFor` checks the current value first.
  static let lateSubscriber = Scenario(
    name: "late-subscriber",
    headline: { knobs in
      """
      SIGTERM arrives at \(formatDuration(knobs.shutdownAt)) and main stores "stopping"; \
      worker-\(knobs.workers) starts \(formatDuration(Crew.lateBy)) later, subscribes, and waits for \
      "stopping" with waitFor. Main waits at most \(formatDuration(knobs.grace)).
      """
    },
    knobs: [.workers, .shutdownAt, .grace],
    participants: { knobs in Crew.names(knobs.workers) },
    lesson: """
      A watch receiver starts with the current value: a task that subscribes after the shutdown still \
      reads "stopping" at once. (Note that it counts as seen: wait with waitFor, which looks at the \
      current value first, not with changed().)
      """,
    invariants: [.everyParticipantObservedOrAborted, .everyTaskEnded],
    outcome: [.everyParticipantObserved, .nothingAborted]
  ) { context in
    let (state, _) = Watch<ServiceState>.channel(.running(config: 1))
    let late = "worker-\(context.knobs.workers)"
    let lateWorker = Crew.Member(name: late) {
      await context.waitForStartAfterSignal(Crew.lateBy)
      let receiver = state.subscribe()
      context.record(late, .start, "starts late and subscribes: the channel holds \"\(receiver.borrow())\"")
      context.record(late, .wait, "waits with waitFor { $0 == .stopping }")
      do {
        _ = try await receiver.waitFor { $0 == .stopping }
        context.record(late, .observe, "waitFor returns at once: the current value matches; cleans up")
        try await context.sleep(for: Crew.cleanupTime)
        context.record(late, .exit, "exits without doing a job")
        return .stopped
      } catch {
        context.record(late, .abort, "task cancelled \(context.cutOff)")
        return .aborted
      }
    }
    await superviseWorkers(on: state, context: context, late: lateWorker) {
      // sendReplace, not send: `send` stores nothing when no receiver is alive (worker-1 alone, say).
      state.sendReplace(.stopping)
      context.record(
        "main", .notify,
        "sendReplace(.stopping): the channel now holds \"stopping\"; \(late) has not subscribed yet")
    }
    context.mainExits("every worker has stopped")
    return []
  }
}
