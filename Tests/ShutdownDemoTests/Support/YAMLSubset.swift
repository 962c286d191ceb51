import Foundation

/// A reader for the small part of YAML that `docs/kubernetes/*.yaml` use, so a test can check the
/// manifests' numbers without a YAML package: documents separated by `---`, block mappings and
/// block sequences indented by spaces, plain or double-quoted scalars, flow sequences of scalars
/// (`["sleep", "5"]`), and whole-line comments. Anything else (anchors, multi-line strings, inline
/// comments, tabs) is an error, so a manifest that drifts out of the subset fails loudly rather
/// than being misread.
indirect enum YAMLNode: Equatable {
  case scalar(String)
  case sequence([YAMLNode])
  case mapping([(key: String, value: YAMLNode)])

  static func == (lhs: YAMLNode, rhs: YAMLNode) -> Bool {
    switch (lhs, rhs) {
    case (.scalar(let a), .scalar(let b)): a == b
    case (.sequence(let a), .sequence(let b)): a == b
    case (.mapping(let a), .mapping(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
    default: false
    }
  }

  /// The value at `key` of a mapping, or nil.
  subscript(key: String) -> YAMLNode? {
    guard case .mapping(let pairs) = self else { return nil }
    return pairs.first { $0.key == key }?.value
  }

  /// The item at `index` of a sequence, or nil.
  subscript(index: Int) -> YAMLNode? {
    guard case .sequence(let items) = self, items.indices.contains(index) else { return nil }
    return items[index]
  }

  /// Follows a path of mapping keys and sequence indexes: `node[path: "spec", "ports", 0]`.
  subscript(path path: Any...) -> YAMLNode? {
    var node: YAMLNode? = self
    for step in path {
      if let key = step as? String {
        node = node?[key]
      } else if let index = step as? Int {
        node = node?[index]
      }
    }
    return node
  }

  var string: String? {
    guard case .scalar(let value) = self else { return nil }
    return value
  }

  var int: Int? { string.flatMap { Int($0) } }

  var strings: [String]? {
    guard case .sequence(let items) = self else { return nil }
    let values = items.compactMap(\.string)
    return values.count == items.count ? values : nil
  }
}

struct YAMLSubsetError: Error, CustomStringConvertible {
  var line: Int
  var reason: String
  var description: String { "line \(line): \(reason)" }
}

enum YAMLSubset {
  /// Every document in `text`, in order.
  static func documents(_ text: String) throws -> [YAMLNode] {
    var documents: [[Line]] = [[]]
    for (offset, raw) in splitLines(text).enumerated() {
      let number = offset + 1
      if raw.contains("\t") { throw YAMLSubsetError(line: number, reason: "a tab") }
      let trimmed = raw.trimmingCharacters(in: .whitespaces)
      if trimmed == "---" {
        documents.append([])
        continue
      }
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      let indent = raw.prefix { $0 == " " }.count
      documents[documents.count - 1].append(Line(number: number, indent: indent, text: trimmed))
    }
    return try documents.filter { !$0.isEmpty }.map { lines in
      var reader = Reader(lines: lines)
      let node = try reader.block(indent: lines[0].indent)
      if reader.index < lines.count {
        throw YAMLSubsetError(line: lines[reader.index].number, reason: "unexpected indentation")
      }
      return node
    }
  }

  fileprivate struct Line {
    var number: Int
    var indent: Int
    var text: String
  }

  fileprivate struct Reader {
    var lines: [Line]
    var index = 0

    mutating func block(indent: Int) throws -> YAMLNode {
      let line = lines[index]
      return line.text == "-" || line.text.hasPrefix("- ")
        ? try sequence(indent: indent) : try mapping(indent: indent)
    }

    mutating func sequence(indent: Int) throws -> YAMLNode {
      var items: [YAMLNode] = []
      while index < lines.count, lines[index].indent == indent,
        lines[index].text == "-" || lines[index].text.hasPrefix("- ")
      {
        let line = lines[index]
        let rest = line.text.dropFirst(1).trimmingCharacters(in: .whitespaces)
        if rest.isEmpty {
          index += 1
          items.append(try nested(under: line))
        } else if splitKey(rest) != nil {
          // "- key: value": a mapping whose keys line up with the text after "- ".
          lines[index] = Line(number: line.number, indent: indent + 2, text: rest)
          items.append(try mapping(indent: indent + 2))
        } else {
          index += 1
          items.append(try scalarOrFlow(rest, line: line.number))
        }
      }
      return .sequence(items)
    }

    mutating func mapping(indent: Int) throws -> YAMLNode {
      var pairs: [(key: String, value: YAMLNode)] = []
      while index < lines.count, lines[index].indent == indent {
        let line = lines[index]
        guard let (key, rest) = splitKey(line.text) else {
          throw YAMLSubsetError(line: line.number, reason: "expected 'key: value'")
        }
        if pairs.contains(where: { $0.key == key }) {
          throw YAMLSubsetError(line: line.number, reason: "the key '\(key)' twice")
        }
        index += 1
        pairs.append(
          (key, rest.isEmpty ? try nested(under: line) : try scalarOrFlow(rest, line: line.number)))
      }
      return .mapping(pairs)
    }

    /// The block under `line`: it must be indented further.
    mutating func nested(under line: Line) throws -> YAMLNode {
      guard index < lines.count, lines[index].indent > line.indent else {
        throw YAMLSubsetError(line: line.number, reason: "nothing indented under it")
      }
      return try block(indent: lines[index].indent)
    }

    func splitKey(_ text: String) -> (String, String)? {
      if text.hasPrefix("\"") || text.hasPrefix("[") { return nil }
      if text.hasSuffix(":") { return (String(text.dropLast()), "") }
      guard let range = text.range(of: ": ") else { return nil }
      return (
        String(text[..<range.lowerBound]), text[range.upperBound...].trimmingCharacters(in: .whitespaces)
      )
    }

    func scalarOrFlow(_ text: String, line: Int) throws -> YAMLNode {
      if text.hasPrefix("[") {
        guard text.hasSuffix("]") else { throw YAMLSubsetError(line: line, reason: "an unclosed '['") }
        let inner = text.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        if inner.isEmpty { return .sequence([]) }
        return .sequence(
          try inner.split(separator: ",").map {
            try scalar($0.trimmingCharacters(in: .whitespaces), line: line)
          })
      }
      return try scalar(text, line: line)
    }

    func scalar(_ text: String, line: Int) throws -> YAMLNode {
      if text.hasPrefix("\"") {
        guard text.count >= 2, text.hasSuffix("\""), !text.dropFirst().dropLast().contains("\"") else {
          throw YAMLSubsetError(line: line, reason: "a quoted scalar this reader does not take: \(text)")
        }
        return .scalar(String(text.dropFirst().dropLast()))
      }
      if let first = text.first, "&*!|>'{#".contains(first) || text.contains(" #") {
        throw YAMLSubsetError(line: line, reason: "YAML outside the subset: \(text)")
      }
      return .scalar(text)
    }
  }
}
