import Patterns
import Synchronization

/// The shutdown stories of `shutdown-demo mpsc`: producers feed a bounded work queue; SIGTERM
/// arrives; what was accepted is drained, or reported — never silently lost.
extension MPSCStories {
  // MARK: drain

  /// At SIGTERM main cancels the producers: a send waiting for room gives up and delivers nothing;
  /// their senders go with them. The consumer drains what was accepted, then gets nil.
  static let drain = Scenario(
    name: "drain",
    headline: { knobs in
      """
      \(counted(knobs.workers, "producer")) feed\(knobs.workers == 1 ? "s" : "") a work queue of capacity \
      \(knobs.capacity); the consumer needs \(formatDuration(knobs.consumerDelay)) per job. SIGTERM arrives \
      at \(formatDuration(knobs.shutdownAt)): main stops the producers, and the consumer works through what \
      was already accepted, within a grace period of \(formatDuration(knobs.grace)).
      """
    },
    knobs: [.workers, .shutdownAt, .grace, .capacity, .consumerDelay],
    participants: { knobs in producerNames(knobs.workers) + ["consumer"] },
    lesson: """
      Stop the producers, then drain: every job the queue accepted is either processed or reported, and \
      a send cancelled while waiting for room was never accepted at all.
      """,
    invariants: [.everyParticipantObservedOrAborted, .everyTaskEnded],
    outcome: [
      .everyParticipantObserved, .nothingAborted, .nothingLost, .measured(unprocessedLabel, .names([])),
    ]
  ) { context in
    await runShutdownStory(context, perJob: context.knobs.consumerDelay, closeAtSignal: false)
  }

  // MARK: close-then-drain

  /// At SIGTERM the receiver closes: every send fails at once (a waiting one too), yet the values
  /// already buffered are still received, and then receive() returns nil.
  static let closeThenDrain = Scenario(
    name: "close-then-drain",
    headline: { knobs in
      """
      \(counted(knobs.workers, "producer")) feed\(knobs.workers == 1 ? "s" : "") a work queue of capacity \
      \(knobs.capacity). At SIGTERM (\(formatDuration(knobs.shutdownAt))) the consumer calls close(): every \
      send fails at once with .closed, but the jobs already queued are still received, one every \
      \(formatDuration(knobs.consumerDelay)), before receive() returns nil.
      """
    },
    knobs: [.workers, .shutdownAt, .grace, .capacity, .consumerDelay],
    participants: { knobs in producerNames(knobs.workers) + ["consumer"] },
    lesson: """
      close() is not the end: it refuses new work at once, and the producers hear it from their next \
      send, but the queue still holds accepted jobs; keep receiving until nil.
      """,
    invariants: [.everyParticipantObservedOrAborted, .everyTaskEnded],
    outcome: [
      .everyParticipantObserved, .nothingAborted, .nothingLost, .measured(unprocessedLabel, .names([])),
    ]
  ) { context in
    await runShutdownStory(context, perJob: context.knobs.consumerDelay, closeAtSignal: true)
  }

  // MARK: timeout

  /// The drain story with a consumer four times slower: the grace period ends with jobs still
  /// queued; main cancels the consumer, which reports every job it did not process, by id.
  static let timeout = Scenario(
    name: "timeout",
    headline: { knobs in
      """
      The drain story with a consumer too slow for the grace period: it needs \
      \(formatDuration(knobs.consumerDelay * slowFactor)) per job (\(slowFactor) × --consumer-delay). When \
      the grace period of \(formatDuration(knobs.grace)) is over, main cancels it, and it reports what was \
      left, by count and id.
      """
    },
    knobs: [.workers, .shutdownAt, .grace, .capacity, .consumerDelay],
    participants: { knobs in producerNames(knobs.workers) + ["consumer"] },
    lesson: """
      A grace period bounds the wait, not the work: what the consumer could not finish must be handed \
      back or written down (here: reported by id), or it is lost without a trace.
      """,
    invariants: [.everyParticipantObservedOrAborted, .everyTaskEnded],
    outcome: [.allButLastObserved, .lastParticipantAborted]
  ) { context in
    await runShutdownStory(context, perJob: context.knobs.consumerDelay * slowFactor, closeAtSignal: false)
  }

  static let slowFactor = 4

  // MARK: the story

  /// What the consumer did: the jobs it finished, and those it could not.
  struct ConsumerOutcome: Sendable {
    var processed: [String] = []
    var unprocessed: [String] = []
  }

  enum Event: Sendable {
    case consumerDone(ConsumerOutcome)
    case graceExpired
    case timerStopped
  }

  /// Producers send jobs until SIGTERM; the consumer processes them; main shuts down either by
  /// cancelling the producers (drain, timeout) or by closing the receiver (close-then-drain), then
  /// waits for the consumer at most the grace period.
  static func runShutdownStory(
    _ context: ScenarioContext, perJob: Duration, closeAtSignal: Bool
  ) async -> [SummaryLine] {
    let knobs = context.knobs
    let (jobs, queue) = MPSC<String>.channel(capacity: knobs.capacity)
    let log = JobLog()
    context.record(
      "main", .start,
      "work queue of capacity \(knobs.capacity); starts \(counted(knobs.workers, "producer")) and the consumer"
    )

    var producers: [Task<Void, Never>] = []
    for (index, name) in producerNames(knobs.workers).enumerated() {
      let pace = producerPace(index)
      producers.append(
        spawnTask(name: name) { [jobs = jobs.clone()] in
          await produce(name, pace: pace, into: jobs, log: log, context: context)
        })
    }
    _ = consume jobs  // main sends nothing: only the producers keep the queue open

    var outcome = ConsumerOutcome()
    await withTaskGroup(of: Event.self) { group in
      group.addTask(name: "consumer") {
        .consumerDone(await consume(queue, perJob: perJob, context: context))
      }

      await context.waitForShutdownSignal()
      if closeAtSignal {
        queue.close()
        context.record("main", .notify, "queue.close(): no new job is accepted; queued jobs still drain")
      } else {
        for producer in producers { producer.cancel() }
        context.record("main", .notify, "cancels the producers; the consumer drains what the queue accepted")
      }

      // Wait for the consumer, but only for the grace period.
      group.addTask(name: "grace-timer") {
        (try? await context.sleep(for: knobs.grace)) == nil ? .timerStopped : .graceExpired
      }
      var consumerRunning = true
      while let event = await group.next() {
        switch event {
        case .consumerDone(let finished):
          outcome = finished
          consumerRunning = false
          group.cancelAll()  // stop the grace timer
        case .graceExpired where consumerRunning:
          context.record(
            "main", .deadline,
            "grace period of \(formatDuration(knobs.grace)) is over; cancels the Swift task of consumer")
          group.cancelAll()
        case .graceExpired, .timerStopped:
          break
        }
      }
    }
    for producer in producers { await producer.value }
    context.mainExits("every producer and the consumer are done")

    return [
      SummaryLine(
        "jobs accepted",
        .equation(
          total: log.accepted,
          parts: [
            .init(outcome.processed.count, "processed"),
            .init(outcome.unprocessed.count, "reported unprocessed"),
          ])),
      SummaryLine(unprocessedLabel, .names(outcome.unprocessed)),
      SummaryLine(
        closeAtSignal ? "refused by the closed queue" : "never accepted (send cancelled)",
        .names(log.notAccepted)),
    ]
  }

  static let unprocessedLabel = "unprocessed"

  /// Sends a job every `pace` until its task is cancelled or the queue refuses it.
  static func produce(
    _ name: String, pace: Duration, into jobs: MPSC<String>.Sender, log: JobLog, context: ScenarioContext
  ) async {
    context.record(name, .start, "starts; makes a job every \(formatDuration(pace))")
    var number = 0
    while true {
      guard (try? await context.sleep(for: pace)) != nil else {
        context.record(name, .observe, "sees its task cancelled: stops; its sender goes with it")
        return
      }
      number += 1
      let job = "\(name.replacingOccurrences(of: "producer-", with: "p"))-\(number)"
      switch Result(catching: { () throws(MPSC<String>.TrySendError) in try jobs.trySend(job) }) {
      case .success:
        log.accept()
        context.record(name, .send, "\(job) accepted (\(queueDepth(jobs)) queued)")
        continue
      case .failure(.closed):
        log.refuse(job)
        context.record(name, .observe, "\(job) refused at once: the queue is closed; stops")
        return
      case .failure(.full):
        context.record(name, .wait, "queue full: waits for room with \(job)")
      }
      do {
        try await jobs.send(job)
        log.accept()
        context.record(name, .send, "\(job) accepted after waiting (\(queueDepth(jobs)) queued)")
      } catch is CancellationError {
        log.refuse(job)
        context.record(name, .observe, "cancelled while waiting for room: \(job) was never accepted; stops")
        return
      } catch {
        log.refuse(job)
        context.record(
          name, .observe, "refused while waiting: the queue closed, \(job) was not accepted; stops")
        return
      }
    }
  }

  /// Values queued now, as a producer sees it: the size less free slots.
  static func queueDepth(_ jobs: MPSC<String>.Sender) -> Int { jobs.maxCapacity - jobs.capacity }

  /// Processes jobs until receive() returns nil; if cancelled, reports what it did not process.
  static func consume(
    _ queue: MPSC<String>.Receiver, perJob: Duration, context: ScenarioContext
  ) async -> ConsumerOutcome {
    var outcome = ConsumerOutcome()
    context.record("consumer", .start, "starts; each job takes \(formatDuration(perJob))")
    var cutOff: String?
    while let job = await queue.receive() {
      if (try? await context.sleep(for: perJob)) == nil {
        cutOff = job
        break
      }
      outcome.processed.append(job)
      context.record("consumer", .work, "processed \(job) (\(queue.count) queued)")
    }
    if Task.isCancelled {
      context.record(
        "consumer", .abort,
        "task cancelled \(context.cutOff)" + (cutOff.map { ", in the middle of \($0)" } ?? ""))
      // Close, then take what is still queued, to report it: nothing goes silently.
      queue.close()
      outcome.unprocessed = cutOff.map { [$0] } ?? []
      while let job = try? queue.tryReceive() { outcome.unprocessed.append(job) }
      context.record(
        "consumer", .lost,
        "reports \(counted(outcome.unprocessed.count, "unprocessed job")): "
          + outcome.unprocessed.joined(separator: ", "),
        count: outcome.unprocessed.count)
    } else {
      context.record("consumer", .observe, "receive() returned nil: the queue is drained and no job can come")
    }
    return outcome
  }

  static func producerPace(_ index: Int) -> Duration {
    let paces = [200, 300, 250, 350, 450, 150, 400, 500]
    return .milliseconds(paces[index % paces.count] + 10 * (index / paces.count))
  }

  static func producerNames(_ count: Int) -> [String] { Crew.names(count, prefix: "producer") }
}

/// What the producers' sends came to: how many jobs the queue accepted, and which it never did.
final class JobLog: Sendable {
  private let storage = Mutex((accepted: 0, notAccepted: [String]()))
  func accept() { storage.withLock { $0.accepted += 1 } }
  func refuse(_ job: String) { storage.withLock { $0.notAccepted.append(job) } }
  var accepted: Int { storage.withLock { $0.accepted } }
  var notAccepted: [String] { storage.withLock { $0.notAccepted } }
}
