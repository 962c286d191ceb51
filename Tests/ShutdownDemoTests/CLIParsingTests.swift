import Testing

@testable import shutdown_demo

/// Runs the fixture and expects success with exactly this stdout and nothing on stderr.
private func expectRun(
  _ arguments: [String], _ expected: String, code expectedCode: Int32 = 0,
  environment: [String: String] = [:],
  terminal: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
) {
  let (code, output) = CLIFixture.run(arguments, environment: environment, terminal: terminal)
  #expect(code == expectedCode, sourceLocation: sourceLocation)
  #expect(output.out == expected, sourceLocation: sourceLocation)
  #expect(output.err == "", sourceLocation: sourceLocation)
}

@Test func noOptions_usesEveryDefault() {
  expectRun(["token"], "token scenario=basic workers=3 color=false\n")
  expectRun(["joinset"], "joinset grace=2s format=text only=W1+W2+W3 label=-\n")
}

@Test func separateAndInlineValues_areEquivalent() {
  expectRun(["token", "--workers", "64", "--scenario", "all"], "token scenario=all workers=64 color=false\n")
  expectRun(["token", "--workers=64", "--scenario=all"], "token scenario=all workers=64 color=false\n")
}

@Test func inlineValue_mayContainEqualsAndDashes() {
  expectRun(["joinset", "--label=a=b"], "joinset grace=2s format=text only=W1+W2+W3 label=a=b\n")
  expectRun(["joinset", "--label=--x"], "joinset grace=2s format=text only=W1+W2+W3 label=--x\n")
}

@Test func textValue_mayBeEmptyUnicodeOrALoneDash() {
  expectRun(["joinset", "--label="], "joinset grace=2s format=text only=W1+W2+W3 label=\n")
  expectRun(["joinset", "--label", "größe 🚀"], "joinset grace=2s format=text only=W1+W2+W3 label=größe 🚀\n")
  expectRun(["joinset", "--label", "-"], "joinset grace=2s format=text only=W1+W2+W3 label=-\n")
}

@Test func optionsInAnyOrder_withAlias_allApply() {
  expectRun(
    ["task-group", "--only", "W5,W1", "--grace=1.5s", "--format", "json", "--label", "x"],
    "joinset grace=1.5s format=json only=W5+W1 label=x\n")
}

@Test func durationValue_isShownCanonically() {
  expectRun(["joinset", "--grace", "60000ms"], "joinset grace=1m format=text only=W1+W2+W3 label=-\n")
  expectRun(["joinset", "--grace", "0s"], "joinset grace=0s format=text only=W1+W2+W3 label=-\n")
}

@Test func commandExitCode_isReturned() {
  expectRun(["joinset", "--exit-code", "3"], "joinset grace=2s format=text only=W1+W2+W3 label=-\n", code: 3)
}

@Test func color_onlyOnTerminal_withoutNoColorEnvironment_orFlag() {
  expectRun(["token"], "token scenario=basic workers=3 color=true\n", terminal: true)
  expectRun(["token"], "token scenario=basic workers=3 color=false\n", terminal: false)
  expectRun(["token", "--no-color"], "token scenario=basic workers=3 color=false\n", terminal: true)
  // no-color.org: an empty NO_COLOR does not count; TERM=dumb gets none.
  expectRun(
    ["token"], "token scenario=basic workers=3 color=true\n", environment: ["NO_COLOR": ""], terminal: true)
  expectRun(
    ["token"], "token scenario=basic workers=3 color=false\n", environment: ["TERM": "dumb"], terminal: true)
  expectRun(
    ["token"], "token scenario=basic workers=3 color=false\n", environment: ["NO_COLOR": "1"], terminal: true)
}

@Test(arguments: [
  ([String: String](), 80), (["COLUMNS": "120"], 120), (["COLUMNS": "0"], 80), (["COLUMNS": "-5"], 80),
  (["COLUMNS": ""], 80), (["COLUMNS": "wide"], 80), (["COLUMNS": "99999999999999999999999"], 80),
])
func columns_comeFromValidCOLUMNS_else80(environment: [String: String], expected: Int) {
  #expect(CapturedOutput().context(environment: environment).columns == expected)
}

@Test func parsedOptions_reportWhatWasGiven() throws {
  let options = try CLIFixture.tool.parseOptions(["--format", "json"], for: CLIFixture.joinset)
    .get()
  #expect(options.wasGiven("format"))
  #expect(!options.wasGiven("grace"))
  #expect(options.duration("grace") == .seconds(2))
  #expect(options.choice("format") == "json")
  #expect(options.list("only") == ["W1", "W2", "W3"])
  #expect(options.text("label") == nil)
  #expect(!options.wasGiven("exit-code"))
}

@Test func resolve_decidesWithoutRunning() {
  guard case .execute(let command, let options) = CLIFixture.tool.resolve(["task-group", "--grace", "250ms"])
  else {
    Issue.record("expected execute")
    return
  }
  #expect(command.name == "joinset")
  #expect(options.duration("grace") == .milliseconds(250))
  guard case .usageError(let error) = CLIFixture.tool.resolve(["token", "--workers"]) else {
    Issue.record("expected a usage error")
    return
  }
  #expect(
    error
      == UsageError(
        "Missing value for '--workers <n>': expected a whole number from 1 to 64", commandName: "token"))
}

@Test func looksLikeOption_treatsNegativeNumbersAndLoneDashAsValues() {
  #expect(looksLikeOption("--workers"))
  #expect(looksLikeOption("-h"))
  #expect(looksLikeOption("--"))
  #expect(looksLikeOption("-é"))
  #expect(!looksLikeOption("-5"))
  #expect(!looksLikeOption("-1s"))
  #expect(!looksLikeOption("-"))
  #expect(!looksLikeOption(""))
  #expect(!looksLikeOption("5"))
}

@Test func strangeInput_neverTraps() {
  let inputs = [
    "", "-", "--", "---", "--=", "--=x", "-=", "=", "\u{0}", "\n", "🚀", "--🚀", "-🚀", "e\u{301}",
    String(repeating: "9", count: 5_000), String(repeating: "-", count: 1_000),
    "--workers=" + String(repeating: "9", count: 400),
  ]
  for first in inputs + ["token", "joinset", "help"] {
    for second in inputs {
      for third in ["", "--grace", "1.5s", "--workers"] {
        let (code, output) = CLIFixture.run([first, second, third])
        #expect([0, 1, 64].contains(code))
        if code == 64 {
          #expect(output.out == "")
          #expect(output.errLines.count == 4)
        }
      }
    }
  }
}
