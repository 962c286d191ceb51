/// A parsed, validated option value.
enum OptionValue: Sendable, Equatable {
  case flag
  case integer(Int)
  case duration(Duration)
  case choice(String)
  case list([String])
  case text(String)
}

/// The options of one invocation after parsing: given values, falling back to spec defaults.
///
/// Accessors are for the command that declared the options; asking for an undeclared option, with
/// the wrong kind, or for a value that was neither given nor defaulted is a programmer error and
/// stops with a precondition failure (the command must check `wasGiven` first).
struct ParsedOptions: Sendable {
  private var specs: [String: OptionSpec]
  private var given: [String: OptionValue]
  private var defaults: [String: OptionValue]
  /// The argument that is not an option, for a command that takes one (`pitfalls <name>`).
  var positional: String?

  /// Combines given values with the specs' defaults. Defaults that do not parse are dropped here;
  /// `CommandLineTool.specProblems()` reports them so a test catches them instead.
  init(specs: [OptionSpec], given: [String: OptionValue]) {
    var byName: [String: OptionSpec] = [:]
    var defaults: [String: OptionValue] = [:]
    for spec in specs {
      byName[spec.name] = spec
      if let text = spec.defaultValue, case .success(let value) = parseOptionValue(text, for: spec) {
        defaults[spec.name] = value
      }
    }
    self.specs = byName
    self.given = given
    self.defaults = defaults
  }

  /// Whether the option appeared on the command line (defaults do not count).
  func wasGiven(_ name: String) -> Bool {
    precondition(specs[name] != nil, "Undeclared option '\(name)'")
    return given[name] != nil
  }

  func flag(_ name: String) -> Bool {
    guard case .flag = value(name, kind: "flag", allowMissing: true) else { return false }
    return true
  }

  func integer(_ name: String) -> Int {
    guard case .integer(let value) = value(name, kind: "integer") else { preconditionFailure() }
    return value
  }

  func duration(_ name: String) -> Duration {
    guard case .duration(let value) = value(name, kind: "duration") else { preconditionFailure() }
    return value
  }

  func choice(_ name: String) -> String {
    guard case .choice(let value) = value(name, kind: "choice") else { preconditionFailure() }
    return value
  }

  func list(_ name: String) -> [String] {
    guard case .list(let value) = value(name, kind: "list") else { preconditionFailure() }
    return value
  }

  /// The text, or `nil` if neither given nor defaulted (text options may legitimately be absent).
  func text(_ name: String) -> String? {
    guard case .text(let value) = value(name, kind: "text", allowMissing: true) else { return nil }
    return value
  }

  private func value(_ name: String, kind: String, allowMissing: Bool = false) -> OptionValue? {
    guard let spec = specs[name] else { preconditionFailure("Undeclared option '\(name)'") }
    precondition(spec.kind.label == kind, "Option '\(name)' is a \(spec.kind.label), not a \(kind)")
    let value = given[name] ?? defaults[name]
    precondition(allowMissing || value != nil, "Option '\(name)' has no value and no default")
    return value
  }
}

extension OptionKind {
  /// What a value must look like, as the end of a one-line error message ("expected …"). Shared by
  /// the invalid-value and missing-value errors so every error names the accepted form.
  var expectedForm: String {
    switch self {
    case .flag: "expected no value"
    case .integer(let range): "expected a whole number from \(range.lowerBound) to \(range.upperBound)"
    case .duration(let range):
      "expected a duration from \(formatDuration(range.lowerBound)) to \(formatDuration(range.upperBound)), "
        + "such as 250ms, 2s, 1.5s or 1m"
    case .choice(let values): "expected one of: \(values.joined(separator: ", "))"
    case .list(let values): "expected a comma-separated list from: \(values.joined(separator: ", "))"
    case .text: "expected any text"
    }
  }

  /// The kind's name, for programmer-error messages.
  var label: String {
    switch self {
    case .flag: "flag"
    case .integer: "integer"
    case .duration: "duration"
    case .choice: "choice"
    case .list: "list"
    case .text: "text"
    }
  }
}

/// The examples of the duration form, shared by help and error messages so they never disagree.
let durationExamples = "250ms, 2s, 1.5s, 1m"

/// Parses one value for a value-taking option. The error is a complete one-line message.
func parseOptionValue(_ raw: String, for spec: OptionSpec) -> Result<OptionValue, UsageError> {
  let invalid = "The value \(quoted(raw)) is invalid for '\(spec.synopsis)'"
  switch spec.kind {
  case .flag:
    return .failure(
      UsageError("Option '\(spec.flagName)' does not take a value, but was given \(quoted(raw))"))

  case .integer:
    // `Int.init` rejects spaces, underscores, other bases and overflow, which is what we want.
    guard let value = Int(raw), case .integer(let range) = spec.kind, range.contains(value) else {
      return .failure(UsageError("\(invalid): \(spec.kind.expectedForm)"))
    }
    return .success(.integer(value))

  case .duration(let range):
    switch parseDurationResult(raw) {
    case .failure(let reason):
      return .failure(UsageError("\(invalid): \(reason); \(spec.kind.expectedForm)"))
    case .success(let value):
      guard range.contains(value) else {
        return .failure(UsageError("\(invalid): \(spec.kind.expectedForm)"))
      }
      return .success(.duration(value))
    }

  case .choice(let values):
    guard values.contains(raw) else {
      let hint = Suggestions.closest(to: raw, among: values).map { " Did you mean '\($0)'?" } ?? ""
      return .failure(UsageError("\(invalid).\(hint) Expected one of: \(values.joined(separator: ", "))"))
    }
    return .success(.choice(raw))

  case .list(let values):
    let expected = "Expected a comma-separated list from: \(values.joined(separator: ", "))"
    var elements: [String] = []
    for element in raw.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
      guard !element.isEmpty else {
        return .failure(UsageError("\(invalid): empty element. \(expected)"))
      }
      guard values.contains(element) else {
        let hint = Suggestions.closest(to: element, among: values).map { " Did you mean '\($0)'?" } ?? ""
        return .failure(UsageError("\(invalid): unknown element \(quoted(element)).\(hint) \(expected)"))
      }
      guard !elements.contains(element) else {
        return .failure(UsageError("\(invalid): \(quoted(element)) is listed twice. \(expected)"))
      }
      elements.append(element)
    }
    return .success(.list(elements))

  case .text:
    return .success(.text(raw))
  }
}
