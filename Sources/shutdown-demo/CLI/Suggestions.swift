/// "Did you mean …?" support for unknown subcommands, options and values.
enum Suggestions {
  /// Edit distance between two strings, by `Character`: insertions, deletions, substitutions and
  /// swaps of two adjacent characters each count 1 (optimal string alignment), so the common typo
  /// `tokne` is as close to `token` as `tokn` is.
  static func editDistance(_ lhs: String, _ rhs: String) -> Int {
    let a = Array(lhs)
    let b = Array(rhs)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    // Three rolling rows: the swap rule looks two rows back.
    var beforePrevious = Array(repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = Array(repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
        current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
          current[j] = min(current[j], beforePrevious[j - 2] + 1)
        }
      }
      (beforePrevious, previous, current) = (previous, current, beforePrevious)
    }
    return previous[b.count]
  }

  /// The closest candidate to `input`, if it is close enough to be a plausible typo.
  ///
  /// "Close enough" is at most a third of the candidate's length (leading dashes not counted),
  /// capped at 2, so `tokn` → `token` and `--wokers` → `--workers`, but `-x` never suggests `-h`
  /// and short values like `W9` never suggest `W1`. Case is ignored; ties go to the earlier candidate.
  static func closest(to input: String, among candidates: [String]) -> String? {
    let loweredInput = input.lowercased()
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
      let core = candidate.drop { $0 == "-" }
      let limit = min(2, core.count / 3)
      // The length difference bounds the distance from below; skipping early keeps huge inputs cheap.
      guard abs(input.count - candidate.count) <= limit else { continue }
      let distance = editDistance(loweredInput, candidate.lowercased())
      guard distance <= limit, distance < (best?.distance ?? .max) else { continue }
      best = (candidate, distance)
    }
    return best?.candidate
  }
}

/// Quotes user input for a one-line error message: control characters and line separators are
/// escaped so the message stays on one line, and very long input is shortened.
func quoted(_ text: String) -> String {
  var escaped = ""
  for scalar in text.unicodeScalars {
    switch scalar {
    case "\n": escaped += "\\n"
    case "\r": escaped += "\\r"
    case "\t": escaped += "\\t"
    case _
    where scalar.properties.generalCategory == .control || scalar.value == 0x2028
      || scalar.value == 0x2029 || scalar.value == 0x85:
      escaped += "\\u{\(String(scalar.value, radix: 16))}"
    default: escaped.unicodeScalars.append(scalar)
    }
  }
  if escaped.count > 80 { escaped = escaped.prefix(77) + "..." }
  return "'\(escaped)'"
}
