import Patterns

extension StoryPicture {
  /// The picture of a finished run: the one place that knows how a report maps onto what the
  /// pictures draw, so a change to how stories report touches this adapter and no renderer.
  ///
  /// The grace deadline is the signal plus the story's `--grace` when it has one; a story without that
  /// knob but with a `deadline` event gets the deadline's time.
  init(report: ScenarioReport) {
    let signal = report.events.first { $0.kind == .signal }?.time
    var deadline: Duration?
    if let signal, report.hasGraceDeadline {
      deadline = signal + report.knobs.grace
    } else {
      deadline = report.events.first { $0.kind == .deadline }?.time
    }
    self.init(
      title: "\(report.command) · \(report.scenario)", subtitle: report.headline, events: report.events,
      graceDeadline: deadline)
  }
}
