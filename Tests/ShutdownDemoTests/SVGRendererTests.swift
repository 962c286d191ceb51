import Foundation
import Patterns
import Testing

@testable import shutdown_demo

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `--format svg`: one valid, standalone, accessible XML document whose lanes are the run's actors.
@Suite struct SVGRendererTests {
  /// The child elements of `node` named `name` (the SVG namespace is the default one).
  static func children(_ node: XMLNode, named name: String) -> [XMLElement] {
    (node.children ?? []).compactMap { $0 as? XMLElement }.filter { ($0.localName ?? $0.name) == name }
  }

  /// The value of `element`'s attribute `name` (looked up by local name: the SVG namespace is the
  /// default one, which `attribute(forName:)` does not see through on every platform).
  static func attribute(_ element: XMLElement, _ name: String) -> String? {
    element.attributes?.first { ($0.localName ?? $0.name) == name }?.stringValue
  }

  /// Every element under `node`, depth first.
  static func descendants(_ node: XMLNode) -> [XMLElement] {
    (node.children ?? []).compactMap { $0 as? XMLElement }.flatMap { [$0] + descendants($0) }
  }

  /// Per story of a JSON Lines run: its actors in order of appearance (signals aside), and whether a
  /// signal arrived.
  static func stories(fromJSONLines text: String) throws -> [(actors: [String], signal: Bool)] {
    var stories: [(actors: [String], signal: Bool)] = []
    for line in text.split(separator: "\n") {
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
      switch object["type"] as? String {
      case "header": stories.append(([], false))
      case "event":
        let actor = object["actor"] as? String ?? ""
        if object["kind"] as? String == "signal" {
          stories[stories.count - 1].signal = true
        } else if !stories[stories.count - 1].actors.contains(actor) {
          stories[stories.count - 1].actors.append(actor)
        }
      default: break
      }
    }
    return stories
  }

  @Test(arguments: MermaidRendererTests.subcommands)
  func everyStory_isOneDocument_withALanePerActor_andASignalMarker(_ subcommand: String) throws {
    let svg = try BinaryRunner.run([subcommand, "--scenario", "all", "--format", "svg"])
    let json = try BinaryRunner.run([subcommand, "--scenario", "all", "--format", "json"])
    #expect(svg.exitCode == 0)
    #expect(svg.stderr == "")
    let document = try XMLDocument(xmlString: svg.stdout, options: [])
    let root = try #require(document.rootElement())
    #expect(root.localName == "svg")
    let expected = try Self.stories(fromJSONLines: json.stdout)
    let panels = Self.children(root, named: "g")
    #expect(panels.count == expected.count, "one panel per story")
    for (panel, story) in zip(panels, expected) {
      let lanes = Self.children(panel, named: "g").filter { Self.attribute($0, "class") == "lane" }
      #expect(lanes.map { Self.attribute($0, "data-actor") ?? "" } == story.actors)
      for lane in lanes {
        let name = Self.children(lane, named: "text").first?.stringValue
        #expect(name == Self.attribute(lane, "data-actor"), "each lane names its actor in text")
      }
      let markers = Self.children(panel, named: "g").filter {
        Self.attribute($0, "class") == "marker"
      }
      let signalMarkers = markers.filter {
        Self.children($0, named: "text").first?.stringValue?.hasPrefix("SIGTERM ") == true
      }
      #expect(signalMarkers.count == (story.signal ? 1 : 0))
      for marker in signalMarkers { #expect(Self.children(marker, named: "line").count == 1) }
    }
  }

  @Test(arguments: MermaidRendererTests.subcommands)
  func document_isStandalone_accessible_andPrintsPlainNumbers(_ subcommand: String) throws {
    let svg = try BinaryRunner.run([subcommand, "--scenario", "all", "--format", "svg"])
    let document = try XMLDocument(xmlString: svg.stdout, options: [])
    let root = try #require(document.rootElement())
    #expect(Self.attribute(root, "role") == "img")
    let labelledBy = Self.attribute(root, "aria-labelledby")?.split(separator: " ") ?? []
    #expect(labelledBy == ["title", "desc"])
    let elements = Self.descendants(root)
    for id in labelledBy {
      let labels = elements.filter { Self.attribute($0, "id") == String(id) }
      #expect(labels.count == 1)
      let label = labels.first?.stringValue ?? ""
      #expect(!label.isEmpty)
    }
    #expect(Self.children(root, named: "title").count == 1)
    #expect(Self.children(root, named: "desc").count == 1)

    let number = try Regex(#"-?[0-9]+(\.[0-9])?"#)
    let geometry: Set<String> = ["x", "y", "width", "height", "x1", "y1", "x2", "y2", "cx", "cy", "r"]
    for element in elements {
      let name = element.localName ?? element.name ?? ""
      #expect(!["script", "style", "image", "foreignObject", "use", "a"].contains(name), "\(name) element")
      for attribute in element.attributes ?? [] {
        let key = attribute.localName ?? attribute.name ?? ""
        let value = attribute.stringValue ?? ""
        #expect(!key.lowercased().contains("href"), "no links out: \(key)")
        #expect(!value.contains("url("), "no external resource: \(value)")
        if geometry.contains(key) { #expect(value.wholeMatch(of: number) != nil, "\(key)=\"\(value)\"") }
        if key == "d" {
          for token in value.split(whereSeparator: { "MLZ ".contains($0) }) {
            #expect(token.wholeMatch(of: number) != nil, "path number \(token)")
          }
        }
      }
    }
    #expect(Self.attribute(root, "font-family") == "sans-serif", "a generic font, no download")
  }

  @Test func reservedCharacters_areEscaped_andReadBackUnchanged() throws {
    let title = "a <b> & \"c\" 'd'"
    let picture = StoryPicture(
      title: title, subtitle: "x & y < z",
      events: [TimelineEvent(time: .zero, actor: "w&<1>", kind: .start, detail: "\"quoted\" & <tagged>\n")],
      graceDeadline: nil)
    let document = try XMLDocument(xmlString: SVGRenderer.render([picture]), options: [])
    let root = try #require(document.rootElement())
    #expect(Self.children(root, named: "title").first?.stringValue == title)
    let lane = Self.descendants(root).first { Self.attribute($0, "class") == "lane" }
    #expect(lane.flatMap { Self.attribute($0, "data-actor") } == "w&<1>")
  }

  @Test func numbers_areFixedDecimals_roundedHalfUp() {
    #expect(fixedDecimals(1234, scale: 10, decimals: 1) == "123.4")
    #expect(fixedDecimals(1_250_000_000, scale: 1_000_000_000, decimals: 3) == "1.250")
    #expect(fixedDecimals(15, scale: 100, decimals: 1) == "0.2")
    #expect(fixedDecimals(-15, scale: 100, decimals: 1) == "-0.2")
    #expect(fixedDecimals(0, scale: 10, decimals: 1) == "0.0")
    #expect(fixedDecimals(7, scale: 1, decimals: 0) == "7")
  }
}
