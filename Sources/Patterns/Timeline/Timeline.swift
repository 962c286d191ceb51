import Synchronization

/// What each task did and when: the record every scenario writes and every renderer reads.
///
/// Time comes from the clock the scenario runs on, measured from when the timeline was created:
/// virtual time in a simulation (exact, the same on every run), elapsed real time in a live run.
public final class Timeline: Sendable {
  private let events_ = Lock<[TimelineEvent]>([])
  private let elapsed: @Sendable () -> Duration
  private let onRecord: (@Sendable (TimelineEvent) -> Void)?

  /// A timeline whose zero is `clock.now`.
  /// - Parameter onRecord: hears of each event as it is recorded, in the order of ``events`` (a
  ///   live run streams its lines this way). It is called under the timeline's lock, so that order
  ///   holds when tasks record at the same moment: it must only hand the event on (enqueue it), never
  ///   wait, and never record.
  public init<C: Clock>(clock: C, onRecord: (@Sendable (TimelineEvent) -> Void)? = nil)
  where C.Duration == Duration {
    let start = clock.now
    elapsed = { start.duration(to: clock.now) }
    self.onRecord = onRecord
  }

  /// Records that `actor` did something, stamped with the current time.
  /// - Parameter count: a measured quantity the summary adds up (messages lost, values skipped…).
  public func record(_ actor: String, _ kind: TimelineEvent.Kind, _ detail: String, count: Int? = nil) {
    events_.withLock { events in
      // Stamped under the lock, so times never go backwards down the list.
      let event = TimelineEvent(time: elapsed(), actor: actor, kind: kind, detail: detail, count: count)
      events.append(event)
      onRecord?(event)
    }
  }

  /// The time since the timeline began.
  public var now: Duration { elapsed() }

  /// Everything recorded so far, in the order it was recorded (which is time order).
  public var events: [TimelineEvent] { events_.withLock { $0 } }
}

/// One line of a timeline.
public struct TimelineEvent: Sendable, Hashable {
  /// Time since the timeline began.
  public var time: Duration
  /// Who did it: "main", "signal", "worker-2".
  public var actor: String
  /// What sort of step it was; the summary is computed from these.
  public var kind: Kind
  /// What happened, in words for a learner.
  public var detail: String
  /// A measured quantity, for kinds that count something (`lost`, `skipped`, `queued`).
  public var count: Int?

  public init(time: Duration, actor: String, kind: Kind, detail: String, count: Int? = nil) {
    self.time = time
    self.actor = actor
    self.kind = kind
    self.detail = detail
    self.count = count
  }

  /// The sort of step an event records. An open set: scenarios may add their own.
  public struct Kind: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral,
    CustomStringConvertible
  {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    /// A task started.
    public static let start: Kind = "start"
    /// A unit of ordinary work.
    public static let work: Kind = "work"
    /// A shutdown signal arrived (SIGTERM, Ctrl-C, scripted).
    public static let signal: Kind = "signal"
    /// Someone told others to stop: a cancel, a broadcast, a watch update.
    public static let notify: Kind = "notify"
    /// A task noticed the shutdown. Counted as "observed the shutdown".
    public static let observe: Kind = "observe"
    /// A message or value was sent.
    public static let send: Kind = "send"
    /// A message or value was received.
    public static let receive: Kind = "receive"
    /// A task is waiting (for room, for a value, for others).
    public static let wait: Kind = "wait"
    /// Clean-up work during shutdown.
    public static let cleanup: Kind = "cleanup"
    /// A task finished on its own terms.
    public static let exit: Kind = "exit"
    /// A task was stopped from outside (its Swift task cancelled) before it finished.
    public static let abort: Kind = "abort"
    /// Messages lost (`count` says how many). Added up in the summary.
    public static let lost: Kind = "lost"
    /// Values skipped over (`count` says how many). Added up in the summary.
    public static let skipped: Kind = "skipped"
    /// A timeout, deadline or escalation.
    public static let deadline: Kind = "deadline"
    /// Something went wrong.
    public static let error: Kind = "error"
    /// A remark that is none of the above.
    public static let note: Kind = "note"
  }
}
