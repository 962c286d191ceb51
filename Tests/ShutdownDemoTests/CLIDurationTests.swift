import Testing

@testable import shutdown_demo

@Test(arguments: [
  ("0s", Duration.zero),
  ("0ms", .zero),
  ("0.000s", .zero),
  ("250ms", .milliseconds(250)),
  ("2s", .seconds(2)),
  ("1.5s", .milliseconds(1500)),
  ("1.1s", .nanoseconds(1_100_000_000)),
  ("0.001s", .milliseconds(1)),
  ("1m", .seconds(60)),
  ("1.5m", .seconds(90)),
  ("1h", .seconds(3600)),
  ("1.001h", .milliseconds(3_603_600)),
  ("007s", .seconds(7)),
  ("1.5ms", .microseconds(1500)),
  ("1.5us", .nanoseconds(1500)),
  ("3ns", .nanoseconds(3)),
  ("1.0ns", .nanoseconds(1)),
  ("9223372036854775807ns", .nanoseconds(Int64.max)),
  ("2562047h", .seconds(2_562_047 * 3600)),
])
func parseDuration_validText_isExact(text: String, expected: Duration) {
  #expect(parseDuration(text) == expected)
}

@Test(arguments: [
  ("", DurationParseError.empty),
  ("-1s", .negative),
  ("-0s", .negative),
  ("+1s", .signed),
  ("s", .missingNumber),
  ("abc", .missingNumber),
  ("1", .missingUnit),
  ("1.5", .missingUnit),
  ("1x", .unknownUnit("x")),
  ("1 s", .unknownUnit(" s")),
  ("1sec", .unknownUnit("sec")),
  ("1µs", .unknownUnit("µs")),
  ("１s", .missingNumber),
  ("1.5.2s", .malformedNumber),
  (".5s", .malformedNumber),
  ("5.s", .malformedNumber),
  ("1..5s", .malformedNumber),
  ("1.2345s", .tooManyDecimals),
  ("1.5ns", .finerThanNanosecond),
  ("9223372036854775808ns", .tooLarge),
  ("2562048h", .tooLarge),
  ("99999999999h", .tooLarge),
  ("99999999999999999999999999s", .tooLarge),
  ("9223372036854775807.999s", .tooLarge),
])
func parseDuration_invalidText_isRejectedWithReason(text: String, reason: DurationParseError) {
  #expect(parseDurationResult(text) == .failure(reason))
  #expect(parseDuration(text) == nil)
}

@Test(arguments: [
  (Duration.zero, "0s"),
  (.milliseconds(250), "250ms"),
  (.milliseconds(100), "100ms"),
  (.seconds(2), "2s"),
  (.milliseconds(1500), "1.5s"),
  (.milliseconds(1250), "1.25s"),
  (.seconds(60), "1m"),
  (.seconds(90), "90s"),
  (.milliseconds(3_603_600), "1.001h"),
  (.nanoseconds(12345), "12345ns"),
  (.seconds(61), "61s"),
  (.seconds(3600), "1h"),
  (.seconds(3601), "3601s"),
  (.microseconds(1500), "1.5ms"),
  (.nanoseconds(1500), "1.5us"),
  (.nanoseconds(1), "1ns"),
  (.nanoseconds(1_000_001), "1000001ns"),
  (.milliseconds(-1500), "-1.5s"),
])
func formatDuration_printsShortestExactForm(duration: Duration, expected: String) {
  #expect(formatDuration(duration) == expected)
}

@Test func formatDuration_unrepresentableInNanoseconds_fallsBackToDescription() {
  let subNanosecond = Duration(secondsComponent: 0, attosecondsComponent: 1)
  #expect(formatDuration(subNanosecond) == "\(subNanosecond)")
  let huge = Duration.seconds(Int64.max)
  #expect(formatDuration(huge) == "\(huge)")
}

@Test(arguments: [
  "0s", "250ms", "2s", "1.5s", "1m", "1h", "1.001h", "1.999m", "0.5ms", "0.001us", "12345ns", "59.999s",
  "9223372036854775807ns", "2562047h", "2562047.788h",
])
func formatDuration_roundTripsEveryParsedValue(text: String) throws {
  let parsed = try #require(parseDuration(text))
  let formatted = formatDuration(parsed)
  #expect(parseDuration(formatted) == parsed)
  #expect(formatted.count <= text.count)
}

@Test func formatDuration_roundTripsAcrossAWideSpreadOfValues() {
  // Deterministic spread across magnitudes, including values with awkward remainders.
  var value: Int64 = 1
  while value < Int64.max / 7 {
    for candidate in [value, value + 1, value * 3 / 2, value * 5 - 1] {
      let duration = Duration.nanoseconds(candidate)
      #expect(parseDuration(formatDuration(duration)) == duration, "\(candidate) ns")
    }
    value *= 7
  }
}
