/// A small command-line engine following swift-argument-parser's conventions: `help`, `-h`,
/// `--help`, `--version`, subcommands with aliases, `--opt value` and `--opt=value`, and
/// three-line usage errors with "Did you mean …?" suggestions.
struct CommandLineTool: Sendable {
  /// `"shutdown-demo"`.
  var name: String
  /// Printed verbatim by `--version`, as swift-argument-parser does.
  var version: String
  var abstract: String
  var discussion: String?
  var commands: [CommandSpec]

  /// The exit code for bad command-line input (`EX_USAGE` from sysexits.h).
  static let usageExitCode: Int32 = 64

  /// What an invocation amounts to, decided before anything runs.
  enum Invocation: Sendable {
    case rootHelp
    case commandHelp(CommandSpec)
    case version
    case usageError(UsageError)
    case execute(CommandSpec, ParsedOptions)
  }

  /// Runs one invocation; returns the exit code. Never traps on any input.
  ///
  /// - Parameter arguments: The command-line arguments, excluding argv[0].
  func run(arguments: [String], context: CommandContext) -> Int32 {
    let help = HelpText(tool: self, columns: context.columns)
    switch resolve(arguments) {
    case .rootHelp:
      context.write(help.rootHelp())
      return 0
    case .commandHelp(let command):
      context.write(help.commandHelp(command))
      return 0
    case .version:
      context.write(version + "\n")
      return 0
    case .usageError(let error):
      context.writeError(renderUsageError(error, current: nil, columns: context.columns))
      return Self.usageExitCode
    case .execute(let command, let options):
      do {
        return try command.run(options, context)
      } catch let error as UsageError {
        context.writeError(renderUsageError(error, current: command, columns: context.columns))
        return Self.usageExitCode
      } catch {
        context.writeError("Error: \(singleLine(String(describing: error)))\n")
        return 1
      }
    }
  }

  /// The command with this name or alias.
  func command(named name: String) -> CommandSpec? {
    commands.first { $0.allNames.contains(name) }
  }

  /// Decides what the arguments ask for, validating every option value.
  func resolve(_ arguments: [String]) -> Invocation {
    guard let first = arguments.first else { return .rootHelp }
    let rest = Array(arguments.dropFirst())
    switch first {
    case "-h", "--help":
      return .rootHelp  // Help wins over anything after it, as in swift-argument-parser.
    case "--version":
      guard let extra = rest.first else { return .version }
      return .usageError(UsageError("Unexpected argument \(quoted(extra))"))
    case "help":
      return resolveHelp(rest)
    case _ where looksLikeOption(first):
      return .usageError(unknownOption(first, candidates: ["--version", "--help", "-h"], commandName: nil))
    default:
      guard let command = command(named: first) else { return .usageError(unknownSubcommand(first)) }
      if rest.contains(where: { $0 == "-h" || $0 == "--help" }) { return .commandHelp(command) }
      switch parseOptions(rest, for: command) {
      case .success(let options): return .execute(command, options)
      case .failure(let error): return .usageError(error)
      }
    }
  }

  /// `help`, `help <subcommand>`; anything more is an error against the root usage.
  private func resolveHelp(_ arguments: [String]) -> Invocation {
    guard let target = arguments.first else { return .rootHelp }
    if target == "-h" || target == "--help" { return .rootHelp }
    guard let command = command(named: target) else {
      if target == "help" {
        return .usageError(
          UsageError("'help' is not a subcommand; 'help <subcommand>' or '--help' shows help"))
      }
      if looksLikeOption(target) {
        return .usageError(unknownOption(target, candidates: ["--help", "-h"], commandName: nil))
      }
      return .usageError(unknownSubcommand(target))
    }
    if let extra = arguments.dropFirst().first {
      return .usageError(UsageError("Unexpected argument \(quoted(extra))"))
    }
    return .commandHelp(command)
  }

  /// Parses a subcommand's arguments (help flags already handled). The first problem wins.
  func parseOptions(_ arguments: [String], for command: CommandSpec) -> Result<ParsedOptions, UsageError> {
    let fail = { (message: String) in
      Result<ParsedOptions, UsageError>.failure(UsageError(message, commandName: command.name))
    }
    var given: [String: OptionValue] = [:]
    var positional: String?
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      index += 1
      guard argument.hasPrefix("--"), argument.count > 2 else {
        // `--` would end option parsing in argument-parser; with no positionals here it is just unexpected.
        if looksLikeOption(argument), argument != "--" {
          let candidates = command.options.map(\.flagName) + ["--help"]
          return .failure(unknownOption(argument, candidates: candidates, commandName: command.name))
        }
        if argument == "help" {
          return fail("Unexpected argument 'help'; for this subcommand's help, add '--help'")
        }
        if command.positional != nil, positional == nil, !looksLikeOption(argument) {
          positional = argument
          continue
        }
        return fail("Unexpected argument \(quoted(argument))")
      }
      // `--name=value` splits at the first `=`; the value may itself contain `=` or be empty.
      let body = argument.dropFirst(2)
      let name = String(body.prefix { $0 != "=" })
      let inlineValue = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
      guard let option = command.options.first(where: { $0.name == name }) else {
        let candidates = command.options.map(\.flagName) + ["--help"]
        return .failure(unknownOption("--" + name, candidates: candidates, commandName: command.name))
      }
      guard given[name] == nil else {
        return fail("Option '\(option.flagName)' given more than once; give it at most once")
      }
      if option.isFlag {
        if let inlineValue {
          return fail(
            "Option '\(option.flagName)' does not take a value, but was given \(quoted(inlineValue))")
        }
        given[name] = .flag
        continue
      }
      let raw: String
      if let inlineValue {
        raw = inlineValue
      } else if index < arguments.count, !looksLikeOption(arguments[index]) {
        raw = arguments[index]
        index += 1
      } else {
        return fail("Missing value for '\(option.synopsis)': \(option.kind.expectedForm)")
      }
      switch parseOptionValue(raw, for: option) {
      case .success(let value): given[name] = value
      case .failure(var error):
        error.commandName = command.name
        return .failure(error)
      }
    }
    var parsed = ParsedOptions(specs: command.options, given: given)
    parsed.positional = positional
    return .success(parsed)
  }

  // MARK: Errors

  private func unknownSubcommand(_ name: String) -> UsageError {
    let candidates = commands.flatMap(\.allNames)
    let hint = Suggestions.closest(to: name, among: candidates).map { " Did you mean '\($0)'?" } ?? ""
    return UsageError("Unknown subcommand \(quoted(name)).\(hint)")
  }

  private func unknownOption(_ argument: String, candidates: [String], commandName: String?) -> UsageError {
    // Suggest on the name only, so `--wokers=3` still finds `--workers`.
    let name = String(argument.prefix { $0 != "=" })
    // An option of other subcommands: say which, since that is the likelier mistake than a typo.
    let owners = commands.filter { command in command.options.contains { $0.flagName == name } }.map(\.name)
    if !owners.isEmpty, commandName != nil {
      return UsageError(
        "Unknown option \(quoted(name)) for this subcommand; it is an option of \(owners.joined(separator: ", "))",
        commandName: commandName)
    }
    let hint = Suggestions.closest(to: name, among: candidates).map { " Did you mean '\($0)'?" } ?? ""
    return UsageError("Unknown option \(quoted(name)).\(hint)", commandName: commandName)
  }

  /// A usage error: one `Error:` line, the usage (wrapped as help wraps it), and the help hint.
  /// `current` is the command being run, used when the error does not name one.
  func renderUsageError(_ error: UsageError, current: CommandSpec?, columns: Int = 80) -> String {
    let command = error.commandName.flatMap { self.command(named: $0) } ?? current
    let usage = HelpText(tool: self, columns: columns).usageSection(for: command, label: "Usage:")
    let helpCommand = command.map { "\(name) \($0.name) --help" } ?? "\(name) --help"
    return """
      Error: \(singleLine(error.message))
      \(usage)
        See '\(helpCommand)' for more information.

      """
  }

  // MARK: Checks

  /// Mistakes in the specs themselves (duplicate names, defaults that do not parse, reserved
  /// names); a test asserts this is empty for the real tool so they never reach users.
  func specProblems() -> [String] {
    var problems: [String] = []
    var seenCommands: Set<String> = ["help"]
    for command in commands {
      for name in command.allNames where !seenCommands.insert(name).inserted {
        problems.append("Subcommand name '\(name)' is used twice or reserved")
      }
      var seenOptions: Set<String> = ["help", "version"]
      for option in command.options {
        if !seenOptions.insert(option.name).inserted {
          problems.append("\(command.name): option '\(option.name)' is declared twice or reserved")
        }
        if option.name.isEmpty || option.name.contains("=") || option.name.hasPrefix("-") {
          problems.append("\(command.name): option name '\(option.name)' is not usable as --name")
        }
        if let text = option.defaultValue, !option.isFlag,
          case .failure(let error) = parseOptionValue(text, for: option)
        {
          problems.append("\(command.name): default for '\(option.name)': \(error.message)")
        }
      }
    }
    return problems
  }
}

/// Whether an argument is meant as an option: a dash followed by anything but a digit. A lone `-`
/// and negative numbers (`-5`, `-1s`) are values, so `--grace -1s` reports the bad duration.
func looksLikeOption(_ argument: String) -> Bool {
  guard argument.hasPrefix("-"), argument.count > 1 else { return false }
  let second = argument[argument.index(after: argument.startIndex)]
  return !second.isASCII || !second.isNumber
}

/// Keeps error messages on one line even if a command's message contains line breaks.
private func singleLine(_ text: String) -> String {
  text.split(whereSeparator: \.isNewline).joined(separator: " ")
}
