import Patterns

/// What the picture formats (`--format mermaid`, `chart`, `svg`) draw: one finished story, reduced to
/// its timeline and the few instants every picture marks.
///
/// The pictures read nothing else, so they stay pure functions of a finished run (the same picture
/// always gives the same bytes) and do not change when the way stories are written or measured does.
/// One adapter, next to the commands that run stories, builds a picture from a finished run.
///
/// ```swift
/// let picture = StoryPicture(
///   title: "token · basic", subtitle: "SIGTERM arrives at 1s; …", events: timeline.events,
///   graceDeadline: .seconds(3))
/// print(MermaidRenderer.render(picture))
/// ```
///
/// Sharp edges:
/// - The `signal` event is not a lane: it is the moment every picture marks (an `OS` participant in
///   Mermaid, a vertical line in the chart and the SVG). An actor that records only signals has no lane.
/// - `actors` are in order of first appearance, which is the order the timeline introduces them.
struct StoryPicture: Sendable, Hashable {
  /// "token · basic".
  var title: String
  /// One sentence of what happens (the story's headline).
  var subtitle: String
  /// Everyone with a lane, in order of first appearance; never the actor of a `signal` event alone.
  var actors: [String]
  /// The timeline, in the order it was recorded (which is time order).
  var events: [TimelineEvent]
  /// When the first shutdown signal arrived, if one did.
  var signalTime: Duration?
  /// What the signal was ("SIGTERM"), if one arrived.
  var signalName: String?
  /// When main stops waiting and cuts off whoever is left, if the story has a grace period.
  var graceDeadline: Duration?
  /// The time of the last event: where the story goes quiet.
  var endTime: Duration

  /// A picture of `events`: the actors, the signal and the end are read off the timeline.
  init(title: String, subtitle: String, events: [TimelineEvent], graceDeadline: Duration?) {
    self.title = title
    self.subtitle = subtitle
    self.events = events
    self.graceDeadline = graceDeadline
    var actors: [String] = []
    for event in events where event.kind != .signal && !actors.contains(event.actor) {
      actors.append(event.actor)
    }
    self.actors = actors
    let signal = events.first { $0.kind == .signal }
    signalTime = signal?.time
    signalName = signal?.detail
    endTime = events.map(\.time).max() ?? .zero
  }
}

/// Seconds with a fixed number of decimals, from integer nanoseconds: "1.250" for 3 decimals. The
/// pictures format every number themselves, so no floating-point rounding ever reaches the output.
func fixedDecimals(_ value: Int64, scale: Int64, decimals: Int) -> String {
  let negative = value < 0
  let magnitude = negative ? -value : value
  var unit: Int64 = 1
  for _ in 0..<decimals { unit *= 10 }
  // Round half up at the last decimal shown.
  let scaled = (magnitude * unit * 2 + scale) / (scale * 2)
  let whole = scaled / unit
  let fraction = String(scaled % unit)
  let text =
    decimals == 0
    ? "\(whole)" : "\(whole)." + String(repeating: "0", count: decimals - fraction.count) + fraction
  return negative && scaled != 0 ? "-" + text : text
}

/// A duration as whole nanoseconds (pictures never need finer).
func nanoseconds(of duration: Duration) -> Int64 {
  let (seconds, attoseconds) = duration.components
  return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
}
