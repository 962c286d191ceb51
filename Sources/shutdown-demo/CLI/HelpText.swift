/// Renders help and usage text in swift-argument-parser's layout.
struct HelpText {
  /// Where option and subcommand descriptions start, as in swift-argument-parser.
  static let helpColumn = 26

  var tool: CommandLineTool
  /// The width to wrap to; narrow terminals are treated as 40 columns so the layout stays legible.
  var width: Int

  init(tool: CommandLineTool, columns: Int) {
    self.tool = tool
    self.width = max(columns, 40)
  }

  // MARK: Usage lines

  /// `shutdown-demo token [--scenario <scenario>] [--no-color]`, on one line.
  func usage(for command: CommandSpec?) -> String {
    usageTokens(for: command).joined(separator: " ")
  }

  private func usageTokens(for command: CommandSpec?) -> [String] {
    guard let command else { return [tool.name, "<subcommand>"] }
    let positional = command.positional.map { ["[<\($0.name)>]"] } ?? []
    return [tool.name, command.name] + positional + command.options.map { "[\($0.synopsis)]" }
  }

  /// The `USAGE:` line, wrapped with continuation lines aligned under the first option (or indented
  /// by 4 when the command prefix is too long to leave room).
  /// `label` is `USAGE:` in help and `Usage:` in a usage error, which wraps the same way.
  func usageSection(for command: CommandSpec?, label: String = "USAGE:") -> String {
    let tokens = usageTokens(for: command)
    let prefixTokens = command == nil ? 1 : 2
    let head = label + " " + tokens.prefix(prefixTokens).joined(separator: " ")
    let indent = head.count + 1 <= width / 2 ? head.count + 1 : 4
    var lines = [head]
    for token in tokens.dropFirst(prefixTokens) {
      if lines[lines.count - 1].count + 1 + token.count <= width {
        lines[lines.count - 1] += " " + token
      } else {
        lines.append(String(repeating: " ", count: indent) + token)
      }
    }
    return lines.joined(separator: "\n")
  }

  // MARK: Help pages

  /// The root help: overview, usage, the built-in options and the subcommand list.
  func rootHelp() -> String {
    var sections = [wrap("OVERVIEW: " + tool.abstract)]
    if let discussion = tool.discussion { sections.append(wrapParagraphs(discussion)) }
    sections.append(usageSection(for: nil))
    sections.append(
      "OPTIONS:\n"
        + row("--version", "Show the version.") + "\n"
        + row("-h, --help", "Show help information."))
    let rows = tool.commands.map { row($0.allNames.joined(separator: ", "), $0.abstract) }
    sections.append("SUBCOMMANDS:\n" + rows.joined(separator: "\n"))
    sections.append("  See '\(tool.name) help <subcommand>' for detailed help.")
    return sections.joined(separator: "\n\n") + "\n"
  }

  /// A subcommand's help: overview, discussion, usage and its options plus `-h, --help`.
  func commandHelp(_ command: CommandSpec) -> String {
    var sections = [wrap("OVERVIEW: " + command.abstract)]
    if !command.aliases.isEmpty {
      let names = command.aliases.map { "'\($0)'" }.joined(separator: ", ")
      sections.append(
        wrap(
          "ALIASES: \(names) \(command.aliases.count == 1 ? "is another name" : "are other names") for '\(command.name)'."
        ))
    }
    if let discussion = command.discussion { sections.append(wrapParagraphs(discussion)) }
    sections.append(usageSection(for: command))
    if let positional = command.positional {
      sections.append("ARGUMENTS:\n" + row("<\(positional.name)>", positional.help))
    }
    let rows =
      command.options.map { row($0.synopsis, optionHelp($0)) } + [row("-h, --help", "Show help information.")]
    sections.append("OPTIONS:\n" + rows.joined(separator: "\n"))
    return sections.joined(separator: "\n\n") + "\n"
  }

  /// The option's sentence plus what it accepts and its default, e.g. `(values: a, b; default: a)`.
  func optionHelp(_ option: OptionSpec) -> String {
    var details: [String] = []
    var defaultText = option.defaultValue
    switch option.kind {
    case .flag, .integer, .text:
      break
    case .duration:
      details.append("e.g. \(durationExamples)")
      // Show the default in canonical form, so `2000ms` reads as `2s`, like headers print it.
      if let text = defaultText, let value = parseDuration(text) { defaultText = formatDuration(value) }
    case .choice(let values):
      details.append("values: " + values.joined(separator: ", "))
    case .list(let values):
      details.append("comma-separated, from: " + values.joined(separator: ", "))
    }
    if let defaultText, !option.isFlag { details.append("default: \(defaultText)") }
    guard !details.isEmpty else { return option.help }
    return "\(option.help) (\(details.joined(separator: "; ")))"
  }

  // MARK: Layout

  /// A two-column row: the label at column 2, the description wrapped from `helpColumn`. A label too
  /// long for the first column gets its own line.
  private func row(_ label: String, _ description: String) -> String {
    let indent = String(repeating: " ", count: Self.helpColumn)
    let lines = wrapWords(description, width: width - Self.helpColumn)
    let body = lines.enumerated().map { $0.offset == 0 ? $0.element : indent + $0.element }
    let labelText = "  " + label
    if labelText.count + 2 <= Self.helpColumn {
      let padding = String(repeating: " ", count: Self.helpColumn - labelText.count)
      return labelText + padding + body.joined(separator: "\n")
    }
    return labelText + "\n" + indent + body.joined(separator: "\n")
  }

  /// Wraps each line of the text separately, keeping blank lines between paragraphs.
  private func wrapParagraphs(_ text: String) -> String {
    text.split(separator: "\n", omittingEmptySubsequences: false)
      .map { wrap(String($0)) }
      .joined(separator: "\n")
  }

  private func wrap(_ text: String) -> String {
    wrapWords(text, width: width).joined(separator: "\n")
  }
}

/// Greedy word wrap on spaces, by visible width: ANSI escape codes take no columns, so coloured
/// text wraps where plain text does. A word longer than the width gets a line of its own rather
/// than being broken; an empty text gives one empty line. Lines after the first start with
/// `indent`, which counts toward the width.
func wrapWords(_ text: String, width: Int, indent: String = "") -> [String] {
  var lines: [String] = []
  var line = ""
  var lineWidth = 0
  for word in text.split(separator: " ") {
    let wordWidth = visibleWidth(word)
    if line.isEmpty {
      line = String(word)
      lineWidth = wordWidth
    } else if lineWidth + 1 + wordWidth <= width {
      line += " " + word
      lineWidth += 1 + wordWidth
    } else {
      lines.append(line)
      line = indent + word
      lineWidth = indent.count + wordWidth
    }
  }
  lines.append(line)
  return lines
}

/// The columns `text` takes on a terminal: its characters, less ANSI escape sequences (`ESC [ … m`).
func visibleWidth(_ text: some StringProtocol) -> Int {
  var width = 0
  var inEscape = false
  for character in text {
    if inEscape {
      if character.isLetter { inEscape = false }
    } else if character == "\u{1B}" {
      inEscape = true
    } else {
      width += 1
    }
  }
  return width
}
