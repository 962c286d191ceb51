import Patterns

/// Renders a finished story as a Mermaid `sequenceDiagram` (`--format mermaid`), which GitHub draws in
/// a ```` ```mermaid ```` block.
///
/// Every timeline event gives one statement, in timeline order, its text starting with the virtual
/// time (`1.000s`):
/// - the signal is a message from an `OS` participant to whoever acts on it (the first to notify);
/// - a `notify` is a note over the notifier, then one message to each actor that observed it (those
///   whose next `observe` comes before the next notify);
/// - a `deadline` is a note, then a cross (`-x`) to each actor aborted at that instant;
/// - everything else (start, work, observe, exit, abort, …) is a note over the actor.
///
/// Sharp edges of Mermaid's grammar, handled here:
/// - A participant's id cannot contain `-` (it reads as an arrow) and must not start with a keyword
///   (`end`, `note`, `opt`, …), so each actor gets a safe id (`worker_1`) and its real name as alias
///   (`participant worker_1 as worker-1`).
/// - Text cannot hold `#` (a comment), `;` (a statement break) or `%%`, and `<`, `>`, `&` would reach
///   the HTML it is drawn as: each becomes an entity code (`#35;`), which Mermaid turns back into the
///   character. `:` is coded too, so a label never looks like a second `text:` part. A line break
///   becomes `<br/>`, Mermaid's own.
enum MermaidRenderer {
  static func render(_ picture: StoryPicture) -> String {
    let ids = participantIDs(picture)
    var lines = ["sequenceDiagram", "  title \(escape(picture.title))"]
    for (name, id) in ids.order {
      lines.append(id == name ? "  participant \(id)" : "  participant \(id) as \(escape(name))")
    }

    let events = picture.events
    for (index, event) in events.enumerated() {
      let id = ids.id[event.actor] ?? event.actor
      let text = escape(formatTimestamp(event.time) + " " + event.detail)
      switch event.kind {
      case .signal:
        let target = signalTarget(after: index, in: events)
        lines.append("  \(ids.os)->>\(ids.id[target] ?? target): \(text)")
      case .notify:
        lines.append("  Note over \(id): \(text)")
        for observer in observers(of: index, in: events) {
          let label = escape(formatTimestamp(event.time) + " shutdown notice")
          lines.append("  \(id)->>\(ids.id[observer] ?? observer): \(label)")
        }
      case .deadline:
        lines.append("  Note over \(id): \(text)")
        for aborted in events[(index + 1)...].prefix(while: { $0.time == event.time })
        where aborted.kind == .abort && aborted.actor != event.actor {
          let label = escape(formatTimestamp(event.time) + " cancelled")
          lines.append("  \(id)-x\(ids.id[aborted.actor] ?? aborted.actor): \(label)")
        }
      default:
        lines.append("  Note over \(id): \(text)")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Who acts on the signal: the first actor to notify after it, else the next actor to do anything,
  /// else the first actor.
  private static func signalTarget(after index: Int, in events: [TimelineEvent]) -> String {
    let later = events[(index + 1)...].filter { $0.kind != .signal }
    return later.first { $0.kind == .notify }?.actor ?? later.first?.actor ?? events.first {
      $0.kind != .signal
    }?.actor
      ?? "main"
  }

  /// The actors that observed the notice given at `index`: each one's first `observe` after it and
  /// before the next notify, in the order they observed.
  private static func observers(of index: Int, in events: [TimelineEvent]) -> [String] {
    let notifier = events[index].actor
    var found: [String] = []
    for event in events[(index + 1)...] {
      if event.kind == .notify { break }
      if event.kind == .observe, event.actor != notifier, !found.contains(event.actor) {
        found.append(event.actor)
      }
    }
    return found
  }

  /// A safe id per actor (and for `OS`), in order of first appearance, the signal's `OS` included.
  private static func participantIDs(
    _ picture: StoryPicture
  ) -> (order: [(name: String, id: String)], id: [String: String], os: String) {
    var order: [(name: String, id: String)] = []
    var ids: [String: String] = [:]
    var taken: Set<String> = []
    var os = "OS"
    func add(_ name: String, isOS: Bool = false) {
      var base = String(name.unicodeScalars.map { isSafe($0) ? Character($0) : "_" })
      let lower = base.lowercased()
      if base.isEmpty || base.first!.isNumber || keywords.contains(where: { lower.hasPrefix($0) }) {
        base = "p_" + base
      }
      var id = base
      var suffix = 2
      while taken.contains(id.lowercased()) {
        id = "\(base)_\(suffix)"
        suffix += 1
      }
      taken.insert(id.lowercased())
      order.append((name, id))
      if isOS { os = id } else { ids[name] = id }
    }
    var sawSignal = false
    for event in picture.events {
      if event.kind == .signal {
        if !sawSignal { add("OS", isOS: true) }
        sawSignal = true
      } else if ids[event.actor] == nil {
        add(event.actor)
      }
    }
    return (order, ids, os)
  }

  private static func isSafe(_ scalar: Unicode.Scalar) -> Bool {
    scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_")
  }

  /// Words Mermaid's lexer takes as keywords at the start of an id (case-insensitive).
  private static let keywords = [
    "participant", "actor", "create", "destroy", "box", "loop", "rect", "opt", "alt", "else", "par", "and",
    "critical", "option", "break", "end", "left", "right", "links", "link", "properties", "details", "over",
    "note", "activate", "deactivate", "title", "acc", "sequencediagram", "autonumber", "off",
  ]

  /// Text Mermaid draws as written: the characters its grammar or HTML would take as syntax become
  /// entity codes; line breaks become `<br/>`.
  static func escape(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "#", ";", ":", "%", "<", ">", "&", "\"": out += "#\(scalar.value);"
      case "\n": out += "<br/>"
      case "\r", "\t": out += " "
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
