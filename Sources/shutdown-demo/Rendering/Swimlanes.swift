import Patterns

/// The swimlane picture that `--format chart` and `--format svg` both draw: one lane per actor, each a
/// run of spans (working, waiting, winding down) with marks at the instants that matter (told others
/// to stop, noticed the shutdown, exited, aborted).
///
/// The spans are read off the events, never guessed from a story's script:
/// - a lane begins at the actor's first event and ends at its `exit` or `abort` (or, when it has
///   neither, at its last event: the picture does not invent what the timeline does not say);
/// - `wait` makes the actor *waiting* until its next event;
/// - `observe`, `notify` and `cleanup` put it in its shutdown: *winding down* from there on;
/// - every other event (`start`, `work`, `send`, `receive`, …) means it is busy: *working* before its
///   shutdown, *winding down* after.
struct Swimlanes: Sendable, Hashable {
  /// What a lane is doing between two instants.
  enum State: Sendable, Hashable, CaseIterable {
    /// Busy with ordinary work.
    case working
    /// Blocked: for room in a queue, for a value, for others to finish.
    case waiting
    /// Has heard of the shutdown (or started it) and is finishing up.
    case windingDown
  }

  /// An instant on a lane worth a glyph of its own.
  enum Mark: Sendable, Hashable, CaseIterable {
    /// Told others to stop (a `notify` event: a cancel, a broadcast, a watch update).
    case told
    /// Noticed the shutdown (an `observe` event).
    case noticed
    /// Finished on its own terms.
    case exited
    /// Stopped from outside before it finished.
    case aborted
  }

  /// `state` from `start` to `end`.
  struct Span: Sendable, Hashable {
    var state: State
    var start: Duration
    var end: Duration
  }

  /// `mark` at `time`, with the event's words (for the SVG's tooltips).
  struct Instant: Sendable, Hashable {
    var mark: Mark
    var time: Duration
    var detail: String
  }

  /// One actor's lane.
  struct Lane: Sendable, Hashable {
    var actor: String
    var spans: [Span]
    var instants: [Instant]
  }

  /// One lane per actor, in the picture's order.
  var lanes: [Lane]
  /// The time the picture spans, from zero: the end of the story, stretched to show the grace deadline
  /// when that is not far beyond it.
  var span: Duration
  /// Whether the grace deadline falls inside `span` (a deadline long after the story ends is named in
  /// the legend instead of squeezing the story into a corner).
  var showsGraceDeadline: Bool

  init(_ picture: StoryPicture) {
    lanes = picture.actors.map { actor in
      Self.lane(for: actor, events: picture.events.filter { $0.actor == actor && $0.kind != .signal })
    }
    var span = picture.endTime
    var showsGrace = false
    if let deadline = picture.graceDeadline, deadline <= picture.endTime * 2 {
      span = max(span, deadline)
      showsGrace = true
    }
    self.span = span > .zero ? span : .seconds(1)
    showsGraceDeadline = showsGrace
  }

  private static func lane(for actor: String, events: [TimelineEvent]) -> Lane {
    var spans: [Span] = []
    var instants: [Instant] = []
    var current: (state: State, since: Duration)?
    var shuttingDown = false

    func close(at time: Duration) {
      if let open = current, time > open.since {
        spans.append(Span(state: open.state, start: open.since, end: time))
      }
      current = nil
    }
    func enter(_ state: State, at time: Duration) {
      if current?.state == state { return }
      close(at: time)
      current = (state, time)
    }

    for event in events {
      switch event.kind {
      case .exit, .abort:
        close(at: event.time)
        instants.append(
          Instant(mark: event.kind == .exit ? .exited : .aborted, time: event.time, detail: event.detail))
      case .wait:
        enter(.waiting, at: event.time)
      case .observe, .notify, .cleanup:
        shuttingDown = true
        enter(.windingDown, at: event.time)
        if event.kind == .observe {
          instants.append(Instant(mark: .noticed, time: event.time, detail: event.detail))
        } else if event.kind == .notify {
          instants.append(Instant(mark: .told, time: event.time, detail: event.detail))
        }
      default:
        enter(shuttingDown ? .windingDown : .working, at: event.time)
      }
    }
    close(at: events.last?.time ?? .zero)
    return Lane(actor: actor, spans: spans, instants: instants)
  }

  /// The axis step: the shortest of 1-2-5-style steps (1ms … 1h) whose ticks are far enough apart for
  /// their labels. `length` is the axis length in the renderer's units (columns, pixels), and
  /// `room(characters)` how many of those units a label of that many characters needs.
  static func tickStep(span: Int64, length: Int, room: (Int) -> Int) -> Int64 {
    let steps: [Int64] = [
      1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000,
      120_000,
      300_000, 600_000, 900_000, 1_800_000, 3_600_000,
    ].map { $0 * 1_000_000 }
    for step in steps {
      let apart = Int128(step) * Int128(length) / Int128(max(span, 1))
      // Cheap test first: steps too close for even one character are never labelled one by one.
      guard apart >= Int128(room(1)) else { continue }
      let widest =
        stride(from: Int64(0), through: span, by: Int(step)).map { formatDuration(.nanoseconds($0)).count }
        .max() ?? 0
      if apart >= Int128(room(widest)) { return step }
    }
    return steps[steps.count - 1]
  }
}
