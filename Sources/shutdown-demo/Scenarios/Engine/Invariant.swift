/// One fact a finished run must show. `what` names it in words, for the line `--explore` prints
/// when it held; `check` returns `nil` when it holds, or what went wrong, in words.
struct Invariant: Sendable {
  var what: String
  var check: @Sendable (ScenarioReport) -> String?

  /// Facts every story must show under every order: it finished without a real failure, and each
  /// summary line that states a fact of its own (an equation, a bound) is true.
  static let always: [Invariant] = [ranToTheEnd, summaryIsConsistent]

  static let ranToTheEnd = Invariant(what: "the run finished without an unexpected failure") { report in
    report.failures.isEmpty ? nil : report.failures.joined(separator: "; ")
  }

  static let summaryIsConsistent = Invariant(what: "every equation and bound in the summary holds") {
    report in
    let broken = report.measured.compactMap { line in line.value.contradiction.map { "\(line.label): \($0)" }
    }
    return broken.isEmpty ? nil : broken.joined(separator: "; ")
  }

  /// Every participant either noticed the shutdown or was cut off from outside: none just vanished.
  static let everyParticipantObservedOrAborted = Invariant(
    what: "every participant observed the shutdown or was aborted"
  ) { report in
    let summary = report.summary
    let missing = summary.participants.filter {
      !summary.observed.contains($0) && !summary.aborted.contains($0)
    }
    return missing.isEmpty ? nil : "\(list(missing)) neither observed the shutdown nor was aborted"
  }

  /// No task was still running when main returned.
  static let everyTaskEnded = Invariant(what: "every task ended before main returned") { report in
    report.leftovers.isEmpty ? nil : "\(list(report.leftovers)) still running when main returned"
  }

  static let everyParticipantObserved = Invariant(what: "every participant observed the shutdown") { report in
    let missing = report.summary.participants.filter { !report.summary.observed.contains($0) }
    return missing.isEmpty ? nil : "\(list(missing)) did not observe the shutdown"
  }

  /// Exactly these participants observed the shutdown (the others are the story's stragglers).
  static func observedExactly(_ names: @escaping @Sendable (ScenarioReport) -> [String]) -> Invariant {
    Invariant(what: "the expected participants observed the shutdown") { report in
      let expected = names(report)
      return report.summary.observed == expected
        ? nil : "observed: \(list(report.summary.observed)), where the story expects \(list(expected))"
    }
  }

  /// All participants but the last observed the shutdown; the last is the straggler.
  static let allButLastObserved = observedExactly { Array($0.summary.participants.dropLast()) }

  /// Exactly these tasks were aborted, in any order.
  static func abortedExactly(_ names: @escaping @Sendable (ScenarioReport) -> [String]) -> Invariant {
    Invariant(what: "the expected tasks were aborted") { report in
      let expected = names(report)
      return report.summary.aborted.sorted() == expected.sorted()
        ? nil : "aborted: \(list(report.summary.aborted)), where the story expects \(list(expected))"
    }
  }

  static let nothingAborted = abortedExactly { _ in [] }
  /// The last participant, and only it, was aborted at the grace deadline.
  static let lastParticipantAborted = abortedExactly { [$0.summary.participants.last ?? ""] }

  static let nothingLost = Invariant(what: "no message was lost") { report in
    report.summary.lost == 0 ? nil : "\(report.summary.lost) message(s) lost"
  }

  static let somethingLost = Invariant(what: "the slow receiver lost messages") { report in
    report.summary.lost > 0 ? nil : "no message was lost: the slow receiver never lagged"
  }

  static let somethingSkipped = Invariant(what: "the slow observer skipped values") { report in
    report.summary.skipped > 0 ? nil : "no value was skipped"
  }

  /// The summary line `label` measured exactly `value`.
  static func measured(_ label: String, _ value: @escaping @Sendable (ScenarioReport) -> Measure) -> Invariant
  {
    Invariant(what: "\(label) as expected") { report in
      let expected = value(report)
      guard let actual = report.measure(label) else { return "\(label): not measured" }
      return actual == expected ? nil : "\(label): \(actual.text), where \(expected.text) was expected"
    }
  }

  static func measured(_ label: String, _ value: Measure) -> Invariant { measured(label) { _ in value } }

  /// The summary line `label` names each participant exactly once, in any order.
  static func namesEveryParticipantOnce(_ label: String) -> Invariant {
    Invariant(what: "\(label) names every participant once") { report in
      guard case .names(let names) = report.measure(label) else { return "\(label): not measured" }
      let expected = report.summary.participants
      return names.sorted() == expected.sorted()
        ? nil : "\(label): \(list(names)), where each of \(list(expected)) was expected once"
    }
  }

  private static func list(_ names: [String]) -> String { Measure.names(names).text }
}
