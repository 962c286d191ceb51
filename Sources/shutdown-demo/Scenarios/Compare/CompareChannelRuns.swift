import Patterns

/// The two rows whose stop travels with the data: broadcast (a message behind the jobs) and watch
/// (a state that replaces the latest job).
extension CompareStories {
  /// What travels on the broadcast row's ring.
  enum Message: Sendable, Equatable {
    case job(Int)
    case shutdown
  }

  // MARK: broadcast

  static func runBroadcast(_ work: Workload, context: ScenarioContext) async -> [SummaryLine] {
    let capacity = context.knobs.capacity
    let (sender, _) = Broadcast<Message>.channel(capacity: capacity)
    context.record(
      "main", .start,
      "creates a broadcast channel holding \(counted(capacity, "message")); "
        + "\(counted(work.participants.count, "task")) subscribe")
    let ledger = JobLedger()
    var members = work.workers.enumerated().map { index, name in
      let receiver = sender.subscribe()
      return Crew.Member(name: name) {
        await Crew.work(name, unit: work.units[index], noun: "unit", context: context) {
          lookForShutdown(name, receiver, context: context)
        }
      }
    }
    let jobs = sender.subscribe()
    members.append(
      Crew.Member(name: consumer) {
        await consumeBroadcast(jobs, perJob: work.perJob, ledger: ledger, context: context)
      })
    members.append(
      Crew.Member(name: producer) {
        await produce(context, ledger: ledger) { job in
          context.record(producer, .send, "sends job \(job)")
          _ = try? sender.send(.job(job))  // never waits: the ring overwrites the oldest instead
          return true
        }
        return .stopped
      })
    let reached = Collected<Int>()
    await Crew.supervise(members, context: context) {
      let count = (try? sender.send(.shutdown)) ?? 0
      reached.append(count)
      context.record(
        "main", .notify, "send(.shutdown) reaches \(counted(count, "receiver")), behind their unread jobs")
    }
    context.mainExits("every task has stopped")
    return ledger.lines() + [
      SummaryLine(receiversLabel, .count(reached.values.first ?? 0)),
      doneLine(fromPattern: false, "main counted its task group"),
    ]
  }

  /// A worker's look between units: it reads past the jobs (they are the consumer's work, but a
  /// broadcast gives every receiver every message) to find the shutdown message.
  static func lookForShutdown(
    _ name: String, _ receiver: Broadcast<Message>.Receiver, context: ScenarioContext
  ) -> String? {
    while true {
      do throws(BroadcastTryReceiveError) {
        if try receiver.tryReceive() == .shutdown {
          return "tryReceive() finds the shutdown message: takes no new unit, cleans up"
        }
      } catch {
        switch error {
        case .empty:
          return nil
        case .lagged(let missed):
          context.record(
            name, .note,
            "tryReceive() throws .lagged(missed: \(missed)): jobs it does not take were overwritten")
        case .closed:
          return "tryReceive() throws .closed: every sender is gone, so it stops too"
        }
      }
    }
  }

  /// Takes jobs until the shutdown message; a `.lagged` is a loss, logged, and reading goes on.
  static func consumeBroadcast(
    _ receiver: Broadcast<Message>.Receiver, perJob: Duration, ledger: JobLedger, context: ScenarioContext
  ) async -> Crew.Outcome {
    context.record(consumer, .start, "starts; each job takes \(formatDuration(perJob))")
    do {
      while true {
        do {
          switch try await receiver.receive() {
          case .job(let number):
            context.record(consumer, .receive, "takes job \(number)")
            ledger.update { $0.taken += 1 }
            try await context.sleep(for: perJob)
            ledger.update { $0.handled += 1 }
          case .shutdown:
            context.record(
              consumer, .observe,
              "receives the shutdown message, after \(counted(ledger.values.handled, "job")); cleans up")
            try await context.sleep(for: Crew.cleanupTime)
            context.record(consumer, .exit, "exits")
            return .stopped
          }
        } catch BroadcastReceiveError.lagged(let missed) {
          ledger.update { $0.lost += missed }
          context.record(
            consumer, .lost,
            "receive() throws .lagged(missed: \(missed)): \(counted(missed, "job")) overwritten unread; reads on",
            count: missed)
        }
      }
    } catch {
      // Only main's cancellation at the grace deadline ends the wait or the job early.
      var unread = 0
      while true {
        do throws(BroadcastTryReceiveError) {
          if case .job = try receiver.tryReceive() { unread += 1 }
        } catch .lagged(let missed) {
          ledger.update { $0.lost += missed }
          context.record(consumer, .lost, "\(counted(missed, "job")) overwritten unread", count: missed)
        } catch {
          break
        }
      }
      consumerAborted(context, ledger: ledger, unread: unread)
      return .aborted
    }
  }

  // MARK: watch

  /// The watch row's value: the latest job, and whether main has said stop.
  struct Phase: Sendable, Equatable {
    var job = 0
    var stopping = false
  }

  static func runWatch(_ work: Workload, context: ScenarioContext) async -> [SummaryLine] {
    let (sender, _) = Watch<Phase>.channel(Phase())
    context.record(
      "main", .start,
      "creates a watch channel of (latest job, stopping); \(counted(work.participants.count, "task")) subscribe"
    )
    let ledger = JobLedger()
    var members = work.workers.enumerated().map { index, name in
      let receiver = sender.subscribe()
      return Crew.Member(name: name) {
        await Crew.work(name, unit: work.units[index], noun: "unit", context: context) {
          receiver.borrow().stopping ? "borrow() shows \"stopping\": takes no new unit, cleans up" : nil
        }
      }
    }
    let jobs = sender.subscribe()
    members.append(
      Crew.Member(name: consumer) {
        await consumeWatch(jobs, perJob: work.perJob, ledger: ledger, context: context)
      })
    members.append(
      Crew.Member(name: producer) {
        await produce(context, ledger: ledger) { job in
          context.record(producer, .send, "publishes job \(job)")
          sender.sendModify { $0.job = job }  // never waits: it replaces the value
          return true
        }
        return .stopped
      })
    let reached = Collected<Int>()
    await Crew.supervise(members, context: context) {
      sender.sendModify { $0.stopping = true }
      reached.append(sender.receiverCount)
      context.record(
        "main", .notify,
        "sets \"stopping\": all \(counted(sender.receiverCount, "receiver")) see it at their next look")
    }
    context.mainExits("every task has stopped")
    return ledger.lines() + [
      SummaryLine(receiversLabel, .count(reached.values.first ?? 0)),
      doneLine(fromPattern: false, "main counted its task group"),
    ]
  }

  /// Takes the newest job each time the value changes; jobs replaced before it looked are skipped.
  static func consumeWatch(
    _ receiver: Watch<Phase>.Receiver, perJob: Duration, ledger: JobLedger, context: ScenarioContext
  ) async -> Crew.Outcome {
    context.record(consumer, .start, "starts; each job takes \(formatDuration(perJob))")
    var seen = 0
    do {
      while true {
        try await receiver.changed()
        let phase = receiver.borrowAndUpdate()
        let missed = phase.job - seen - (phase.stopping ? 0 : 1)
        if missed > 0 {
          ledger.update { $0.skipped += missed }
          let which = missed == 1 ? "job \(seen + 1) was" : "jobs \(seen + 1)–\(seen + missed) were"
          context.record(consumer, .skipped, "\(which) replaced before it looked", count: missed)
        }
        seen = phase.job
        if phase.stopping {
          context.record(
            consumer, .observe,
            "changed() returns \"stopping\", after \(counted(ledger.values.handled, "job")); cleans up")
          try await context.sleep(for: Crew.cleanupTime)
          context.record(consumer, .exit, "exits")
          return .stopped
        }
        context.record(consumer, .receive, "takes job \(phase.job)")
        ledger.update { $0.taken += 1 }
        try await context.sleep(for: perJob)
        ledger.update { $0.handled += 1 }
      }
    } catch {
      consumerAborted(context, ledger: ledger, unread: receiver.borrow().job - seen)
      return .aborted
    }
  }
}
