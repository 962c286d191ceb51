/// A line the story adds to the summary: something it measured, not something it assumed.
struct SummaryLine: Sendable, Hashable {
  /// What was measured, as the summary names it ("results received").
  var label: String
  /// The value, typed: renderers format it, invariants read it.
  var value: Measure
  /// Words after the value, for the reader only ("(main's own)").
  var note: String? = nil
  /// Names for the value's integers in the JSON summary (`requests_accepted`): one for a count,
  /// the total's then each part's for an equation. Empty: the line appears only under `measured`.
  var keys: [String] = []

  init(_ label: String, _ value: Measure, note: String? = nil, keys: [String] = []) {
    self.label = label
    self.value = value
    self.note = note
    self.keys = keys
  }

  /// The integers named by `keys`, in order.
  var keyedIntegers: [(key: String, value: Int)] {
    let numbers: [Int] =
      switch value {
      case .count(let count): [count]
      case .equation(let total, let parts): [total] + parts.map(\.count)
      case .fraction(let count, let total): [count, total]
      case .bounded(let count, let limit): [count, limit.count]
      default: []
      }
    return Array(zip(keys, numbers)).map { (key: $0.0, value: $0.1) }
  }

  /// The value as the text summary shows it, note included.
  var text: String { value.text + (note.map { " " + $0 } ?? "") }
}

/// A measured value. Each case says what kind of fact it is, so a check reads the number itself and
/// never parses it back out of printed words.
enum Measure: Sendable, Hashable {
  /// "6"
  case count(Int)
  /// "worker-1, worker-2", or "none".
  case names([String])
  /// "2 of 3"
  case fraction(Int, of: Int)
  /// "12 = 10 processed + 2 reported unprocessed": the total must equal the sum of the parts.
  case equation(total: Int, parts: [Part])
  /// "worker-1 9, worker-2 9 (of 9)": a count per name, and what each could have reached.
  case tally([Part], of: Int?)
  /// "2 (capacity 2)": a value that must not exceed its limit.
  case bounded(Int, limit: Part)
  /// "1.250s": a moment on the timeline.
  case instant(Duration)
  /// "500ms": a length of time.
  case duration(Duration)
  /// "yes" or "no".
  case flag(Bool)
  /// Words, where the fact is not a number.
  case text(String)

  /// A labelled number inside a measure ("10 processed", "capacity 2").
  struct Part: Sendable, Hashable {
    var count: Int
    var label: String
    init(_ count: Int, _ label: String) {
      self.count = count
      self.label = label
    }
  }

  var text: String {
    switch self {
    case .count(let count): "\(count)"
    case .names(let names): names.isEmpty ? "none" : names.joined(separator: ", ")
    case .fraction(let count, let total): "\(count) of \(total)"
    case .equation(let total, let parts):
      "\(total) = " + parts.map { "\($0.count) \($0.label)" }.joined(separator: " + ")
    case .tally(let parts, let total):
      parts.map { "\($0.label) \($0.count)" }.joined(separator: ", ") + (total.map { " (of \($0))" } ?? "")
    case .bounded(let value, let limit): "\(value) (\(limit.label) \(limit.count))"
    case .instant(let time): formatTimestamp(time)
    case .duration(let duration): formatDuration(duration)
    case .flag(let yes): yes ? "yes" : "no"
    case .text(let words): words
    }
  }

  /// The fact this measure itself asserts, broken: an equation that does not add up, a bound exceeded.
  var contradiction: String? {
    switch self {
    case .equation(let total, let parts):
      let sum = parts.reduce(0) { $0 + $1.count }
      return sum == total ? nil : "the parts add up to \(sum), not \(total)"
    case .bounded(let value, let limit):
      return value <= limit.count ? nil : "\(value) is above the \(limit.label) of \(limit.count)"
    default: return nil
    }
  }
}
