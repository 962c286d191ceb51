import Foundation

/// One fact a finished run must show whatever order the simulation picked for jobs ready at the same
/// instant (`--explore`). Each is a fact the scenario's summary reports; `nil` means it holds.
struct Invariant: Sendable {
  var check: @Sendable (ScenarioReport) -> String?

  /// Every one of `invariants`, as a scenario's `invariants:` closure.
  static func all(_ invariants: Invariant...) -> @Sendable (ScenarioReport) -> [String] {
    { report in invariants.compactMap { $0.check(report) } }
  }

  /// "observed: N of N": every participant noticed the shutdown.
  static let everyParticipantObserved = Invariant { report in
    let missing = report.summary.participants.filter { !report.summary.observed.contains($0) }
    return missing.isEmpty
      ? nil : "not every participant observed the shutdown: missing \(missing.joined(separator: ", "))"
  }

  /// Exactly these participants observed the shutdown (the others are the story's stragglers).
  static func observedExactly(_ names: @escaping @Sendable (ScenarioReport) -> [String]) -> Invariant {
    Invariant { report in
      let expected = names(report)
      return report.summary.observed == expected
        ? nil : "observed \(report.summary.observed) instead of \(expected)"
    }
  }

  /// All participants but the last observed the shutdown; the last is the straggler.
  static let allButLastObserved = observedExactly { Array($0.summary.participants.dropLast()) }

  /// Exactly these tasks were aborted, in any order.
  static func abortedExactly(_ names: @escaping @Sendable (ScenarioReport) -> [String]) -> Invariant {
    Invariant { report in
      let expected = names(report)
      return report.summary.aborted.sorted() == expected.sorted()
        ? nil : "aborted \(report.summary.aborted) instead of \(expected)"
    }
  }

  static let nothingAborted = abortedExactly { _ in [] }
  /// The last participant, and only it, was aborted at the grace deadline.
  static let lastParticipantAborted = abortedExactly { [$0.summary.participants.last ?? ""] }

  static let nothingLost = Invariant { report in
    report.summary.lost == 0 ? nil : "\(report.summary.lost) message(s) lost"
  }

  static let somethingLost = Invariant { report in
    report.summary.lost > 0 ? nil : "no message was lost: the slow consumer never lagged"
  }

  static let somethingSkipped = Invariant { report in
    report.summary.skipped > 0 ? nil : "no value was skipped"
  }

  /// A measured summary line has exactly this value.
  static func measured(_ label: String, _ value: @escaping @Sendable (ScenarioReport) -> String) -> Invariant
  {
    Invariant { report in
      let expected = value(report)
      let actual = report.extraSummary.first { $0.label == label }?.value
      return actual == expected ? nil : "\(label): \(actual ?? "missing") instead of \(expected)"
    }
  }

  static func measured(_ label: String, _ value: String) -> Invariant { measured(label) { _ in value } }

  /// The value of a knob of the run, as the header shows it.
  static func knob(_ name: String, in report: ScenarioReport) -> String {
    report.knobs.first { $0.name == name }?.value ?? ""
  }
}

extension Invariant {
  /// "joined in order": a permutation of the participants (completion order may vary, membership not).
  static let joinedEveryParticipantOnce = Invariant { report in
    let joined = report.extraSummary.first { $0.label == "joined in order" }?.value ?? ""
    let names = joined.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    return names.sorted() == report.summary.participants.sorted()
      ? nil
      : "joined \(joined) instead of each of \(report.summary.participants.joined(separator: ", ")) once"
  }
}

extension Invariant {
  /// "jobs accepted: N = P processed + U reported unprocessed": nothing accepted goes missing.
  static let everyAcceptedJobAccountedFor = Invariant { report in
    let text = report.extraSummary.first { $0.label == "jobs accepted" }?.value ?? ""
    let numbers = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    guard numbers.count == 3 else { return "jobs accepted: cannot read \(text)" }
    return numbers[0] == numbers[1] + numbers[2]
      ? nil : "jobs accepted: \(text): \(numbers[0] - numbers[1] - numbers[2]) job(s) unaccounted for"
  }

  /// "bounded: peak queued: N (capacity C)": a bounded channel never holds more than its capacity.
  static let peakQueuedWithinCapacity = Invariant { report in
    let text = report.extraSummary.first { $0.label == "bounded: peak queued" }?.value ?? ""
    let numbers = text.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    guard numbers.count == 2 else { return "bounded: peak queued: cannot read \(text)" }
    return numbers[0] <= numbers[1] ? nil : "bounded: peak queued \(numbers[0]) above capacity \(numbers[1])"
  }
}
