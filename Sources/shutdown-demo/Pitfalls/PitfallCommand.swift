/// `shutdown-demo pitfalls [<name>]`: the list, one pitfall, or all of them, each run wrong and
/// right in virtual time.
enum PitfallCommand {
  /// The most schedules `--explore` tries per version.
  static let maximumExploredSeeds = 10_000

  static let command = CommandSpec(
    name: "pitfalls",
    abstract: "Classic shutdown mistakes, each run wrong and right, side by side, with what it costs.",
    discussion: """
      Without a name, lists every pitfall with the number that shows it. With one, runs the mistake \
      and its fix in virtual time and prints both timelines (side by side when the terminal has at \
      least \(PitfallRenderer.twoColumnWidth) columns), the measured outcome, the code of each and why; \
      'all' runs every one. Exits 1 if a wrong version fails to show its failure or a right one shows \
      it. Pitfalls: \(PitfallCatalog.all.map(\.name).joined(separator: ", ")).
      """,
    options: [
      OptionSpec(
        name: "format", valueName: "format", help: "How to print the runs.",
        kind: .choice(OutputFormat.allCases.map(\.rawValue)), defaultValue: OutputFormat.text.rawValue),
      OptionSpec(
        name: "explore", valueName: "n",
        help: "Run each version under seeds 0...n (orders of the jobs ready at the same instant) and count "
          + "the schedules that show the failure.",
        kind: .integer(1...maximumExploredSeeds)),
      OptionSpec(
        name: "no-color", help: "Never colour the output (NO_COLOR in the environment does the same).",
        kind: .flag),
    ],
    positional: PositionalSpec(name: "name", help: "The pitfall to run, or 'all'; none lists them.")
  ) { parsed, context in
    let format = OutputFormat(rawValue: parsed.choice("format")) ?? .text
    let color = context.useColor(noColorFlag: parsed.flag("no-color"))
    let schedules = parsed.wasGiven("explore") ? parsed.integer("explore") + 1 : nil
    guard let name = parsed.positional else {
      guard format == .text else { throw UsageError("the list prints text only; name a pitfall or 'all'") }
      let results = PitfallCatalog.all.map { PitfallRunner.run($0, schedules: schedules) }
      context.write(PitfallRenderer.renderList(results, width: context.columns, color: color))
      return results.allSatisfy(\.isSound) ? 0 : 1
    }
    let pitfalls: [Pitfall]
    if name == "all" {
      pitfalls = PitfallCatalog.all
    } else if let pitfall = PitfallCatalog.pitfall(named: name) {
      pitfalls = [pitfall]
    } else {
      let names = PitfallCatalog.all.map(\.name) + ["all"]
      let hint = Suggestions.closest(to: name, among: names).map { " Did you mean '\($0)'?" } ?? ""
      throw UsageError(
        "Unknown pitfall \(quoted(name)).\(hint) 'shutdown-demo pitfalls' lists them")
    }
    let results = pitfalls.map { PitfallRunner.run($0, schedules: schedules) }
    var pictures: [StoryPicture] = []
    for (index, result) in results.enumerated() {
      switch format {
      case .text:
        if index > 0 { context.write("\n") }
        context.write(PitfallRenderer.render(result, width: context.columns, color: color))
      case .json:
        context.write(PitfallRenderer.jsonHeader(result))
        context.write(JSONLinesRenderer.render(result.wrong))
        context.write(JSONLinesRenderer.render(result.right))
      case .mermaid:
        for (side, report) in [result.wrong, result.right].enumerated() {
          if index > 0 || side > 0 { context.write("\n") }
          context.write(MermaidRenderer.render(StoryPicture(report: report)))
        }
      case .chart:
        for (side, report) in [result.wrong, result.right].enumerated() {
          if index > 0 || side > 0 { context.write("\n") }
          context.write(
            ChartRenderer.render(StoryPicture(report: report), width: context.columns, color: color))
        }
      case .svg:
        pictures += [StoryPicture(report: result.wrong), StoryPicture(report: result.right)]
      }
    }
    if format == .svg { context.write(SVGRenderer.render(pictures)) }
    return results.allSatisfy(\.isSound) ? 0 : 1
  }
}
