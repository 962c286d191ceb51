import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `--live`: one story, in real time, on the default executor and the continuous clock, stopped
/// by a real signal. The scenario code is the scripted run's; only its clock, its signal and its
/// output differ.
///
/// In order: the signal handlers are installed and armed; the pid line goes to stderr; the header,
/// then each timeline line as it is recorded, go to stdout; the story waits for a signal (or, with
/// `--shutdown-at`, for the one this process sends itself through `kill(2)`, so the same real path
/// runs); the summary and lesson follow; the process exits by the shutdown contract: 0 clean, 1
/// when something was aborted or a step failed (the number on main's last line), 128+n when a
/// repeated signal stopped it (see ``LiveSignal`` for the ladder).
enum LiveRun {
  /// What the command decided before anything runs.
  struct Plan: Sendable {
    var scenario: Scenario
    var command: String
    var knobs: Knobs
    var format: LiveOutput.Format
    var color: Bool
    /// Whether `--shutdown-at` was given: then the process signals itself, by the story's script.
    var signalsItself: Bool
  }

  /// Runs `plan` and returns the exit code. Call from the main thread: it waits there.
  static func run(_ plan: Plan, context: CommandContext) -> Int32 {
    var header = ScenarioRunner.report(plan.scenario, command: plan.command, knobs: plan.knobs)
    // Live, --shutdown-at means something only when given: the signal is otherwise the user's.
    if !plan.signalsItself { header.shownKnobs.removeAll { $0 == .shutdownAt } }
    let output = LiveOutput(
      context: context, format: plan.format, color: plan.color,
      actors: ["main", "signal"] + plan.scenario.participants(plan.knobs))
    // The main thread is not one of the cooperative threads: waiting there blocks no task.
    let code = blockingRun { [header] in await run(plan, header: header, output: output, context: context) }
    output.flush()
    return code
  }

  private static func run(
    _ plan: Plan, header: ScenarioReport, output: LiveOutput, context: CommandContext
  ) async -> Int32 {
    let source = await ProcessSignals.install([.interrupt, .terminate, .hangup])
    defer { source.cancel() }
    let story = StoryTask()
    let clock = ContinuousClock()
    let timeline = Timeline(clock: clock) { output.event($0, in: header) }
    let waitsForSignal = plan.scenario.knobs.contains(.shutdownAt)
    let signal = LiveSignal { rung in
      switch rung {
      case .arrived(let signal):
        // A story that never waits for a signal would otherwise show nothing at the first Ctrl-C.
        guard !waitsForSignal else { break }
        timeline.record(
          "signal", .note, "\(signal.name): this story does not wait for a signal; a 2nd one stops it")
      case .ignored(let signal):
        timeline.record("signal", .note, "\(signal.name) is not a shutdown signal; this story ignores it")
      case .stopWaiting(let signal):
        timeline.record(
          "signal", .signal,
          "\(signal.name) again (2nd shutdown signal): main stops waiting; what is left is aborted")
        story.cancel()
      case .exitNow(let signal, let ordinal):
        timeline.record(
          "signal", .signal,
          "\(signal.name) again (\(ordinal.ordinalWord) shutdown signal): exit now; exit \(signal.exitCode)")
        output.exitAfterPending(signal.exitCode)
      }
    }
    let reader = signal.read(source)
    // Armed: from here on no signal is lost, so now the user may send one.
    if getpid() == 1 {
      context.writeError(
        "note: running as PID 1: the kernel gives PID 1 no default signal action, so without these "
          + "handlers SIGTERM would be ignored until SIGKILL\n")
    }
    let pid = getpid()
    context.writeError("pid \(pid): press Ctrl-C, or: kill -TERM \(pid)\n")
    output.header(header, live: liveLine(plan))

    let running = Task {
      await ScenarioRunner.runLive(
        plan.scenario, command: plan.command, knobs: plan.knobs, clock: clock, trigger: signal,
        timeline: timeline)
    }
    story.set(running)
    let script = plan.signalsItself ? sendScript(plan.scenario.script(plan.knobs), clock: clock) : nil
    var report = await running.value
    script?.cancel()
    report.shownKnobs = header.shownKnobs
    let code = exitCode(of: report, escalatedBy: signal.escalatedBy)
    if let escalation = signal.escalation {
      timeline.record("main", .exit, "stopped early by \(escalation); exit \(code)")
      report.events = timeline.events
      report.abortedBy = escalation  // what was aborted was cut by the signal, not the deadline
      report.summary = TimelineSummary(events: report.events, participants: report.summary.participants)
    }
    output.footer(millisecondsOnly(report))
    source.cancel()
    await reader.value
    return code
  }

  /// The summary's times to the millisecond, as the timeline shows them: real time has nanoseconds
  /// no reader wants ("501036784ns").
  static func millisecondsOnly(_ report: ScenarioReport) -> ScenarioReport {
    func cut(_ duration: Duration) -> Duration {
      let (seconds, attoseconds) = duration.components
      return .seconds(seconds) + .milliseconds(attoseconds / 1_000_000_000_000_000)
    }
    var report = report
    report.summary.shutdownAt = report.summary.shutdownAt.map(cut)
    report.summary.timeToQuiet = report.summary.timeToQuiet.map(cut)
    for index in report.measured.indices {
      if case .duration(let duration) = report.measured[index].value {
        report.measured[index].value = .duration(cut(duration))
      }
    }
    return report
  }

  /// The text header's last line: what is real in this run.
  private static func liveLine(_ plan: Plan) -> String {
    guard plan.scenario.knobs.contains(.shutdownAt) else {
      return "live: real time; this story does not wait for a signal (a 2nd Ctrl-C stops it)."
    }
    return plan.signalsItself
      ? "live: real time; at --shutdown-at \(formatDuration(plan.knobs.shutdownAt)) this process sends "
        + "itself SIGTERM with kill(2), as you would."
      : "live: real time; the shutdown starts when you send the signal."
  }

  /// Sends the story's scripted signals to this process at their times, through `kill(2)`.
  private static func sendScript(_ script: [ScriptedSignals.Delivery], clock: ContinuousClock) -> Task<
    Void, Never
  > {
    let start = clock.now
    return Task {
      for delivery in script {
        do {
          try await clock.sleep(until: start.advanced(by: delivery.at))
        } catch {
          return  // the story is over: nothing more to send
        }
        ProcessSignals.send(delivery.signal)
      }
    }
  }

  /// The contract's code: 128+n after a repeated signal stopped the run; 1 when the story failed;
  /// otherwise the code on main's last line (the story's own decision: 0 clean, 1 when something was
  /// aborted or a step failed; a flow story's coordinator may say 128+n itself).
  static func exitCode(of report: ScenarioReport, escalatedBy: ShutdownSignal?) -> Int32 {
    if let escalatedBy { return escalatedBy.exitCode }
    guard report.failures.isEmpty else { return 1 }
    if let last = report.events.last(where: { $0.actor == "main" && $0.kind == .exit }) {
      let words = last.detail.split(separator: " ")
      if words.count >= 2, words[words.count - 2] == "exit", let code = Int32(words[words.count - 1]) {
        return code
      }
    }
    return report.summary.aborted.isEmpty ? 0 : 1
  }
}

/// The story's task, which the ladder's 2nd rung cancels: it may come before the task exists.
private final class StoryTask: Sendable {
  private let state = Lock<(task: Task<ScenarioReport, Never>?, cancelled: Bool)>((nil, false))

  func set(_ task: Task<ScenarioReport, Never>) {
    let cancelNow = state.withLock { state in
      state.task = task
      return state.cancelled
    }
    if cancelNow { task.cancel() }
  }

  func cancel() {
    let task = state.withLock { state in
      state.cancelled = true
      return state.task
    }
    task?.cancel()
  }
}
