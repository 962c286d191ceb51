import Patterns

/// Pitfalls of the very end: the state file written as the process dies, and the exit status.
enum ExitPitfalls {
  // MARK: torn-state-write

  static let snapshot = "counters"
  static let oldState = [UInt8](repeating: 1, count: 1024)
  static let newState = [UInt8](repeating: 2, count: 1024)

  static let tornStateWrite = Pitfall(
    name: "torn-state-write",
    goesWrong: "the state file is overwritten in place, and a SIGKILL mid-write tears it",
    headline: """
      At SIGTERM (1s) the service saves 1 KiB of counters over last run's snapshot; the disk is slow \
      (600ms for the write). The orchestrator's SIGKILL comes at 1.5s. Then the service starts again.
      """,
    metric: "next start loads",
    wrong: PitfallSide(
      [
        "let file = try FileHandle(forUpdating: stateURL); try file.truncate(atOffset: 0)",
        "try file.write(contentsOf: header + firstHalf)   // SIGKILL can land between writes",
        "try file.write(contentsOf: secondHalf)",
      ]
    ) { context in
      await saveAndCrash(context, inPlace: true)
    },
    right: PitfallSide(
      [
        "try store.save(name: \"counters\", bytes: state, clean: true)   // FileStateStore:",
        "// write a temporary file, fsync, rename over the old one, fsync the directory",
      ]
    ) { context in
      await saveAndCrash(context, inPlace: false)
    },
    why: """
      Writes are not atomic; a rename is. A process killed between truncating a file and finishing \
      its write leaves it empty or half-written, and the next start reads garbage (or trusts it). Write \
      the new state to a temporary file in the same directory, fsync it, rename it over the old one: \
      a crash at any moment leaves the old snapshot or the new one, never a mix.
      """,
    measure: { report in .text(report.events.last { $0.actor == "next start" }?.detail ?? "nothing") },
    failure: { report in
      let loaded = report.events.last { $0.actor == "next start" }
      return loaded?.kind == .error ? "the next start found a torn file: \(loaded?.detail ?? "")" : nil
    })

  static func saveAndCrash(_ context: ScenarioContext, inPlace: Bool) async -> [SummaryLine] {
    let store = InMemoryStateStore()
    try? store.save(name: snapshot, bytes: oldState, clean: true)
    context.record("main", .start, "last run's snapshot: \(store.load(name: snapshot))")
    await context.waitForShutdownSignal()
    let encoded = SnapshotFormat.encode(newState, clean: true)
    await withTaskGroup(of: Void.self) { group in
      group.addTask(name: "main") {
        do {
          if inPlace {
            store.replaceRawBytes(name: snapshot, [])
            context.record("main", .cleanup, "opens counters.snapshot and truncates it")
            store.replaceRawBytes(name: snapshot, Array(encoded.prefix(encoded.count / 2)))
            context.record("main", .cleanup, "wrote the first \(encoded.count / 2) bytes in place")
            try await context.sleep(for: .milliseconds(600))
            store.replaceRawBytes(name: snapshot, encoded)
          } else {
            context.record("main", .cleanup, "writes counters.snapshot.tmp (\(encoded.count) bytes)")
            try await context.sleep(for: .milliseconds(600))
            try store.save(name: snapshot, bytes: newState, clean: true)
            context.record("main", .cleanup, "renamed it over counters.snapshot")
          }
          context.record("main", .exit, "saved; exits 0")
        } catch {
          // Killed: nothing more of this process runs.
        }
      }
      group.addTask(name: "orchestrator") {
        try? await context.sleep(for: .milliseconds(500))
        context.record("orchestrator", .abort, "SIGKILL: the process dies at once, mid-write")
      }
      _ = await group.next()
      group.cancelAll()
    }
    let loaded = store.load(name: snapshot)
    context.record("next start", loaded.bytes == nil ? .error : .observe, "\(loaded)")
    return []
  }

  // MARK: nonzero-exit

  static let nonzeroExit = Pitfall(
    name: "nonzero-exit",
    goesWrong: "a clean shutdown on SIGTERM still exits 143, which reads as a failure",
    headline: """
      2 workers drain within 0.4s of SIGTERM (1s); everything shuts down cleanly. Then the process \
      exits, and Kubernetes records why the container ended.
      """,
    metric: "exit status",
    wrong: PitfallSide(
      [
        "await drain()",
        "exit(128 + SIGTERM)                    // \"killed by SIGTERM\": 143",
      ]
    ) { context in
      await coordinate(context, exitWithSignalCode: true)
    },
    right: PitfallSide(
      [
        "let report = await shutdown.run()      // GracefulShutdown",
        "exit(report.exitCode)                  // 0 clean, 1 unclean, 128+n forced",
      ]
    ) { context in
      await coordinate(context, exitWithSignalCode: false)
    },
    why: """
      128 + n is what a shell reports for a process killed by signal n: a process that handled SIGTERM \
      and shut down cleanly should say so with 0. Kubernetes marks a container that exits non-zero as \
      terminated with reason Error, alerting counts it, and restart policies act on it. Keep non-zero \
      for real failure (1) and for a forced exit after a repeated signal.
      """,
    measure: { report in .count(exitStatus(report) ?? -1) },
    failure: { report in
      guard let status = exitStatus(report), status != 0 else { return nil }
      return "exit \(status) after a clean shutdown: the container is marked terminated with reason Error"
    })

  static func exitStatus(_ report: ScenarioReport) -> Int? {
    guard let detail = report.events.last(where: { $0.actor == "main" && $0.kind == .exit })?.detail,
      let status = detail.split(separator: " ").last.flatMap({ Int($0) })
    else { return nil }
    return status
  }

  static func coordinate(_ context: ScenarioContext, exitWithSignalCode: Bool) async -> [SummaryLine] {
    let shutdown = GracefulShutdown(
      clock: context.clock, signals: context.trigger.signals(on: context),
      configuration: ShutdownConfiguration(grace: .seconds(5)))
    for (index, name) in ["worker-1", "worker-2"].enumerated() {
      shutdown.spawn(name: name) { token in
        await PitfallSupport.work(
          name, unit: .milliseconds(300 + 100 * index), until: token, context: context)
      }
    }
    context.record("main", .start, "GracefulShutdown runs 2 workers; waits for SIGTERM")
    let report = await withTaskGroup(of: ShutdownReport?.self) { group in
      group.addTask(name: "signal") {
        await context.waitForShutdownSignal()
        return nil
      }
      group.addTask(name: "main") { await shutdown.run() }
      var report: ShutdownReport?
      for await result in group { report = report ?? result }
      return report
    }
    guard let report else { return [] }
    context.record(
      "main", .note,
      "shutdown report: \(report.isClean ? "clean" : "not clean"), \(counted(report.tasksFinished.count, "task")) finished"
    )
    if exitWithSignalCode {
      context.record("main", .exit, "exit(128 + SIGTERM): exit 143")
      context.record("kubelet", .error, "container terminated: exit code 143, reason Error")
    } else {
      context.record("main", .exit, "exit(report.exitCode): exit \(report.exitCode)")
      context.record("kubelet", .exit, "container terminated: exit code \(report.exitCode), reason Completed")
    }
    return []
  }
}
