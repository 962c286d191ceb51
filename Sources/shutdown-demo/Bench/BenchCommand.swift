import Patterns

/// `shutdown-demo bench`: what each primitive costs against Swift's closest counterpart, measured in
/// the same process, alternating, after a warm-up. Meant for a release build.
enum BenchCommand {
  /// Every comparison, in table order. Workload ids are what `--only` takes.
  static let comparisons: [Comparison] = [
    MPSCWorkloads.w1Bounded, MPSCWorkloads.w1Unbounded, MPSCWorkloads.w2Bounded, MPSCWorkloads.w2Unbounded,
    NotificationWorkloads.w3, NotificationWorkloads.w4, TokenWorkloads.create, TokenWorkloads.cancel,
    JoinSetWorkloads.w6, MPSCWorkloads.w7,
  ]

  /// `--only` values: each comparison's workload (W5 covers W5a and W5b), and S for the scenarios.
  static var workloadIDs: [String] {
    var ids: [String] = []
    for comparison in comparisons {
      let id = workloadID(comparison.id)
      if !ids.contains(id) { ids.append(id) }
    }
    return ids + ["S"]
  }

  static func workloadID(_ comparisonID: String) -> String {
    String(comparisonID.prefix { $0 != "a" && $0 != "b" })
  }

  static let command = CommandSpec(
    name: "bench",
    abstract: "Measure each primitive against Swift's own, in one run (use a release build).",
    discussion: """
      Runs each workload with our primitive and with Swift's closest counterpart in the same process, \
      alternating, after a warm-up, on one thread and on the default executor. Prints the median \
      nanoseconds per operation of each, the min-max, and the median of the per-round ratios. Build \
      with -c release: swift run -c release shutdown-demo bench.
      """,
    options: [
      OptionSpec(
        name: "quick", help: "Workloads a tenth of the size (about a tenth of the time).", kind: .flag),
      OptionSpec(
        name: "only", valueName: "workloads", help: "Run only these workloads.", kind: .list(workloadIDs)),
      OptionSpec(
        name: "format", valueName: "format", help: "How to print the table.",
        kind: .choice(["text", "json"]),
        defaultValue: "text"),
    ]
  ) { parsed, context in
    #if DEBUG
      context.writeError(
        "bench: this is a debug build; its figures say little. Run: swift run -c release shutdown-demo bench\n"
      )
    #endif
    let quick = parsed.flag("quick")
    let only = parsed.wasGiven("only") ? Set(parsed.list("only")) : Set(workloadIDs)
    let rounds = 3
    let scale = quick ? 10 : 1
    let json = parsed.choice("format") == "json"
    if !json {
      context.write(
        "shutdown-demo bench\(quick ? " --quick" : ""): \(rounds) rounds after a warm-up, ours and the "
          + "counterpart alternating.\nFigures: ns per operation, median (min–max) over the rounds; ratio = "
          + "median over rounds of ours ÷ theirs (below 1: ours is faster).\n")
    }
    var results: [BenchResult] = []
    for comparison in comparisons where only.contains(workloadID(comparison.id)) {
      for executor in BenchExecutor.allCases {
        let result = measure(comparison, on: executor, rounds: rounds, scale: scale)
        results.append(result)
        context.write(
          json
            ? BenchReport.json(result, comparison)
            : BenchReport.text(result, comparison, first: executor == .oneThread))
      }
    }
    if only.contains("S") {
      let scenarios = ScenarioBench.run(repetitions: quick ? 5 : 20)
      context.write(json ? BenchReport.json(scenarios) : BenchReport.text(scenarios))
    }
    return 0
  }
}
