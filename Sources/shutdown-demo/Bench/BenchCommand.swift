import Patterns

/// `shutdown-demo bench`: what each primitive costs against Swift's closest counterpart, measured in
/// the same process, alternating, after a warm-up. Meant for a release build.
enum BenchCommand {
  /// Every comparison, in table order. Workload ids are what `--only` takes.
  static let comparisons: [Comparison] = [
    MPSCWorkloads.w1Bounded, MPSCWorkloads.w1Unbounded, MPSCWorkloads.w2Bounded, MPSCWorkloads.w2Unbounded,
    NotificationWorkloads.w3, NotificationWorkloads.w4, TokenWorkloads.create, TokenWorkloads.cancel,
    JoinSetWorkloads.w6, MPSCWorkloads.w7Bare, MPSCWorkloads.w7Cancellable,
  ]

  /// `--only` values: each workload (W5 covers its rows W5a and W5b), each row of a workload with
  /// several, and S for the scenarios.
  static var workloadIDs: [String] {
    var ids: [String] = []
    for comparison in comparisons {
      let id = workloadID(comparison.id)
      if !ids.contains(id) { ids.append(id) }
      if id != comparison.id { ids.append(comparison.id) }
    }
    return ids + ["S"]
  }

  /// Whether `--only` picked this row, by its own id or its workload's.
  static func isSelected(_ comparison: Comparison, by only: Set<String>) -> Bool {
    only.contains(comparison.id) || only.contains(workloadID(comparison.id))
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
      OptionSpec(
        name: "profile", valueName: "side",
        help: "Run one side of each workload once on one thread, untimed, for a profiler "
          + "(valgrind --tool=callgrind).",
        kind: .choice(["ours", "theirs"])),
    ]
  ) { parsed, context in
    let quick = parsed.flag("quick")
    let only = parsed.wasGiven("only") ? Set(parsed.list("only")) : Set(workloadIDs)
    let rounds = 3
    let scale = quick ? 10 : 1
    let json = parsed.choice("format") == "json"
    let profiling = parsed.wasGiven("profile")
    if profiling {
      guard !(parsed.wasGiven("only") && only.contains("S")) else {
        throw UsageError("--profile runs workloads W1-W7; drop S from '--only'")
      }
      guard !parsed.wasGiven("format") else { throw UsageError("--profile prints no table; drop '--format'") }
    }
    #if DEBUG
      context.writeError(
        "bench: this is a debug build; its figures say little. Run: swift run -c release shutdown-demo bench\n"
      )
    #endif
    if profiling {
      return profile(side: parsed.choice("profile"), only: only, scale: scale, context: context)
    }
    if !json {
      context.write(
        "shutdown-demo bench\(quick ? " --quick (a tenth of each size)" : ""): \(rounds) rounds after a "
          + "warm-up,\nours and the counterpart alternating. Figures: ns per operation, median (min–max)\n"
          + "over the rounds; ratio = median over rounds of ours ÷ theirs (below 1: ours is faster).\n"
          + "Targets: what this project holds each primitive to (docs/performance.md says why); each row\n"
          + "says whether it met its target.\n")
    }
    // Where the run is, on stderr when it is a terminal: the table prints a row at a time, and a full
    // run takes about two minutes.
    let progress = ProgressLine(context)
    let selected = comparisons.filter { isSelected($0, by: only) }
    for (index, comparison) in selected.enumerated() {
      for executor in BenchExecutor.allCases {
        let result = measure(comparison, on: executor, rounds: rounds, scale: scale) { step in
          progress.update(
            "bench: \(comparison.id) (row \(index + 1) of \(selected.count)), \(executor.rawValue), \(step)")
        }
        progress.finish()
        context.write(
          json
            ? BenchReport.json(result, comparison)
            : BenchReport.text(result, comparison, first: executor == .oneThread, scale: scale))
      }
    }
    if only.contains("S") {
      progress.update("bench: S, the scripted scenarios")
      let scenarios = ScenarioBench.run(repetitions: quick ? 5 : 20)
      progress.finish()
      context.write(json ? BenchReport.json(scenarios) : BenchReport.text(scenarios))
    }
    return 0
  }

  /// Runs one side of each selected workload once, on one thread, so a profiler sees that side alone:
  /// `valgrind --tool=callgrind shutdown-demo bench --only W7 --profile ours` counts its instructions.
  static func profile(side: String, only: Set<String>, scale: Int, context: CommandContext) -> Int32 {
    for comparison in comparisons where isSelected(comparison, by: only) {
      guard let body = side == "ours" ? comparison.ours : comparison.theirs else {
        context.write("\(comparison.id) \(side): no counterpart, skipped\n")
        continue
      }
      let sample = BenchExecutor.oneThread.run { await body(scale) }
      context.write("\(comparison.id) \(side): \(sample.operations) operations on one thread\n")
    }
    return 0
  }
}
