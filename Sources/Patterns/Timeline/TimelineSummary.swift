/// The measured invariants of a finished timeline: computed from the events, never typed in, so the
/// summary a learner reads cannot disagree with the timeline above it.
public struct TimelineSummary: Sendable, Hashable {
  /// When the first shutdown signal was recorded.
  public var shutdownAt: Duration?
  /// The tasks expected to observe the shutdown.
  public var participants: [String]
  /// Those of `participants` that recorded an `observe` event, in participant order.
  public var observed: [String]
  /// Tasks with an `abort` event, in the order they were aborted.
  public var aborted: [String]
  /// The sum of the `count`s of `lost` events.
  public var lost: Int
  /// The sum of the `count`s of `skipped` events.
  public var skipped: Int
  /// From the signal to the last recorded event: how long the shutdown took to go quiet.
  public var timeToQuiet: Duration?

  public init(events: [TimelineEvent], participants: [String]) {
    self.participants = participants
    shutdownAt = events.first { $0.kind == .signal }?.time
    let observers = Set(events.filter { $0.kind == .observe }.map(\.actor))
    observed = participants.filter { observers.contains($0) }
    var aborted: [String] = []
    for event in events where event.kind == .abort && !aborted.contains(event.actor) {
      aborted.append(event.actor)
    }
    self.aborted = aborted
    lost = events.filter { $0.kind == .lost }.reduce(0) { $0 + ($1.count ?? 0) }
    skipped = events.filter { $0.kind == .skipped }.reduce(0) { $0 + ($1.count ?? 0) }
    if let shutdownAt, let last = events.last?.time { timeToQuiet = last - shutdownAt }
  }
}
