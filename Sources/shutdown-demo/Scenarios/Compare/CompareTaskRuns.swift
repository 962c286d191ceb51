import Patterns

/// The rows whose stop does not travel with the data: token (cancel a tree), join set (wait, then
/// abort) and mpsc (close, and wait for every sender to go).
extension CompareStories {
  // MARK: token

  static func runToken(_ work: Workload, context: ScenarioContext) async -> [SummaryLine] {
    let root = CancellationToken()
    context.record(
      "main", .start,
      "creates the root token; starts \(counted(work.workers.count, "worker")) and the consumer, each "
        + "with a child token")
    var members = work.workers.enumerated().map { index, name in
      let look = Crew.tokenLook(root.childToken())
      return Crew.Member(name: name) {
        await Crew.work(name, unit: work.units[index], noun: "unit", context: context, look: look)
      }
    }
    let consumerLook = Crew.tokenLook(root.childToken())
    members.append(
      Crew.Member(name: consumer) {
        await Crew.work(consumer, unit: work.perJob, noun: "job", context: context, look: consumerLook)
      })
    let tokens = members.count
    await Crew.supervise(members, context: context) {
      root.cancel()
      context.record(
        "main", .notify, "root.cancel(): all \(counted(tokens, "child token")) are now cancelled")
    }
    context.mainExits("every task has stopped")
    return [
      SummaryLine(receiversLabel, .count(tokens)),
      doneLine(fromPattern: false, "main counted its task group"),
    ]
  }

  // MARK: joinset

  static func runJoinSet(_ work: Workload, context: ScenarioContext) async -> [SummaryLine] {
    let grace = context.knobs.grace
    let set = JoinSet<String>()
    context.record(
      "main", .start,
      "spawns \(counted(work.workers.count, "worker")) and the consumer into a JoinSet; none is told how to stop"
    )
    let units = work.units + [work.perJob]
    for (index, name) in work.participants.enumerated() {
      let noun = name == consumer ? "job" : "unit"
      set.spawn(name: name) {
        switch await Crew.work(name, unit: units[index], noun: noun, context: context, look: { nil }) {
        case .stopped: "\(name) stopped"
        case .aborted: "\(name) aborted"
        }
      }
    }
    await context.waitForShutdownSignal()
    context.record(
      "main", .wait,
      "a JoinSet cannot ask a task to stop: joins for at most \(formatDuration(grace)), then abortAll()")
    await withTaskGroup(of: Void.self) { timer in
      timer.addTask(name: "grace-timer") {
        guard (try? await context.sleep(for: grace)) != nil, !set.isEmpty else { return }
        context.record(
          "main", .deadline,
          "grace period of \(formatDuration(grace)) is over; abortAll() on \(counted(set.count, "task"))")
        set.abortAll()
      }
      while let outcome = await set.joinNext() {
        switch outcome {
        case .success(let what): context.record("main", .receive, "joinNext() → \(what)")
        case .failure(let error): context.record("main", .receive, "joinNext() → \(error)")
        }
      }
      timer.cancelAll()
    }
    let doneAt = context.timeline.now
    context.record("main", .observe, "joinNext() returned nil: the set is empty, so every task is done")
    context.mainExits("the set is empty")
    return [
      SummaryLine(receiversLabel, .count(0)),
      doneLine(fromPattern: true, "joinNext() returned nil at \(formatTimestamp(doneAt))"),
    ]
  }

  // MARK: mpsc

  /// Every sender is given to its task through a capture list, so it goes the moment that task
  /// ends, or is kept by main alone and dropped on purpose. Nothing else holds one. The channels
  /// are made inside the task group's body, so main's frame does not keep a copy.
  static func runMPSC(_ work: Workload, context: ScenarioContext) async -> [SummaryLine] {
    let knobs = context.knobs
    let ledger = JobLedger()
    let ended = Collected<String>()
    var doneAt: Duration = .zero
    context.record(
      "main", .start,
      "gives each worker an order channel and keeps its sender; a job channel of capacity "
        + "\(knobs.capacity) runs from the producer to the consumer; every task holds a sender of the done "
        + "channel")
    await withTaskGroup(of: Void.self) { group in
      let (jobSender, jobs) = MPSC<Int>.channel(capacity: knobs.capacity)
      let (done, finished) = MPSC<Int>.channel(capacity: 1)
      var orders: [MPSC<Int>.Sender] = []
      for (index, name) in work.workers.enumerated() {
        let (order, receiver) = MPSC<Int>.channel(capacity: 1)
        orders.append(order)
        group.addTask(name: name) { [done = done.clone()] in
          _ = await Crew.work(name, unit: work.units[index], noun: "unit", context: context) {
            let look = Result { () throws(MPSC<Int>.TryReceiveError) in try receiver.tryReceive() }
            guard case .failure(.disconnected) = look else { return nil }
            return
              "tryReceive() reports disconnected: main dropped its sender, so it takes no new unit, cleans up"
          }
          extendLifetime(done)  // held, never sent on: its going is the message
          ended.append(name)
        }
      }
      group.addTask(name: consumer) { [done = done.clone()] in
        _ = await consumeMPSC(jobs, perJob: work.perJob, ledger: ledger, context: context)
        extendLifetime(done)
        ended.append(consumer)
      }
      group.addTask(name: producer) { [jobSender = consume jobSender, done = done.clone()] in
        await produce(context, ledger: ledger) { job in
          await sendWaitingForRoom(
            job, on: jobSender, queued: { jobs.count }, ledger: ledger, context: context)
        }
        extendLifetime(done)
        ended.append(producer)
        // The task ends here, and the job channel's only sender with it: the consumer's nil.
      }
      _ = consume done
      await context.waitForShutdownSignal()
      orders.removeAll()
      context.record(
        "main", .notify,
        "drops its \(counted(work.workers.count, "order sender")): every worker's channel is now "
          + "disconnected; waits in receive() for nil, at most \(formatDuration(knobs.grace))")
      if await !receivesNil(finished, within: knobs.grace, context: context) {
        let running = (work.participants + [producer]).filter { !ended.values.contains($0) }
        context.record(
          "main", .deadline,
          "grace period of \(formatDuration(knobs.grace)) is over; cancels the Swift task of \(listed(running))"
        )
        group.cancelAll()
        // Each cancelled task drops its sender as it ends; the last one makes receive() return nil.
        while await finished.receive() != nil {}
      }
      doneAt = context.timeline.now
      context.record("main", .observe, "receive() returned nil: every sender is gone, so every task is done")
    }
    context.mainExits("every sender is gone")
    return ledger.lines() + [
      SummaryLine(receiversLabel, .count(work.workers.count)),
      doneLine(fromPattern: true, "receive() returned nil at \(formatTimestamp(doneAt))"),
    ]
  }

  /// Whether `receiver` gave `nil` (every sender gone) before `grace` passed.
  static func receivesNil(
    _ receiver: MPSC<Int>.Receiver, within grace: Duration, context: ScenarioContext
  ) async -> Bool {
    await withTaskGroup(of: Bool.self) { race in
      race.addTask(name: "main") {
        while await receiver.receive() != nil {}
        return !Task.isCancelled
      }
      race.addTask(name: "grace-timer") {
        try? await context.sleep(for: grace)
        return false
      }
      let first = await race.next() ?? false
      race.cancelAll()
      return first
    }
  }

  /// Sends `job`; when the channel is full, says so and waits for room (the back-pressure), timing
  /// the wait. Returns false when the consumer is gone.
  static func sendWaitingForRoom(
    _ job: Int, on sender: MPSC<Int>.Sender, queued: () -> Int, ledger: JobLedger, context: ScenarioContext
  ) async -> Bool {
    do throws(MPSC<Int>.TrySendError) {
      try sender.trySend(job)
      context.record(producer, .send, "sends job \(job) (\(queued()) queued)")
      return true
    } catch .closed {
      return false
    } catch {
      context.record(producer, .wait, "job \(job): the channel is full (\(queued()) queued), waits for room")
    }
    let started = context.timeline.now
    let sent = (try? await sender.send(job)) != nil
    let waited = context.timeline.now - started
    ledger.update {
      $0.waits += 1
      $0.blocked += waited
    }
    if sent {
      context.record(producer, .send, "job \(job) sent after waiting \(formatDuration(waited))")
    } else {
      context.record(
        producer, .note,
        Task.isCancelled
          ? "job \(job) never sent: cancelled while it waited" : "job \(job) never sent: the consumer is gone"
      )
    }
    return sent
  }

  /// Takes jobs until `receive()` returns nil: the producer's sender is gone and the queue is empty.
  static func consumeMPSC(
    _ jobs: MPSC<Int>.Receiver, perJob: Duration, ledger: JobLedger, context: ScenarioContext
  ) async -> Crew.Outcome {
    context.record(consumer, .start, "starts; each job takes \(formatDuration(perJob))")
    while let job = await jobs.receive() {
      context.record(consumer, .receive, "takes job \(job) (\(jobs.count) left queued)")
      ledger.update { $0.taken += 1 }
      guard (try? await context.sleep(for: perJob)) != nil else { return abortMPSC(jobs, ledger, context) }
      ledger.update { $0.handled += 1 }
    }
    // receive() also returns nil when the task is cancelled: only then is this not the producer's end.
    if Task.isCancelled { return abortMPSC(jobs, ledger, context) }
    context.record(
      consumer, .observe,
      "receive() returned nil: the producer's sender is gone and every job is taken; cleans up")
    guard (try? await context.sleep(for: Crew.cleanupTime)) != nil else {
      return abortMPSC(jobs, ledger, context)
    }
    context.record(consumer, .exit, "exits after \(counted(ledger.values.handled, "job"))")
    return .stopped
  }

  private static func abortMPSC(
    _ jobs: MPSC<Int>.Receiver, _ ledger: JobLedger, _ context: ScenarioContext
  ) -> Crew.Outcome {
    var unread = 0
    while (try? jobs.tryReceive()) != nil { unread += 1 }
    consumerAborted(context, ledger: ledger, unread: unread)
    return .aborted
  }
}
