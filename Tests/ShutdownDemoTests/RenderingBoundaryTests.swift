import Foundation
import Testing

/// Renderers read a finished picture and nothing else: no file under `Sources/shutdown-demo/Rendering/`
/// names a story type, so reshaping how stories are written never touches a renderer.
@Suite struct RenderingBoundaryTests {
  /// The text and JSON renderers predate the picture and still read the run's report directly.
  static let readsTheReport: Set<String> = ["TextRenderer.swift", "JSONLinesRenderer.swift"]

  @Test func renderingFiles_nameNoStoryType() throws {
    let folder = PackagePaths.root.appendingPathComponent("Sources/shutdown-demo/Rendering")
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
      $0.hasSuffix(".swift")
    }
    #expect(files.contains("StoryPicture.swift"))
    // `Scenario`, `ScenarioContext`, `ScenarioReport`, `BroadcastScenarios`, …: any identifier with
    // `Scenario` in it, and the catalog types.
    let forbidden = try Regex(#"\b\w*Scenario\w*\b|\bPatternCatalog\b|\bStoryCatalog\b"#)
    for file in files.sorted() where !Self.readsTheReport.contains(file) {
      let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
      for match in text.matches(of: forbidden) {
        recordIssue("Rendering/\(file) mentions \(text[match.range]): build the picture outside Rendering/")
      }
    }
  }
}
