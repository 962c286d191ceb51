import Testing

/// Runs every `$ shutdown-demo` command shown in a ```` ```console ```` block of `README.md` and
/// `docs/*.md`, one test case per command so a failure names its file and line.
@Suite struct DocsTests {
  static let commands = ConsoleDocs.packageCommands()

  @Test func docsAreFound() {
    #expect(
      !ConsoleDocs.docsFiles().isEmpty, "no README.md or docs/*.md found from \(PackagePaths.root.path)")
  }

  @Test(arguments: DocsTests.commands)
  func consoleCommand(_ command: DocsCommand) throws {
    try ConsoleDocs.check(command)
  }
}
