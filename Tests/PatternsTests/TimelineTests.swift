import Patterns
import Testing

@Suite("Timeline")
struct TimelineTests {
  @Test func events_areStampedWithTheClocksTime_fromWhenTheTimelineBegan() throws {
    let result = Simulation.run { clock in
      try await clock.sleep(for: .seconds(1))
      let timeline = Timeline(clock: clock)
      timeline.record("main", .start, "begins")
      try await clock.sleep(for: .milliseconds(250))
      timeline.record("worker-1", .exit, "done")
      return timeline.events
    }
    let events = try result.get()
    #expect(events.map(\.time) == [.zero, .milliseconds(250)])
    #expect(events.map(\.actor) == ["main", "worker-1"])
  }

  @Test func summary_isComputedFromTheEvents() {
    let events = [
      TimelineEvent(time: .zero, actor: "main", kind: .start, detail: ""),
      TimelineEvent(time: .seconds(1), actor: "signal", kind: .signal, detail: "SIGTERM"),
      TimelineEvent(time: .seconds(1), actor: "w2", kind: .observe, detail: ""),
      TimelineEvent(time: .seconds(1), actor: "w2", kind: .lost, detail: "", count: 3),
      TimelineEvent(time: .seconds(2), actor: "w2", kind: .lost, detail: "", count: 2),
      TimelineEvent(time: .seconds(2), actor: "w1", kind: .skipped, detail: "", count: 4),
      TimelineEvent(time: .seconds(3), actor: "w3", kind: .abort, detail: ""),
      TimelineEvent(time: .milliseconds(3500), actor: "main", kind: .exit, detail: ""),
    ]
    let summary = TimelineSummary(events: events, participants: ["w1", "w2", "w3"])
    #expect(summary.shutdownAt == .seconds(1))
    #expect(summary.observed == ["w2"])
    #expect(summary.aborted == ["w3"])
    #expect(summary.lost == 5)
    #expect(summary.skipped == 4)
    #expect(summary.timeToQuiet == .milliseconds(2500))
  }
}
