import Testing

/// Runs every `$ shutdown-demo` command shown in a ```` ```console ```` block of `README.md` and
/// `docs/*.md`, one test case per command so a failure names its file and line; and checks that every
/// embedded diagram and picture is exactly what the command named beside it prints.
@Suite struct DocsTests {
  static let commands = ConsoleDocs.packageCommands()
  static let pictures = EmbeddedPictures.packagePictures()

  @Test func docsAreFound() {
    #expect(
      !ConsoleDocs.docsFiles().isEmpty, "no README.md or docs/*.md found from \(PackagePaths.root.path)")
  }

  @Test(arguments: DocsTests.commands)
  func consoleCommand(_ command: DocsCommand) throws {
    try ConsoleDocs.check(command)
  }

  @Test(arguments: DocsTests.pictures)
  func embeddedPicture(_ picture: EmbeddedPicture) throws {
    try EmbeddedPictures.check(picture)
  }

  @Test func everyPatternChapter_andTheREADME_embedAPictureOfARealRun() {
    let files = Set(Self.pictures.map(\.file))
    for chapter in ["broadcast", "watch", "token", "joinset", "mpsc"] {
      #expect(files.contains("docs/\(chapter).md"), "docs/\(chapter).md embeds no diagram")
    }
    let readmePicture = Self.pictures.contains { picture in
      guard picture.file == "README.md", case .file = picture.content else { return false }
      return true
    }
    #expect(readmePicture, "README.md shows no SVG picture of a run")
  }

  @Test func aPictureWithoutItsCommand_orAnOutdatedOne_isFound() {
    let page = """
      ```mermaid
      sequenceDiagram
      ```
      <!-- output of: shutdown-demo token --format mermaid -->
      ```mermaid
      sequenceDiagram
      ```
      <!-- output of: shutdown-demo token --format svg -->
      ![a run](pictures/run.svg)
      """
    let found = EmbeddedPictures.pictures(inMarkdown: page, file: "docs/page.md")
    #expect(found.map(\.line) == [1, 5, 9])
    #expect(found[0].arguments == nil)
    #expect(found[1].arguments == ["token", "--format", "mermaid"])
    #expect(found[1].content == .diagram("sequenceDiagram\n"))
    #expect(found[2].content == .file("docs/pictures/run.svg"))
  }
}
