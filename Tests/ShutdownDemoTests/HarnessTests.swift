import Foundation
import Testing

/// Self-tests of the test harness: the docs parser and `...` matcher, shell splitting, the snapshot
/// framing, the line diff and the binary runner.
@Suite struct HarnessTests {
  // MARK: Docs parsing

  @Test func parsesCommandsExitCodesAndOutputFromConsoleBlocks() {
    let markdown = """
      # Title

      ```console
      $ shutdown-demo token --workers 5
      worker 1 done
      worker 2 done
      $ shutdown-demo bogus 'two words' "a \\"q\\""
      ? 64
      error: unknown pattern
      ```

      ```swift
      $ shutdown-demo not-a-console-block
      ```
      """
    let commands = ConsoleDocs.commands(inMarkdown: markdown, file: "README.md")
    #expect(commands.count == 2)
    #expect(commands[0].line == 4)
    #expect(commands[0].arguments == ["token", "--workers", "5"])
    #expect(commands[0].expectedExitCode == 0)
    #expect(commands[0].expectedOutput == ["worker 1 done", "worker 2 done"])
    #expect(commands[1].line == 7)
    #expect(commands[1].arguments == ["bogus", "two words", "a \"q\""])
    #expect(commands[1].expectedExitCode == 64)
    #expect(commands[1].expectedOutput == ["error: unknown pattern"])
    #expect(commands.allSatisfy { $0.parseError == nil })
  }

  @Test func skipsOtherCommandsButRunsEveryShutdownDemoLine() {
    let markdown = """
      ```console
      $ swift test
      Build complete!
      $ shutdown-demo
      shutdown-demo 0.1.0
      ```

      ~~~~ console
      $ shutdown-demo-other
      $ swift build
      ~~~~
      """
    let commands = ConsoleDocs.commands(inMarkdown: markdown, file: "docs/x.md")
    #expect(commands.map(\.line) == [4])
    #expect(commands.first?.arguments == [])
    #expect(commands.first?.expectedOutput == ["shutdown-demo 0.1.0"])
  }

  @Test func handlesIndentedFencesAndLongerFences() {
    let markdown = """
      1. Run it:

         ````console
         $ shutdown-demo --help
         ```
         nested fence text
         ````
      """
    let commands = ConsoleDocs.commands(inMarkdown: markdown, file: "README.md")
    #expect(commands.count == 1)
    #expect(commands.first?.expectedOutput == ["```", "nested fence text"])
  }

  @Test func reportsUnsupportedShellSyntaxAndBadExitLines() {
    let markdown = """
      ```console
      $ shutdown-demo token | head
      $ shutdown-demo token
      ? nope
      ```
      """
    let commands = ConsoleDocs.commands(inMarkdown: markdown, file: "README.md")
    #expect(commands.count == 2)
    #expect(commands[0].parseError?.contains("`|`") == true)
    #expect(commands[1].parseError?.contains("? nope") == true)
  }

  @Test(
    arguments: [
      ("a b\tc", ["a", "b", "c"]),
      ("  'x y'  z ", ["x y", "z"]),
      (#"a\ b"#, ["a b"]),
      (#""$""#, nil),
      (#""\$HOME""#, ["$HOME"]),
      (#""\n""#, [#"\n"#]),
      ("''", [""]),
      ("--k='v w'", ["--k=v w"]),
      ("a > b", nil),
      ("a 'b", nil),
      ("# comment", nil),
      ("a#b", ["a#b"]),
    ] as [(String, [String]?)])
  func splitsLikeAShell(line: String, words: [String]?) {
    #expect((try? ShellWords.split(line)) == words)
  }

  @Test(arguments: [["token", "--workers", "5"], ["two words", "", "it's", "a$b", "ü"]])
  func quotingRoundTrips(words: [String]) throws {
    #expect(try ShellWords.split(ShellWords.quote(words)) == words)
  }

  @Test func quotesOnlyWhenNeeded() {
    #expect(ShellWords.quote(["shutdown-demo", "--workers=5", "a b"]) == "shutdown-demo --workers=5 'a b'")
  }

  // MARK: The `...` matcher

  @Test(
    arguments: [
      ([], [], true),
      (["..."], [], true),
      (["..."], ["a", "b"], true),
      (["a", "...", "z"], ["a", "z"], true),
      (["a", "...", "z"], ["a", "b", "c", "z"], true),
      (["a", "...", "z"], ["a", "b", "c"], false),
      (["a", "..."], ["b"], false),
      (["...", "b", "..."], ["a", "b", "c"], true),
      (["...", "b", "...", "b"], ["b"], false),
      (["a"], ["a", "b"], false),
      (["a", "b"], ["a"], false),
      ([""], [""], true),
      (["a ..."], ["a x"], false),
    ] as [([String], [String], Bool)])
  func ellipsisMatchesAnyRunOfLines(expected: [String], actual: [String], matches: Bool) {
    #expect(ConsoleDocs.matches(expected: expected, actual: actual) == matches)
  }

  @Test func splitsLinesOnNewlineBytesOnly() {
    #expect(splitLines("") == [])
    #expect(splitLines("\n") == [""])
    #expect(splitLines("a\r\nb") == ["a\r", "b"])
    #expect(splitLines("a\n\nb\n") == ["a", "", "b"])
  }

  // MARK: Snapshot framing

  @Test func snapshotFramingDistinguishesTrailingNewlines() {
    let outputs: [BinaryRunner.Output] = [
      ("", "", 0), ("\n", "", 0), ("a", "", 0), ("a\n", "", 0), ("a\n\n", "", 0), ("", "a", 0),
      ("", "a\n", 0), ("a\n", "", 1),
    ]
    let rendered = outputs.map { Snapshotting.render(arguments: ["x"], output: $0) }
    #expect(Set(rendered).count == outputs.count)
    #expect(rendered.allSatisfy { $0.hasSuffix("\n") })
    #expect(
      Snapshotting.render(arguments: ["token", "a b"], output: ("out\n", "warn", 2)) == """
        $ shutdown-demo token 'a b'
        ? 2
        --- stdout
        out
        --- stderr
        warn
        \\ No newline at end of output

        """
    )
  }

  @Test func recordModeComesFromTheEnvironment() throws {
    #expect(try SnapshotRecordMode(environment: [:]) == .never)
    #expect(try SnapshotRecordMode(environment: ["SNAPSHOT_TESTING_RECORD": ""]) == .never)
    #expect(try SnapshotRecordMode(environment: ["SNAPSHOT_TESTING_RECORD": "failed"]) == .failed)
    #expect(throws: SnapshotError.self) {
      try SnapshotRecordMode(environment: ["SNAPSHOT_TESTING_RECORD": "yes"])
    }
    #expect(Snapshotting.isCI(["CI": "true"]))
    #expect(!Snapshotting.isCI(["CI": "false"]))
    #expect(!Snapshotting.isCI([:]))
  }

  @Test func caseNamesMustBeFileSafe() {
    #expect(Snapshotting.isValidName("no-arguments"))
    #expect(Snapshotting.isValidName("workers_5.v2"))
    #expect(!Snapshotting.isValidName(""))
    #expect(!Snapshotting.isValidName(".hidden"))
    #expect(!Snapshotting.isValidName("a/b"))
    #expect(!Snapshotting.isValidName("a b"))
  }

  // MARK: Line diff

  @Test func unifiedDiffShowsHunksWithLineNumbersAndContext() {
    let old = (1...20).map { "line \($0)\n" }.joined()
    var newLines = (1...20).map { "line \($0)" }
    newLines[4] = "line five"
    newLines.append("line 21")
    let diff = LineDiff.unified(old: old, new: newLines.map { $0 + "\n" }.joined())
    #expect(
      diff == """
        --- recorded
        +++ actual
        @@ -2,7 +2,7 @@
         line 2
         line 3
         line 4
        -line 5
        +line five
         line 6
         line 7
         line 8
        @@ -18,3 +18,4 @@
         line 18
         line 19
         line 20
        +line 21

        """
    )
  }

  @Test func unifiedDiffShowsAMissingFinalNewline() {
    let diff = LineDiff.unified(old: "a\n", new: "a")
    #expect(diff.contains("+\\ No newline at end of file"))
    #expect(LineDiff.unified(old: "same", new: "same").isEmpty)
  }

  @Test func nearbyChangesShareAHunk() {
    let diff = LineDiff.unified(old: "1\n2\n3\n4\n5\n6\n7\n8\n", new: "1\nX\n3\n4\n5\n6\n7\nY\n")
    #expect(diff.components(separatedBy: "@@ -").count == 2)
    #expect(diff.contains("@@ -1,8 +1,8 @@\n 1\n-2\n+X\n"))
  }

  @Test func unifiedDiffOfInsertionsIntoEmpty() {
    #expect(LineDiff.unified(old: "", new: "x\n") == "--- recorded\n+++ actual\n@@ -1,0 +1,1 @@\n+x\n")
  }

  // MARK: Binary runner

  @Test func runnerPinsTheEnvironment() throws {
    let output = try BinaryRunner.run(
      [],
      environment: ["EXTRA": "1"],
      binary: URL(fileURLWithPath: "/usr/bin/env")
    )
    var expected = ["COLUMNS=80", "EXTRA=1", "LC_ALL=C", "NO_COLOR=1"]
    if let path = ProcessInfo.processInfo.environment["PATH"] { expected.append("PATH=\(path)") }
    #expect(splitLines(output.stdout).sorted() == expected.sorted())
    #expect(output.exitCode == 0)
  }

  @Test func runnerCapturesLargeStdoutAndStderrAndTheExitCode() throws {
    // 1 MB on each stream is far beyond a pipe buffer, so this would hang if the runner read one stream
    // after the other from pipes.
    let script = "head -c 1000000 /dev/zero | tr '\\0' o; head -c 1000000 /dev/zero | tr '\\0' e >&2; exit 3"
    let output = try BinaryRunner.run(["-c", script], binary: URL(fileURLWithPath: "/bin/sh"))
    #expect(output.stdout.utf8.count == 1_000_000)
    #expect(output.stderr.utf8.count == 1_000_000)
    #expect(output.exitCode == 3)
  }

  @Test func runnerFindsTheBuiltBinaryOrExplainsHowToBuildIt() throws {
    #expect(try BinaryRunner.binaryURL(environment: [:]).lastPathComponent == "shutdown-demo")
    let error = #expect(throws: BinaryRunnerError.self) {
      try BinaryRunner.binaryURL(environment: ["SHUTDOWN_DEMO_BINARY": "/nonexistent/shutdown-demo"])
    }
    #expect(error?.description.contains("swift build") == true)
  }
}
