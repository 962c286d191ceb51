/// How an option's value is parsed and validated. Parsing happens before a command runs, so bad
/// input never reaches a scenario.
enum OptionKind: Sendable {
  /// `--no-color`: no value; giving one (`--no-color=yes`) is a usage error.
  case flag
  /// `--workers <n>`: a whole number within the range.
  case integer(ClosedRange<Int>)
  /// `--grace <duration>`: `250ms`, `2s`, `1.5s`, `1m`, `1h`, `0s` (see `parseDuration(_:)`).
  case duration(ClosedRange<Duration>)
  /// `--format text|json|…`: exactly one of the values (case-sensitive).
  case choice([String])
  /// `--only W1,W5`: comma-separated, each element from the values, no element twice.
  case list([String])
  /// Any string, including the empty one.
  case text
}

/// One `--name` option of a subcommand.
struct OptionSpec: Sendable {
  /// `"workers"` → `--workers`.
  var name: String
  /// `"n"` → shown as `<n>`; ignored for flags.
  var valueName: String
  /// One sentence.
  var help: String
  var kind: OptionKind
  /// As the user would type it (`"3"`, `"2s"`, `"basic"`), parsed with the same parser as
  /// command-line values; shown in help as `(default: 3)`.
  var defaultValue: String?

  init(name: String, valueName: String = "", help: String, kind: OptionKind, defaultValue: String? = nil) {
    self.name = name
    self.valueName = valueName
    self.help = help
    self.kind = kind
    self.defaultValue = defaultValue
  }

  var isFlag: Bool {
    if case .flag = kind { return true }
    return false
  }

  /// `--name`, as typed and as used in "given more than once" messages.
  var flagName: String { "--\(name)" }

  /// `--workers <n>` or `--no-color`, as in usage lines and value error messages.
  var synopsis: String { isFlag ? flagName : "\(flagName) <\(valueName)>" }
}

/// A subcommand: its name, help text, options and what it does.
struct CommandSpec: Sendable {
  var name: String
  /// Other names that work everywhere the name does, e.g. `task-group` for `joinset`.
  var aliases: [String] = []
  /// One line: in the root help's SUBCOMMANDS list and as the subcommand's OVERVIEW.
  var abstract: String
  /// Paragraph(s) after OVERVIEW in the subcommand's help.
  var discussion: String? = nil
  var options: [OptionSpec]
  /// The one argument that is not an option (`pitfalls <name>`), if the command takes one.
  var positional: PositionalSpec? = nil
  /// Returns the exit code. A thrown `UsageError` is rendered as a usage error (exit 64); any other
  /// error as `Error: <description>` on stderr (exit 1).
  var run: @Sendable (ParsedOptions, CommandContext) throws -> Int32

  /// The name followed by the aliases.
  var allNames: [String] { [name] + aliases }
}

/// A subcommand's one argument that is not an option. Its value is checked by the command itself,
/// which knows the names it accepts and suggests the closest.
struct PositionalSpec: Sendable {
  /// `"name"` → shown as `<name>`.
  var name: String
  /// One sentence.
  var help: String
}

/// Bad command-line input: rendered as `Error: <message>`, the usage line and a help pointer on
/// stderr, exit 64.
struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
  /// One line, without the `Error: ` prefix; any line breaks are escaped when rendered.
  var message: String
  /// The subcommand whose usage to show; `nil` means the command being run, or the root if none.
  var commandName: String?

  init(_ message: String, commandName: String? = nil) {
    self.message = message
    self.commandName = commandName
  }

  var description: String { message }
}
