import Testing

@testable import shutdown_demo

private let rootHelp = """
  OVERVIEW: Demonstrates graceful shutdown patterns.

  USAGE: shutdown-demo <subcommand>

  OPTIONS:
    --version               Show the version.
    -h, --help              Show help information.

  SUBCOMMANDS:
    token                   Cancel workers with a cancellation token.
    joinset, task-group     Drain a task group before exiting.
    boom                    Always fails.

    See 'shutdown-demo help <subcommand>' for detailed help.

  """

private let tokenHelp = """
  OVERVIEW: Cancel workers with a cancellation token.

  Each worker checks the token between steps.

  The token is cancelled on the first signal.

  USAGE: shutdown-demo token [--scenario <scenario>] [--workers <n>] [--no-color]

  OPTIONS:
    --scenario <scenario>   The story to run. (values: basic, all; default: basic)
    --workers <n>           How many workers. (default: 3)
    --no-color              Never colour the output.
    -h, --help              Show help information.

  """

private let joinsetHelp = """
  OVERVIEW: Drain a task group before exiting.

  ALIASES: 'task-group' is another name for 'joinset'.

  USAGE: shutdown-demo joinset [--grace <duration>] [--format <format>]
                               [--only <workers>] [--label <text>]
                               [--exit-code <code>]

  OPTIONS:
    --grace <duration>      How long to wait before cancelling. (e.g. 250ms, 2s,
                            1.5s, 1m; default: 2s)
    --format <format>       Output format. (values: text, json; default: text)
    --only <workers>        Which workers to start. (comma-separated, from: W1,
                            W2, W3, W4, W5; default: W1,W2,W3)
    --label <text>          A label for the run.
    --exit-code <code>      Exit code to return.
    -h, --help              Show help information.

  """

/// Asserts a successful help invocation: the text on stdout, nothing on stderr, exit 0.
private func expectHelp(
  _ arguments: [String], _ expected: String, environment: [String: String] = ["COLUMNS": "80"],
  sourceLocation: SourceLocation = #_sourceLocation
) {
  let (code, output) = CLIFixture.run(arguments, environment: environment)
  #expect(code == 0, sourceLocation: sourceLocation)
  #expect(output.out == expected, sourceLocation: sourceLocation)
  #expect(output.err == "", sourceLocation: sourceLocation)
}

@Test(arguments: [[], ["help"], ["-h"], ["--help"], ["--help", "token"], ["help", "--help"]])
func rootHelp_isShownForEveryWayOfAsking(arguments: [String]) {
  expectHelp(arguments, rootHelp)
}

@Test func rootHelp_withoutColumns_wrapsAt80() {
  expectHelp([], rootHelp, environment: [:])
  expectHelp([], rootHelp, environment: ["COLUMNS": "wide"])
}

@Test(arguments: [
  ["help", "token"], ["token", "-h"], ["token", "--help"], ["token", "--workers", "5", "--help"],
  ["token", "--no-color", "-h", "--scenario", "all"],
])
func commandHelp_isShownForHelpAnywhereAmongItsArguments(arguments: [String]) {
  expectHelp(arguments, tokenHelp)
}

@Test func commandHelp_winsOverInvalidArguments() {
  expectHelp(["token", "--workers", "abc", "--bogus", "--help"], tokenHelp)
}

@Test(arguments: [
  ["help", "joinset"], ["help", "task-group"], ["joinset", "-h"], ["task-group", "--help"],
])
func commandHelp_wrapsLongUsageAndDescriptions_andWorksThroughAliases(arguments: [String]) {
  expectHelp(arguments, joinsetHelp)
}

@Test func commandHelp_atNarrowWidth_indentsUsageContinuationsAndWrapsDescriptions() {
  let expected = """
    OVERVIEW: Drain a task group before
    exiting.

    ALIASES: 'task-group' is another name
    for 'joinset'.

    USAGE: shutdown-demo joinset
        [--grace <duration>]
        [--format <format>]
        [--only <workers>] [--label <text>]
        [--exit-code <code>]

    OPTIONS:
      --grace <duration>      How long to
                              wait before
                              cancelling.
                              (e.g. 250ms,
                              2s, 1.5s, 1m;
                              default: 2s)
      --format <format>       Output format.
                              (values: text,
                              json; default:
                              text)
      --only <workers>        Which workers
                              to start.
                              (comma-separated,
                              from: W1, W2,
                              W3, W4, W5;
                              default:
                              W1,W2,W3)
      --label <text>          A label for
                              the run.
      --exit-code <code>      Exit code to
                              return.
      -h, --help              Show help
                              information.

    """
  // Widths below 40 are treated as 40, so COLUMNS=10 lays out like COLUMNS=40.
  expectHelp(["help", "joinset"], expected, environment: ["COLUMNS": "40"])
  expectHelp(["help", "joinset"], expected, environment: ["COLUMNS": "10"])
}

@Test func commandHelp_longOptionLabel_movesDescriptionToNextLine() {
  let tool = CommandLineTool(
    name: "shutdown-demo", version: "1", abstract: "A.", discussion: "Tool discussion.",
    commands: [
      CommandSpec(
        name: "x", abstract: "X.",
        options: [
          OptionSpec(name: "a-very-long-option-name", valueName: "value", help: "Long.", kind: .text)
        ],
        run: { _, _ in 0 })
    ])
  let output = CapturedOutput()
  #expect(tool.run(arguments: ["help", "x"], context: output.context()) == 0)
  #expect(
    output.out == """
      OVERVIEW: X.

      USAGE: shutdown-demo x [--a-very-long-option-name <value>]

      OPTIONS:
        --a-very-long-option-name <value>
                                Long.
        -h, --help              Show help information.

      """)
  let root = CapturedOutput()
  #expect(tool.run(arguments: [], context: root.context()) == 0)
  #expect(root.out.hasPrefix("OVERVIEW: A.\n\nTool discussion.\n\nUSAGE: shutdown-demo <subcommand>\n"))
}

@Test func version_printsTheVersionAlone() {
  let (code, output) = CLIFixture.run(["--version"])
  #expect(code == 0)
  #expect(output.out == "0.1.0\n")
  #expect(output.err == "")
}

@Test func optionHelp_durationDefault_isShownInCanonicalForm() {
  let help = HelpText(tool: CLIFixture.tool, columns: 80)
  let grace = CLIFixture.joinset.options[0]
  #expect(grace.defaultValue == "2000ms")
  #expect(
    help.optionHelp(grace) == "How long to wait before cancelling. (e.g. 250ms, 2s, 1.5s, 1m; default: 2s)")
}

@Test func wrapWords_keepsOverlongWordsWhole() {
  #expect(wrapWords("a bb ccc", width: 4) == ["a bb", "ccc"])
  #expect(wrapWords("abcdefgh ij", width: 4) == ["abcdefgh", "ij"])
  #expect(wrapWords("", width: 10) == [""])
}
