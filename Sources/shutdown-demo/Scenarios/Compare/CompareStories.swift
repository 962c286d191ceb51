import Patterns

/// `shutdown-demo compare`: one workload through each of the five patterns, each used the way it is
/// meant to say "stop", so every cell of the comparison is something a run measured.
///
/// The workload is the same in every row: `--workers` workers at their paces (the crew), looking for
/// the stop between units; a producer that sends a job every 100ms until SIGTERM to one consumer;
/// a grace period after the signal. What changes per row is only how the stop travels:
/// - broadcast: the jobs and then one shutdown message on one ring every task subscribes to;
/// - watch: the latest job and then the state "stopping" in one watched value;
/// - token: a root token cancelled, each task holding a child (the token carries no jobs: the
///   consumer just works a job at a time);
/// - join set: nobody is told; main waits for the set until the deadline, then aborts what is left;
/// - mpsc: the jobs on a bounded channel whose one sender goes when the producer stops (the
///   consumer's `nil`); an order channel per worker whose sender main drops to say stop (the
///   worker's `tryReceive()` reports `.disconnected`); and a done channel whose senders every task
///   holds, so its `nil` tells main that everyone is done.
enum CompareStories {
  /// The `--scenario` values: which workload.
  enum Kind: String, CaseIterable, Sendable {
    /// A consumer that keeps up (50ms per job).
    case basic
    /// A consumer that takes `--consumer-delay` per job.
    case slowConsumer = "slow-consumer"
    /// The last worker is in a job longer than the grace period.
    case timeout
  }

  /// The five rows, in the order the table shows them.
  enum Pattern: String, CaseIterable, Sendable {
    case broadcast, watch, token, joinset, mpsc

    /// How this row says "stop", for the table.
    var stopsBy: String {
      switch self {
      case .broadcast: "a shutdown message"
      case .watch: "a state"
      case .token: "cancel a tree"
      case .joinset: "wait, then abort"
      case .mpsc: "senders gone"
      }
    }

    /// Whether jobs travel on this pattern (token and join set carry no data).
    var carriesJobs: Bool { self == .broadcast || self == .watch || self == .mpsc }
  }

  static let command = "compare"
  static let consumer = "consumer"
  static let producer = "producer"
  static let producerPace: Duration = .milliseconds(100)
  static let fastJob: Duration = .milliseconds(50)

  /// The knob values when the learner gives none: a ring and a queue of 8 hold what a consumer that
  /// keeps up leaves unread, so only a turned knob shows a pattern's weakness.
  static let defaults = Knobs(capacity: 8)

  static let abstract = "One workload through all five patterns, measured side by side."
  static let discussion = """
    Runs the same crew (workers at their paces, a producer sending a job every 100ms to one consumer, \
    a scripted SIGTERM, a grace period) once per pattern, each used the way it says stop: broadcast \
    (a shutdown message), watch (a state), token (cancel a tree), joinset (wait, then abort at the \
    deadline), mpsc (the senders go; nil means done). Prints one measured row per pattern, what each \
    row shows about propagation, semantics, many consumers, back-pressure, cost and fit, and a \
    verdict. Turn --capacity down and --consumer-delay up to see broadcast lose jobs and mpsc push \
    back; turn --grace below the longest job to see who is cut off.
    """

  /// What the workload is, for one kind and the knobs.
  struct Workload: Sendable {
    var workers: [String]
    /// Each worker's unit of work, in order.
    var units: [Duration]
    /// How long the consumer takes per job.
    var perJob: Duration
    var participants: [String] { workers + [CompareStories.consumer] }
  }

  static func workload(_ kind: Kind, _ knobs: Knobs) -> Workload {
    let names = Crew.names(knobs.workers)
    let units = names.indices.map { index in
      kind == .timeout && index == names.count - 1 ? Crew.longJob : Crew.pace(ofWorker: index)
    }
    return Workload(
      workers: names, units: units, perJob: kind == .slowConsumer ? knobs.consumerDelay : fastJob)
  }

  /// The knobs each kind reads.
  static func knobs(of kind: Kind) -> [Knob] {
    kind == .slowConsumer
      ? [.workers, .shutdownAt, .grace, .capacity, .consumerDelay]
      : [.workers, .shutdownAt, .grace, .capacity]
  }

  /// The workload in one sentence, for the header of the comparison.
  static func headline(_ kind: Kind, _ knobs: Knobs) -> String {
    let work = workload(kind, knobs)
    let straggler =
      kind == .timeout
      ? " worker-\(knobs.workers) is in a \(formatDuration(Crew.longJob)) job when the signal comes." : ""
    return """
      \(counted(knobs.workers, "worker")) at \(knobs.workers == 1 ? "its pace" : "their paces") and a consumer taking \(formatDuration(work.perJob)) \
      per job, fed by a producer every \(formatDuration(producerPace)); SIGTERM at \
      \(formatDuration(knobs.shutdownAt)), then main waits at most \(formatDuration(knobs.grace)).\(straggler) \
      The same workload runs once per pattern.
      """
  }

  /// The run of one row: a story like any other, so it runs scripted, is explored under every
  /// seed, and is drawn by the picture formats.
  static func scenario(_ kind: Kind, _ pattern: Pattern) -> Scenario {
    Scenario(
      name: "\(kind.rawValue) · \(pattern.rawValue)",
      headline: { knobs in rowHeadline(pattern, knobs) },
      knobs: knobs(of: kind),
      participants: { knobs in workload(kind, knobs).participants },
      lesson: lesson(pattern),
      invariants: invariants(pattern),
      outcome: outcome(kind, pattern)
    ) { context in
      let work = workload(kind, context.knobs)
      switch pattern {
      case .broadcast: return await runBroadcast(work, context: context)
      case .watch: return await runWatch(work, context: context)
      case .token: return await runToken(work, context: context)
      case .joinset: return await runJoinSet(work, context: context)
      case .mpsc: return await runMPSC(work, context: context)
      }
    }
  }

  /// Every row of every kind, by kind then in table order.
  static let rows: [Kind: [Scenario]] = Dictionary(
    uniqueKeysWithValues: Kind.allCases.map { kind in (kind, Pattern.allCases.map { scenario(kind, $0) }) })

  static func rowHeadline(_ pattern: Pattern, _ knobs: Knobs) -> String {
    switch pattern {
    case .broadcast:
      "The producer's jobs, then main's one shutdown message, travel on one broadcast ring of "
        + "\(counted(knobs.capacity, "message")); every task holds its own receiver."
    case .watch:
      "One watched value holds the latest job, then the state \"stopping\"; every task holds a receiver "
        + "and reads the newest value."
    case .token:
      "Main cancels a root token; every task holds a child token and checks it between jobs. The token "
        + "carries no jobs: the consumer works one job at a time."
    case .joinset:
      "Every task runs in a JoinSet. Nobody is told: main waits for the set until the grace deadline, "
        + "then abortAll() and joins until nil."
    case .mpsc:
      "Jobs travel on an mpsc channel of capacity \(knobs.capacity) whose sender goes when the producer "
        + "stops; every task holds a sender of a second channel, which main closes to say stop; its nil "
        + "says everyone is done."
    }
  }

  static func lesson(_ pattern: Pattern) -> String {
    switch pattern {
    case .broadcast:
      "A broadcast reaches every receiver, but queues the stop behind the jobs, and a slow receiver "
        + "loses what the ring overwrites."
    case .watch:
      "A watch shows every receiver the newest state at once: a slow one skips values, and the stop "
        + "is never stuck behind them."
    case .token:
      "A token tree tells every holder in one call, and carries nothing else."
    case .joinset:
      "A join set tells nobody: it waits, and at the deadline cuts off everyone still running, but it "
        + "knows when the last one is gone."
    case .mpsc:
      "An mpsc channel pushes back on a fast producer, and its nil tells the receiver that every "
        + "sender is gone: all done, with no counter."
    }
  }

  /// What every row must show under every order of simultaneous jobs, for any knobs.
  static func invariants(_ pattern: Pattern) -> [Invariant] {
    var checks: [Invariant] = [.everyParticipantObservedOrAborted, .everyTaskEnded]
    switch pattern {
    case .broadcast:
      // A broadcast send never waits, whatever the receivers do.
      checks.append(.measured(producerBlockedLabel, .duration(.zero)))
    case .watch:
      checks += [.nothingLost, .measured(producerBlockedLabel, .duration(.zero))]
    case .token:
      checks += [.nothingLost]
    case .joinset:
      // Nobody is told, so nobody can notice: every task ends by abort.
      checks += [.nothingLost, .observedExactly { _ in [] }, .measured(doneLabel, .flag(true))]
    case .mpsc:
      checks += [.nothingLost, .measured(doneLabel, .flag(true))]
    }
    return checks
  }

  /// What each row shows at the defaults (the tests check these there).
  static func outcome(_ kind: Kind, _ pattern: Pattern) -> [Invariant] {
    if pattern == .joinset { return [.abortedExactly { $0.summary.participants }] }
    switch kind {
    case .basic, .slowConsumer: return [.everyParticipantObserved, .nothingAborted, .nothingLost]
    case .timeout: return [.abortedExactly { ["worker-\($0.knobs.workers)"] }]
    }
  }

  static let jobsLabel = "jobs"
  static let producerBlockedLabel = "producer blocked"
  static let producerWaitsLabel = "producer waits for room"
  static let doneLabel = "\"everyone is done\" from the pattern"
  static let receiversLabel = "tasks the stop reached"
}
