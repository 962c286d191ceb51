/// Duration text as users type it on the command line.
///
/// Grammar: a non-negative decimal number followed directly by a unit, with no spaces and no sign.
/// The number is ASCII digits, optionally followed by a single `.` and 1–3 more digits (`1.5s`,
/// `0.25s`, `1.001h`); there must be a digit on both sides of the dot. Units are `ns`, `us`, `ms`,
/// `s`, `m` and `h`. Every message that lists the units lists all six; help's examples show the
/// common ones. A story given sub-millisecond knobs shows its timeline with as many decimals as it needs.
///
/// Values are computed with checked `Int64` nanosecond arithmetic, never `Double`, so `1.1s` is
/// exactly 1 100 000 000 ns. Three decimal places keep every value exact for `us` and above;
/// a value that would need a fraction of a nanosecond (`1.5ns`) is rejected rather than rounded.
/// Anything beyond `Int64.max` nanoseconds (about 292 years) is rejected as too large.

/// A unit accepted by `parseDuration(_:)`, largest first so formatting prefers larger units on ties.
enum DurationUnit: CaseIterable, Sendable {
  case hours, minutes, seconds, milliseconds, microseconds, nanoseconds

  var symbol: String {
    switch self {
    case .hours: "h"
    case .minutes: "m"
    case .seconds: "s"
    case .milliseconds: "ms"
    case .microseconds: "us"
    case .nanoseconds: "ns"
    }
  }

  var nanosecondsPerUnit: Int64 {
    switch self {
    case .hours: 3_600_000_000_000
    case .minutes: 60_000_000_000
    case .seconds: 1_000_000_000
    case .milliseconds: 1_000_000
    case .microseconds: 1_000
    case .nanoseconds: 1
    }
  }

  init?(symbol: String) {
    guard let unit = DurationUnit.allCases.first(where: { $0.symbol == symbol }) else { return nil }
    self = unit
  }
}

/// Why a duration failed to parse. `description` is a short phrase for one-line error messages.
enum DurationParseError: Error, Sendable, Equatable, CustomStringConvertible {
  case empty
  case negative
  case signed
  case missingNumber
  case malformedNumber
  case tooManyDecimals
  case missingUnit
  case unknownUnit(String)
  case finerThanNanosecond
  case tooLarge

  var description: String {
    switch self {
    case .empty: "the value is empty"
    case .negative: "durations cannot be negative"
    case .signed: "durations take no sign"
    case .missingNumber: "the number is missing"
    case .malformedNumber: "the number is malformed"
    case .tooManyDecimals: "at most 3 decimal places are allowed"
    case .missingUnit: "the unit is missing (ns, us, ms, s, m or h)"
    case .unknownUnit(let unit): "unknown unit \(quoted(unit)) (use ns, us, ms, s, m or h)"
    case .finerThanNanosecond: "the value is finer than a nanosecond"
    case .tooLarge: "the value is too large"
    }
  }
}

/// Parses duration text (see the grammar at the top of this file), returning `nil` when invalid.
func parseDuration(_ text: String) -> Duration? {
  try? parseDurationResult(text).get()
}

/// Parses duration text, reporting why it is invalid so error messages can say what to fix.
func parseDurationResult(_ text: String) -> Result<Duration, DurationParseError> {
  // Work on UTF-8 bytes: only ASCII digits count, so Unicode digits fall through to "unit".
  let bytes = Array(text.utf8)
  guard let first = bytes.first else { return .failure(.empty) }
  if first == UInt8(ascii: "-") { return .failure(.negative) }
  if first == UInt8(ascii: "+") { return .failure(.signed) }

  let dot = UInt8(ascii: ".")
  let numberEnd = bytes.firstIndex { !isASCIIDigit($0) && $0 != dot } ?? bytes.endIndex
  let number = bytes[..<numberEnd]
  let unitBytes = bytes[numberEnd...]
  guard !number.isEmpty else { return .failure(.missingNumber) }
  guard !unitBytes.isEmpty else { return .failure(.missingUnit) }
  let unitText = String(decoding: unitBytes, as: UTF8.self)
  guard let unit = DurationUnit(symbol: unitText) else { return .failure(.unknownUnit(unitText)) }

  let parts = number.split(separator: dot, omittingEmptySubsequences: false)
  guard parts.count <= 2, !parts[0].isEmpty else { return .failure(.malformedNumber) }
  let fraction = parts.count == 2 ? parts[1] : []
  if parts.count == 2, fraction.isEmpty { return .failure(.malformedNumber) }
  guard fraction.count <= 3 else { return .failure(.tooManyDecimals) }

  var whole: Int64 = 0
  for byte in parts[0] {
    let (shifted, overflow1) = whole.multipliedReportingOverflow(by: 10)
    let (next, overflow2) = shifted.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
    guard !overflow1, !overflow2 else { return .failure(.tooLarge) }
    whole = next
  }
  // The fraction as thousandths (".5" → 500); at most 999, so no overflow is possible below.
  var thousandths: Int64 = 0
  for index in 0..<3 {
    let digit = index < fraction.count ? Int64(fraction[fraction.startIndex + index] - UInt8(ascii: "0")) : 0
    thousandths = thousandths * 10 + digit
  }
  let scaledFraction = thousandths * unit.nanosecondsPerUnit
  guard scaledFraction % 1000 == 0 else { return .failure(.finerThanNanosecond) }

  let (wholeNanoseconds, overflow1) = whole.multipliedReportingOverflow(by: unit.nanosecondsPerUnit)
  let (total, overflow2) = wholeNanoseconds.addingReportingOverflow(scaledFraction / 1000)
  guard !overflow1, !overflow2 else { return .failure(.tooLarge) }
  return .success(.nanoseconds(total))
}

/// Prints a duration in the shortest exact form `parseDuration(_:)` reads back to the same value.
///
/// Considers every unit in which the value is at least 1 (so never `0.25s`) and exact with at most 3
/// decimal places, and takes the shortest text; ties go to the larger unit. Examples: `250ms`, `2s`,
/// `1.5s`, `1m`, `90s` (shorter than `1.5m`), `1.001h`, `12345ns`, `0s`. Negative durations get a
/// leading `-` (which the parser rejects on purpose); durations that are not a whole number of
/// nanoseconds or do not fit in `Int64` nanoseconds fall back to the standard library's description.
func formatDuration(_ duration: Duration) -> String {
  guard let nanoseconds = exactNanoseconds(duration), nanoseconds != .min else {
    return "\(duration)"
  }
  if nanoseconds == 0 { return "0s" }
  if nanoseconds < 0 { return "-" + formatDuration(.nanoseconds(-nanoseconds)) }
  var best: String?
  // Largest unit first, and only a strictly shorter text replaces the best: ties keep the larger unit.
  for unit in DurationUnit.allCases where nanoseconds >= unit.nanosecondsPerUnit {
    guard let text = exactText(nanoseconds, in: unit) else { continue }
    if text.count < best?.count ?? .max { best = text }
  }
  // Every positive nanosecond count has an `ns` form, so `best` is always set here.
  return best ?? "\(nanoseconds)ns"
}

/// `nanoseconds` written in `unit` with at most 3 decimal places, or `nil` if that is not exact.
private func exactText(_ nanoseconds: Int64, in unit: DurationUnit) -> String? {
  let whole = nanoseconds / unit.nanosecondsPerUnit
  // The remainder is below one unit (< 3.6e12 ns), so multiplying by 1000 cannot overflow.
  let remainder = (nanoseconds % unit.nanosecondsPerUnit) * 1000
  guard remainder % unit.nanosecondsPerUnit == 0 else { return nil }
  let thousandths = remainder / unit.nanosecondsPerUnit
  guard thousandths > 0 else { return "\(whole)\(unit.symbol)" }
  var decimals = String(thousandths)
  decimals = String(repeating: "0", count: 3 - decimals.count) + decimals
  while decimals.hasSuffix("0") { decimals.removeLast() }
  return "\(whole).\(decimals)\(unit.symbol)"
}

/// The duration as whole nanoseconds, or `nil` if it has a sub-nanosecond part or overflows `Int64`.
func exactNanoseconds(_ duration: Duration) -> Int64? {
  let (seconds, attoseconds) = duration.components
  guard attoseconds % 1_000_000_000 == 0 else { return nil }
  let (secondsPart, overflow1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
  let (total, overflow2) = secondsPart.addingReportingOverflow(attoseconds / 1_000_000_000)
  return overflow1 || overflow2 ? nil : total
}

private func isASCIIDigit(_ byte: UInt8) -> Bool {
  byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}
