import Testing

@testable import shutdown_demo

private let rootUsage = "Usage: shutdown-demo <subcommand>"
private let rootSee = "  See 'shutdown-demo --help' for more information."
private let tokenUsage = "Usage: shutdown-demo token [--scenario <scenario>] [--workers <n>] [--no-color]"
private let tokenSee = "  See 'shutdown-demo token --help' for more information."
private let joinsetUsage =
  "Usage: shutdown-demo joinset [--grace <duration>] [--format <format>] [--only <workers>] [--label <text>]"
  + " [--exit-code <code>]"
private let joinsetSee = "  See 'shutdown-demo joinset --help' for more information."

/// Asserts a usage error: exit 64, nothing on stdout, exactly the three expected lines on stderr.
private func expectUsageError(
  _ arguments: [String], _ message: String, usage: String, see: String,
  environment: [String: String] = ["COLUMNS": "80"], sourceLocation: SourceLocation = #_sourceLocation
) {
  let (code, output) = CLIFixture.run(arguments, environment: environment)
  #expect(code == 64, sourceLocation: sourceLocation)
  #expect(output.out == "", sourceLocation: sourceLocation)
  // Three parts and the final line break (the usage wrapped as help wraps it, joined back here):
  // nothing a user typed may add a line.
  #expect(output.errLines == ["Error: \(message)", usage, see, ""], sourceLocation: sourceLocation)
}

private func expectRootError(
  _ arguments: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  expectUsageError(arguments, message, usage: rootUsage, see: rootSee, sourceLocation: sourceLocation)
}

private func expectTokenError(
  _ arguments: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  expectUsageError(
    ["token"] + arguments, message, usage: tokenUsage, see: tokenSee, sourceLocation: sourceLocation)
}

private func expectJoinsetError(
  _ arguments: [String], _ message: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  expectUsageError(
    ["joinset"] + arguments, message, usage: joinsetUsage, see: joinsetSee, sourceLocation: sourceLocation)
}

// MARK: Root level

@Test func unknownSubcommand_nearMiss_suggestsClosest() {
  expectRootError(["tokn"], "Unknown subcommand 'tokn'. Did you mean 'token'?")
}

@Test func unknownSubcommand_nearMissOfAlias_suggestsAlias() {
  expectRootError(["task-grup"], "Unknown subcommand 'task-grup'. Did you mean 'task-group'?")
}

@Test func unknownSubcommand_farFromEverything_hasNoSuggestion() {
  expectRootError(["frobnicate"], "Unknown subcommand 'frobnicate'.")
}

@Test func unknownSubcommand_empty_isReported() {
  expectRootError([""], "Unknown subcommand ''.")
}

@Test func unknownSubcommand_withLineBreaks_staysOnOneLine() {
  expectRootError(["to\nk\u{2028}en\t"], "Unknown subcommand 'to\\nk\\u{2028}en\\t'.")
}

@Test func unknownSubcommand_huge_isShortened() {
  let huge = String(repeating: "x", count: 100_000)
  expectRootError([huge], "Unknown subcommand '\(String(repeating: "x", count: 77))...'.")
}

@Test func helpForUnknownSubcommand_isRootUsageError() {
  expectRootError(["help", "nope"], "Unknown subcommand 'nope'.")
  expectRootError(["help", "tokne"], "Unknown subcommand 'tokne'. Did you mean 'token'?")
}

@Test func helpWithExtraArgument_isUnexpected() {
  expectRootError(["help", "token", "extra"], "Unexpected argument 'extra'")
}

@Test func helpWithUnknownOption_isUnknownOption() {
  expectRootError(["help", "--wat"], "Unknown option '--wat'.")
}

@Test func rootUnknownOption_nearMiss_suggestsClosest() {
  expectRootError(["--verison"], "Unknown option '--verison'. Did you mean '--version'?")
}

@Test func rootShortOption_otherThanH_isUnknown() {
  expectRootError(["-x"], "Unknown option '-x'.")
  expectRootError(["-V"], "Unknown option '-V'.")
}

@Test func versionWithExtraArgument_isUnexpected() {
  expectRootError(["--version", "now"], "Unexpected argument 'now'")
}

// MARK: Options

@Test func unknownOption_nearMiss_suggestsClosest() {
  expectTokenError(["--wokers", "3"], "Unknown option '--wokers'. Did you mean '--workers'?")
}

@Test func unknownOption_nearMissWithInlineValue_suggestsOnTheName() {
  expectTokenError(["--wokers=3"], "Unknown option '--wokers'. Did you mean '--workers'?")
}

@Test func unknownOption_singleDashLongName_suggestsDoubleDash() {
  expectTokenError(["-workers", "3"], "Unknown option '-workers'. Did you mean '--workers'?")
}

@Test func unknownOption_farFromEverything_hasNoSuggestion() {
  expectTokenError(["--zzz"], "Unknown option '--zzz'.")
}

@Test func shortOption_otherThanH_isUnknown() {
  expectTokenError(["-w", "3"], "Unknown option '-w'.")
}

@Test func unexpectedPositionalArgument_isReported() {
  expectTokenError(["extra"], "Unexpected argument 'extra'")
  expectTokenError(["--workers", "2", "3"], "Unexpected argument '3'")
  expectTokenError(["-"], "Unexpected argument '-'")
  expectTokenError(["--"], "Unexpected argument '--'")
}

@Test func missingValue_atEnd_isReported() {
  expectTokenError(["--workers"], "Missing value for '--workers <n>': expected a whole number from 1 to 64")
}

@Test func missingValue_whenNextArgumentLooksLikeAnOption_isNotTakenAsValue() {
  expectTokenError(
    ["--workers", "--no-color"], "Missing value for '--workers <n>': expected a whole number from 1 to 64")
  expectJoinsetError(
    ["--exit-code", "--grace", "1s"],
    "Missing value for '--exit-code <code>': expected a whole number from 0 to 255")
  expectJoinsetError(["--label", "-h2"], "Missing value for '--label <text>': expected any text")
}

@Test func repeatedOption_isReported() {
  expectTokenError(
    ["--workers", "2", "--workers", "3"], "Option '--workers' given more than once; give it at most once")
  expectTokenError(
    ["--workers=2", "--workers", "2"], "Option '--workers' given more than once; give it at most once")
  expectTokenError(
    ["--no-color", "--no-color"], "Option '--no-color' given more than once; give it at most once")
}

@Test func flagGivenAValue_isReported() {
  expectTokenError(["--no-color=yes"], "Option '--no-color' does not take a value, but was given 'yes'")
  expectTokenError(["--no-color="], "Option '--no-color' does not take a value, but was given ''")
}

@Test func firstProblem_isTheOneReported() {
  expectTokenError(
    ["--workers", "0", "--bogus"],
    "The value '0' is invalid for '--workers <n>': expected a whole number from 1 to 64")
}

// MARK: Values

@Test(arguments: [
  "abc", "0", "65", "-5", "", "1.5", " 3", "3 ", "0x10", "1_0", "٣", "99999999999999999999999",
])
func integerValue_notAWholeNumberInRange_isInvalid(value: String) {
  expectTokenError(
    ["--workers=\(value)"],
    "The value '\(value)' is invalid for '--workers <n>': expected a whole number from 1 to 64")
}

@Test func integerValue_negativeAsSeparateArgument_isTakenAsValue() {
  expectTokenError(
    ["--workers", "-5"], "The value '-5' is invalid for '--workers <n>': expected a whole number from 1 to 64"
  )
}

@Test(arguments: [
  ("-1s", "durations cannot be negative"),
  ("+1s", "durations take no sign"),
  ("1x", "unknown unit 'x' (use ns, us, ms, s, m or h)"),
  ("1 s", "unknown unit ' s' (use ns, us, ms, s, m or h)"),
  ("1S", "unknown unit 'S' (use ns, us, ms, s, m or h)"),
  ("abc", "the number is missing"),
  ("s", "the number is missing"),
  ("", "the value is empty"),
  ("1", "the unit is missing (ns, us, ms, s, m or h)"),
  ("1.5.2s", "the number is malformed"),
  (".5s", "the number is malformed"),
  ("5.s", "the number is malformed"),
  ("1.2345s", "at most 3 decimal places are allowed"),
  ("99999999999h", "the value is too large"),
  ("99999999999999999999999999s", "the value is too large"),
])
func durationValue_malformed_namesTheReasonAndTheAcceptedForm(value: String, reason: String) {
  expectJoinsetError(
    ["--grace", value],
    "The value '\(value)' is invalid for '--grace <duration>': \(reason); "
      + "expected a duration from 0s to 1m, such as 250ms, 2s, 1.5s or 1m"
  )
}

@Test func durationValue_outOfRange_namesTheRange() {
  expectJoinsetError(
    ["--grace", "2m"],
    "The value '2m' is invalid for '--grace <duration>': expected a duration from 0s to 1m, such as 250ms, 2s, "
      + "1.5s or 1m")
  expectJoinsetError(
    ["--grace=60.001s"],
    "The value '60.001s' is invalid for '--grace <duration>': expected a duration from 0s to 1m, such as 250ms, "
      + "2s, 1.5s or 1m")
}

@Test func choiceValue_nearMiss_suggestsClosestAndListsValues() {
  expectJoinsetError(
    ["--format", "jsn"],
    "The value 'jsn' is invalid for '--format <format>'. Did you mean 'json'? Expected one of: text, json")
  expectTokenError(
    ["--scenario", "basik"],
    "The value 'basik' is invalid for '--scenario <scenario>'. "
      + "Did you mean 'basic'? Expected one of: basic, all"
  )
}

@Test func choiceValue_farFromEverything_listsValues() {
  expectJoinsetError(
    ["--format", "xml"], "The value 'xml' is invalid for '--format <format>'. Expected one of: text, json")
}

@Test func choiceValue_differentCase_isInvalidButSuggested() {
  expectJoinsetError(
    ["--format=JSON"],
    "The value 'JSON' is invalid for '--format <format>'. Did you mean 'json'? Expected one of: text, json")
}

@Test func listValue_badElement_namesElementAndListsValues() {
  let expected = "Expected a comma-separated list from: W1, W2, W3, W4, W5"
  expectJoinsetError(
    ["--only", "W1,W9"],
    "The value 'W1,W9' is invalid for '--only <workers>': unknown element 'W9'. \(expected)")
  expectJoinsetError(
    ["--only", "W1,w2"],
    "The value 'W1,w2' is invalid for '--only <workers>': "
      + "unknown element 'w2'. Did you mean 'W2'? \(expected)"
  )
  expectJoinsetError(
    ["--only", "W1,,W2"], "The value 'W1,,W2' is invalid for '--only <workers>': empty element. \(expected)")
  expectJoinsetError(
    ["--only="], "The value '' is invalid for '--only <workers>': empty element. \(expected)")
  expectJoinsetError(
    ["--only", "W1,W2,W1"],
    "The value 'W1,W2,W1' is invalid for '--only <workers>': 'W1' is listed twice. \(expected)")
}

// MARK: Errors from commands

@Test func commandThrowingUsageError_rendersWithItsUsage() {
  expectJoinsetError(["--format=json", "--label="], "'--label' must not be empty with '--format json'")
}

@Test func commandThrowingUsageError_forAnotherCommand_rendersThatUsage() {
  var tool = CLIFixture.tool
  tool.commands[2].run = { _, _ in throw UsageError("Use token\ninstead", commandName: "token") }
  let output = CapturedOutput()
  #expect(tool.run(arguments: ["boom"], context: output.context()) == 64)
  #expect(output.out == "")
  #expect(output.err == "Error: Use token instead\n\(tokenUsage)\n\(tokenSee)\n")
}

@Test func commandThrowingOtherError_printsErrorLineAndExits1() {
  let (code, output) = CLIFixture.run(["boom"])
  #expect(code == 1)
  #expect(output.out == "")
  #expect(output.err == "Error: the fake failed\n")
}

@Test func usageError_wrapsItsUsageLikeHelp_onNarrowTerminals() {
  expectUsageError(
    ["joinset", "--bogus"], "Unknown option '--bogus'.", usage: joinsetUsage, see: joinsetSee,
    environment: ["COLUMNS": "40"])
  let (_, output) = CLIFixture.run(["joinset", "--bogus"], environment: ["COLUMNS": "40"])
  #expect(
    output.err.split(separator: "\n").filter { $0.hasPrefix("Usage: ") || $0.hasPrefix("    ") }.allSatisfy {
      $0.count <= 40
    })
}
