import Patterns

/// `shutdown-demo compare`: runs the workload once per pattern and prints the comparison, or the
/// five runs as pictures.
enum CompareCommand {
  /// The knobs of the workload: the crew's, and the channel's. (The service flow's knobs are not
  /// the comparison's: one workload, five patterns.)
  static let compareKnobs: [Knob] = [.workers, .shutdownAt, .grace, .capacity, .consumerDelay]

  /// `--format` values: the table (text, markdown, json) or the pictures of the five runs.
  enum Format: String, CaseIterable, Sendable {
    case text, json, markdown, mermaid, chart, svg
  }

  static let command: CommandSpec = {
    let kinds = CompareStories.Kind.allCases.map(\.rawValue)
    var options = [
      OptionSpec(
        name: "scenario", valueName: "scenario",
        help: "The workload to compare; 'all' runs every one in order.",
        kind: .choice(kinds + ["all"]), defaultValue: kinds[0])
    ]
    options += compareKnobs.map { knob in
      var option = knob.option(defaults: CompareStories.defaults)
      if knob == .consumerDelay {
        // In the token and join set rows no job arrives to wait for: a consumer whose jobs took no
        // time would work forever at one instant, and virtual time would never reach the signal.
        option.kind = .duration(.milliseconds(1) ... .seconds(3600))
      }
      return option
    }
    options += [
      OptionSpec(
        name: "format", valueName: "format",
        help: "How to print it: the table as text, markdown or json, or each pattern's run as a picture.",
        kind: .choice(Format.allCases.map(\.rawValue)), defaultValue: Format.text.rawValue),
      OptionSpec(
        name: "seed", valueName: "n",
        help: "Order jobs that are ready at the same instant by this seed instead of first-in first-out.",
        kind: .integer(0...PatternCommand.maximumSeed), defaultValue: "0"),
      OptionSpec(
        name: "explore", valueName: "n",
        help: "Run every pattern's row under seeds 0...n and check the facts it must show in every order; "
          + "show the smallest seed that breaks one.",
        kind: .integer(1...PatternCommand.maximumExploredSeeds)),
      OptionSpec(
        name: "with-costs",
        help: "Add ns and bytes per notified and per waiting task, measured in this process (real time, so "
          + "they vary from run to run).",
        kind: .flag),
      OptionSpec(
        name: "no-color", help: "Never colour the output (NO_COLOR in the environment does the same).",
        kind: .flag),
    ]
    return CommandSpec(
      name: CompareStories.command, abstract: CompareStories.abstract, discussion: CompareStories.discussion,
      options: options, run: run)
  }()

  static func run(_ parsed: ParsedOptions, _ context: CommandContext) throws -> Int32 {
    var knobs = CompareStories.defaults
    for knob in compareKnobs { knob.read(from: parsed, into: &knobs) }
    let choice = parsed.choice("scenario")
    let kinds = CompareStories.Kind.allCases.filter { choice == "all" || $0.rawValue == choice }
    let format = Format(rawValue: parsed.choice("format")) ?? .text
    let color = context.useColor(noColorFlag: parsed.flag("no-color"))
    let withCosts = parsed.flag("with-costs")
    if parsed.wasGiven("explore") {
      guard !parsed.wasGiven("seed") else {
        throw UsageError("--explore tries seeds 0...n itself; drop '--seed' or '--explore'")
      }
      guard format == .text else { throw UsageError("--explore prints text only; drop '--format'") }
      guard !withCosts else {
        throw UsageError("--explore checks the rows, not their costs; drop '--with-costs'")
      }
    }
    if withCosts, ![.text, .markdown, .json].contains(format) {
      throw UsageError("--with-costs adds to the table: use it with --format text, markdown or json")
    }
    // The first row of each kind stands for it: every row of a kind reads the same knobs.
    let representatives = kinds.compactMap { CompareStories.rows[$0]?.first }
    PatternCommand.warnAboutUnusedKnobs(
      parsed, knobs: compareKnobs, scenarios: representatives, all: choice == "all", context: context)

    if parsed.wasGiven("explore") {
      let rows = kinds.flatMap { CompareStories.rows[$0] ?? [] }
      return PatternCommand.explore(
        rows, command: CompareStories.command, knobs: knobs, seeds: parsed.integer("explore"),
        context: context, color: color
      ) { row in
        let kind = row.name.prefix { $0 != " " }
        return "shutdown-demo \(CompareStories.command) --scenario \(kind)"
      }
    }

    let seed = UInt64(parsed.integer("seed"))
    let costs = withCosts ? CompareCosts.measure() : []
    var failed = false
    var pictures: [StoryPicture] = []
    for (index, kind) in kinds.enumerated() {
      let reports = (CompareStories.rows[kind] ?? []).map {
        ScenarioRunner.runScripted($0, command: CompareStories.command, knobs: knobs, seed: seed)
      }
      failed = failed || reports.contains { !$0.failures.isEmpty }
      let table = ComparisonTable(kind: kind, knobs: knobs, seed: seed, reports: reports, costs: costs)
      switch format {
      case .text:
        if index > 0 { context.write("\n") }
        context.write(ComparisonRenderer.text(table, width: context.columns, color: color))
      case .markdown:
        if index > 0 { context.write("\n") }
        context.write(ComparisonRenderer.markdown(table))
      case .json:
        context.write(ComparisonRenderer.json(table))
      case .mermaid:
        for (row, report) in reports.enumerated() {
          if index > 0 || row > 0 { context.write("\n") }
          context.write(MermaidRenderer.render(StoryPicture(report: report)))
        }
      case .chart:
        for (row, report) in reports.enumerated() {
          if index > 0 || row > 0 { context.write("\n") }
          context.write(
            ChartRenderer.render(StoryPicture(report: report), width: context.columns, color: color))
        }
      case .svg:
        pictures += reports.map { StoryPicture(report: $0) }
      }
    }
    // One document holds every run, one panel each: two documents back to back would not be valid XML.
    if format == .svg { context.write(SVGRenderer.render(pictures)) }
    return failed ? 1 : 0
  }
}
