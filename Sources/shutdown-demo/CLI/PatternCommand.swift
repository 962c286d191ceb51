import Patterns

/// Builds a story subcommand from its catalog: the shared options, the scenario choice, and the run
/// step (scripted stories, rendered in the chosen format).
enum PatternCommand {
  static func make(_ catalog: StoryCatalog) -> CommandSpec {
    let usedKnobs = catalog.knobs
    let scenarioNames = catalog.scenarios.map(\.name)
    var options = [
      OptionSpec(
        name: "scenario", valueName: "scenario",
        help: "The story to run; 'all' runs every one in order.",
        kind: .choice(scenarioNames + ["all"]), defaultValue: scenarioNames[0])
    ]
    options += usedKnobs.map { $0.option(defaults: catalog.defaults) }
    options += [
      OptionSpec(
        name: "format", valueName: "format", help: "How to print the run.",
        kind: .choice(OutputFormat.allCases.map(\.rawValue)), defaultValue: OutputFormat.text.rawValue),
      OptionSpec(
        name: "seed", valueName: "n",
        help: "Order jobs that are ready at the same instant by this seed instead of first-in first-out.",
        kind: .integer(0...maximumSeed), defaultValue: "0"),
      OptionSpec(
        name: "explore", valueName: "n",
        help: "Run under seeds 0...n and check what must hold in every order (nothing accepted is lost, "
          + "every task ends, the summary adds up); show the smallest seed that breaks it.",
        kind: .integer(1...maximumExploredSeeds)),
      OptionSpec(
        name: "live",
        help: "Run it in real time, each line printed as it happens, until a real Ctrl-C or kill -TERM "
          + "(or the SIGTERM it sends itself at --shutdown-at); exit 0, 1 or 128+n.",
        kind: .flag),
      OptionSpec(
        name: "no-color", help: "Never colour the output (NO_COLOR in the environment does the same).",
        kind: .flag),
    ]
    return CommandSpec(
      name: catalog.command, aliases: catalog.aliases, abstract: catalog.abstract,
      discussion: discussion(of: catalog), options: options
    ) { parsed, context in
      var knobs = catalog.defaults
      for knob in usedKnobs { knob.read(from: parsed, into: &knobs) }
      let choice = parsed.choice("scenario")
      let scenarios = choice == "all" ? catalog.scenarios : catalog.scenarios.filter { $0.name == choice }
      let format = OutputFormat(rawValue: parsed.choice("format")) ?? .text
      let color = context.useColor(noColorFlag: parsed.flag("no-color"))
      if parsed.wasGiven("explore") {
        guard !parsed.wasGiven("seed") else {
          throw UsageError("--explore tries seeds 0...n itself; drop '--seed' or '--explore'")
        }
        guard format == .text else { throw UsageError("--explore prints text only; drop '--format'") }
      }
      warnAboutUnusedKnobs(
        parsed, knobs: usedKnobs, scenarios: scenarios, all: choice == "all", context: context)
      if parsed.flag("live") {
        let plan = try livePlan(
          parsed, scenarios: scenarios, catalog: catalog, knobs: knobs, format: format, color: color)
        return LiveRun.run(plan, context: context)
      }
      if parsed.wasGiven("explore") {
        return explore(
          scenarios, command: catalog.command, knobs: knobs, seeds: parsed.integer("explore"),
          context: context, color: color
        ) { "shutdown-demo \(catalog.command) --scenario \($0.name)" }
      }
      let seed = UInt64(parsed.integer("seed"))
      var failed = false
      var pictures: [StoryPicture] = []
      for (index, scenario) in scenarios.enumerated() {
        let report = ScenarioRunner.runScripted(scenario, command: catalog.command, knobs: knobs, seed: seed)
        failed = failed || !report.failures.isEmpty
        switch format {
        case .text:
          if index > 0 { context.write("\n") }
          context.write(TextRenderer.render(report, width: context.columns, color: color))
        case .json:
          context.write(JSONLinesRenderer.render(report))
        case .mermaid:
          if index > 0 { context.write("\n") }
          context.write(MermaidRenderer.render(StoryPicture(report: report)))
        case .chart:
          if index > 0 { context.write("\n") }
          context.write(
            ChartRenderer.render(StoryPicture(report: report), width: context.columns, color: color))
        case .svg:
          pictures.append(StoryPicture(report: report))
        }
      }
      // One SVG document holds every story run: two documents back to back would not be valid XML.
      if format == .svg { context.write(SVGRenderer.render(pictures)) }
      return failed ? 1 : 0
    }
  }

  /// `--live` runs one story, in text or JSON Lines: refuses what a real-time run cannot do.
  static func livePlan(
    _ parsed: ParsedOptions, scenarios: [Scenario], catalog: StoryCatalog, knobs: Knobs,
    format: OutputFormat, color: Bool
  ) throws(UsageError) -> LiveRun.Plan {
    guard parsed.choice("scenario") != "all" else {
      throw UsageError("--live runs one story at a time; pick one with '--scenario <name>' instead of 'all'")
    }
    guard !parsed.wasGiven("explore") else {
      throw UsageError("--explore replays scripted runs under many seeds; drop '--live' or '--explore'")
    }
    guard !parsed.wasGiven("seed") else {
      throw UsageError("--seed orders a scripted run's simultaneous jobs; a live run has none: drop '--seed'")
    }
    let liveFormat: LiveOutput.Format
    switch format {
    case .text: liveFormat = .text
    case .json: liveFormat = .json
    case .mermaid, .chart, .svg:
      throw UsageError(
        "--live streams text or JSON Lines as it happens; a \(format.rawValue) picture needs the finished "
          + "run: drop '--live' or use '--format text' or '--format json'")
    }
    return LiveRun.Plan(
      scenario: scenarios[0], command: catalog.command, knobs: knobs, format: liveFormat, color: color,
      signalsItself: catalog.knobs.contains(.shutdownAt) && parsed.wasGiven(Knob.shutdownAt.rawValue))
  }

  /// The catalog's paragraph, then each story with the knobs it reads.
  static func discussion(of catalog: StoryCatalog) -> String {
    let stories = catalog.scenarios.map { scenario in
      let knobs = scenario.knobs.map { "--\($0.rawValue)" }
      return "\(scenario.name) (\(knobs.isEmpty ? "no knobs" : knobs.joined(separator: ", ")))"
    }
    return catalog.discussion + " Scenarios: " + stories.joined(separator: "; ") + "."
  }

  /// A knob the chosen stories do not read changes nothing: say so on stderr, and still run.
  static func warnAboutUnusedKnobs(
    _ parsed: ParsedOptions, knobs: [Knob], scenarios: [Scenario], all: Bool, context: CommandContext
  ) {
    for knob in knobs where parsed.wasGiven(knob.rawValue) {
      guard !scenarios.contains(where: { $0.knobs.contains(knob) }) else { continue }
      let story = all ? "any of these stories" : "the \(scenarios[0].name) story"
      let uses = Set(scenarios.flatMap(\.knobs))
      let used = Knob.allCases.filter { uses.contains($0) }.map { "--\($0.rawValue)" }
      context.writeError(
        "note: --\(knob.rawValue) does not change \(story); "
          + (used.isEmpty ? "it reads no knobs\n" : "it reads \(used.joined(separator: ", "))\n"))
    }
  }

  /// 2^32 - 1: seeds are for reproducing a run, so they stay short enough to type.
  static let maximumSeed = Int(UInt32.max)
  /// A ceiling that keeps a typo from running for hours: 100,000 seeds of one default-sized story take
  /// a few seconds in a release build, over a minute with 64 workers in a debug build.
  static let maximumExploredSeeds = 100_000

  /// `--explore`: one line per story naming what held, or the smallest breaking seed with its timeline.
  /// `rerun` is the command line that runs `scenario` alone, before its knobs and seed.
  static func explore(
    _ scenarios: [Scenario], command: String, knobs: Knobs, seeds: Int, context: CommandContext,
    color: Bool, rerun: (Scenario) -> String
  ) -> Int32 {
    var failed = false
    for scenario in scenarios {
      let name = "\(command) · \(scenario.name)"
      let checks = ScenarioRunner.checks(of: scenario).map(\.what)
      // On a terminal, a line on stderr says how far it is: a long exploration is not a hang.
      let progress = ProgressLine(context)
      let found = ScenarioRunner.explore(scenario, command: command, knobs: knobs, seeds: seeds) {
        done in progress.update("\(name): seed \(done) of \(seeds), \(progress.rate(done + 1)) seeds/s")
      }
      progress.finish()
      guard let found else {
        context.write("\(name): seeds 0...\(seeds) explored; in every order:\n")
        for check in checks { context.write("  - \(check)\n") }
        continue
      }
      failed = true
      context.write(
        found.seed == 0
          ? "\(name): broken in the first-in first-out order (seed 0), so the plain run shows it:\n"
          : "\(name): seed \(found.seed) breaks what must hold in every order:\n")
      for violation in found.violations { context.write("  - \(violation)\n") }
      let knobArguments = found.report.knobArguments.map { " --\($0.name) \($0.value)" }.joined()
      let seedArgument = found.seed == 0 ? "" : " --seed \(found.seed)"
      context.write(
        "rerun it with: \(rerun(scenario))\(knobArguments)"
          + "\(seedArgument)\n\n")
      context.write(TextRenderer.render(found.report, width: context.columns, color: color))
    }
    return failed ? 1 : 0
  }
}

/// `--format` values: the text a learner reads, JSON Lines for programs, and three pictures of the
/// same run (see docs/formats.md).
enum OutputFormat: String, CaseIterable, Sendable {
  case text, json, mermaid, chart, svg
}

extension Knob {
  /// The most workers a story takes: a 64-worker timeline is already about 360 lines, and more
  /// workers teach nothing that 64 do not.
  static let maximumWorkers = 64

  /// The command-line option that sets this knob. Limits keep stories readable and runs short.
  func option(defaults: Knobs) -> OptionSpec {
    switch self {
    case .workers:
      // 64 workers is already a timeline of about 360 lines per scenario; more teaches nothing new.
      return OptionSpec(
        name: rawValue, valueName: "n",
        help:
          "How many workers take part; at most \(Self.maximumWorkers), whose timeline is already about 360 "
          + "lines.",
        kind: .integer(1...Self.maximumWorkers),
        defaultValue: "\(defaults.workers)")
    case .shutdownAt:
      return OptionSpec(
        name: rawValue, valueName: "duration", help: "When the scripted SIGTERM arrives.",
        kind: .duration(.zero ... .seconds(3600)), defaultValue: formatDuration(defaults.shutdownAt))
    case .grace:
      return OptionSpec(
        name: rawValue, valueName: "duration", help: "How long main waits for tasks after the signal.",
        kind: .duration(.zero ... .seconds(3600)), defaultValue: formatDuration(defaults.grace))
    case .capacity:
      return OptionSpec(
        name: rawValue, valueName: "n", help: "How many messages the channel holds.",
        kind: .integer(1...4096),
        defaultValue: "\(defaults.capacity)")
    case .consumerDelay:
      return OptionSpec(
        name: rawValue, valueName: "duration", help: "How long the slow consumer takes per message.",
        kind: .duration(.zero ... .seconds(3600)), defaultValue: formatDuration(defaults.consumerDelay))
    case .rate:
      return OptionSpec(
        name: rawValue, valueName: "n", help: "Requests per second the load balancer sends.",
        kind: .integer(1...100), defaultValue: "\(defaults.rate)")
    case .requestTime:
      return duration("How long each request takes to answer.", defaults.requestTime, upTo: .seconds(60))
    case .drainDelay:
      return duration(
        "How long the listener keeps accepting after the signal, while readiness says draining.",
        defaults.drainDelay, upTo: .seconds(60))
    case .endpointLag:
      return duration(
        "How long the load balancer keeps sending after it should stop.", defaults.endpointLag,
        upTo: .seconds(60))
    case .prestop:
      return duration(
        "How long the preStop hook sleeps before SIGTERM.", defaults.prestop, upTo: .seconds(60))
    case .terminationGrace:
      return duration(
        "When Kubernetes sends SIGKILL, counted from the pod's deletion (preStop included).",
        defaults.terminationGrace, upTo: .seconds(3600))
    }
  }

  private func duration(_ help: String, _ value: Duration, upTo limit: Duration) -> OptionSpec {
    OptionSpec(
      name: rawValue, valueName: "duration", help: help, kind: .duration(.zero...limit),
      defaultValue: formatDuration(value))
  }

  func read(from parsed: ParsedOptions, into knobs: inout Knobs) {
    switch self {
    case .workers: knobs.workers = parsed.integer(rawValue)
    case .shutdownAt: knobs.shutdownAt = parsed.duration(rawValue)
    case .grace: knobs.grace = parsed.duration(rawValue)
    case .capacity: knobs.capacity = parsed.integer(rawValue)
    case .consumerDelay: knobs.consumerDelay = parsed.duration(rawValue)
    case .rate: knobs.rate = parsed.integer(rawValue)
    case .requestTime: knobs.requestTime = parsed.duration(rawValue)
    case .drainDelay: knobs.drainDelay = parsed.duration(rawValue)
    case .endpointLag: knobs.endpointLag = parsed.duration(rawValue)
    case .prestop: knobs.prestop = parsed.duration(rawValue)
    case .terminationGrace: knobs.terminationGrace = parsed.duration(rawValue)
    }
  }
}
