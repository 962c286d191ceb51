import Patterns

/// The flow stories around a shutdown: a reload that is not one, and the state that survives from
/// one run to the next.
enum FlowLifecycleStories {
  // MARK: reload

  static let reload = Scenario(
    name: "reload",
    headline: { knobs in
      """
      SIGHUP at \(formatDuration(knobs.shutdownAt)): the service publishes config v2 on a watch, and \
      each worker picks it up at its next check. SIGTERM 2s later shuts it down as in basic.
      """
    },
    knobs: [.shutdownAt, .grace, .rate, .requestTime],
    participants: { _ in ["listener", "queue-consumer", "cache-refresher"] },
    lesson: """
      SIGHUP is not a shutdown: send the new configuration through a watch and let each worker take \
      it at its next check. Nothing is dropped and nothing restarts.
      """,
    script: { knobs in
      [.init(at: knobs.shutdownAt, .hangup), .init(at: knobs.shutdownAt + .seconds(2), .terminate)]
    },
    invariants: FlowStories.invariants,
    outcome: FlowStories.requests(aborted: 0, refused: 0, exitCode: 0) + [
      .init(what: "every worker took config v2 before the shutdown") { report in
        let pickers = Set(report.events.filter { $0.detail.contains("picks up config v2") }.map(\.actor))
        return pickers == ["queue-consumer", "cache-refresher"] ? nil : "picked up by \(pickers.sorted())"
      }
    ]
  ) { context in
    var setup = FlowStories.setup(context.knobs)
    setup.reloadable = true
    let service = SimulatedService(setup, context: context)
    let report = await service.run(startLine: "starts with config v1: \(service.openingOrder)")
    let reloads = context.timeline.events.filter { $0.detail.contains("publishes config") }.count
    let pickedUp = context.timeline.events.filter { $0.detail.contains("picks up config") }.count
    return [
      SummaryLine("reloads", .count(reloads), note: "(SIGHUP; the service kept running)"),
      SummaryLine("workers that picked it up", .count(pickedUp)),
    ] + service.summary(exitCode: report.exitCode)
  }

  // MARK: restart

  static let restart = Scenario(
    name: "restart",
    headline: { knobs in
      """
      Three runs of the service, one after the other. Run 1 starts from nothing, serves, gets SIGTERM \
      at \(formatDuration(knobs.shutdownAt)) and saves its counters. Run 2 restores them, serves, and \
      is killed halfway through writing its own snapshot. Run 3 restores again.
      """
    },
    knobs: [.shutdownAt, .grace, .rate, .requestTime],
    participants: FlowStories.participants,
    lesson: """
      Save state atomically (a temporary file, fsync, rename) with a clean-shutdown marker, and say \
      at start what you found: a crash mid-write then costs the last run's changes, never the file.
      """,
    script: { knobs in
      (0..<3).map { run in .init(at: knobs.shutdownAt + .seconds(2) * run, .terminate) }
    },
    invariants: [.everyTaskEnded],
    outcome: [
      .measured("run 2 restored", .text("served=5 processed=3 from a clean shutdown")),
      .measured("run 3 restored", .text("served=5 processed=3 from a clean shutdown")),
    ]
  ) { context in
    let knobs = context.knobs
    let disk = InMemoryStateStore()
    var restored: [String] = []
    var ledger = RequestLedger()
    var nextRequest = 1
    var exitCode: Int32 = 0
    for run in 1...3 {
      let loaded = disk.load(name: "counters")
      let counters = loaded.bytes.flatMap(SimulatedService.Counters.init(bytes:)) ?? .init()
      let found = Self.describe(loaded, counters)
      if run > 1 { restored.append(found) }
      var setup = FlowStories.setup(knobs)
      setup.firstRequest = nextRequest
      let store = TornWriteStore(disk: disk, tearsWrite: run == 2)
      setup.store = store
      let service = SimulatedService(setup, context: context, restoring: counters)
      store.onTear {
        service.kill(
          "kernel", "SIGKILL halfway through writing counters.snapshot.tmp; the rename never happens",
          exitCode: 137)
      }
      let report = await service.run(startLine: "run \(run) starts; loads counters: \(found)")
      let killed = service.isKilled
      exitCode = killed ? 137 : report.exitCode
      let runLedger = service.ledger
      ledger.accepted += runLedger.accepted
      ledger.completed += runLedger.completed
      ledger.aborted += runLedger.aborted
      ledger.failed += runLedger.failed
      ledger.refused += runLedger.refused
      nextRequest += runLedger.accepted + runLedger.refused
      if run == 3 {
        return [
          SummaryLine("run 2 restored", .text(restored[0])),
          SummaryLine("run 3 restored", .text(restored[1])),
          SummaryLine("torn file left beside it", .flag(disk.rawBytes(name: "counters.tmp") != nil)),
        ] + service.summary(exitCode: exitCode, ledger: ledger)
      }
    }
    return []
  }

  static func describe(_ loaded: LoadedState, _ counters: SimulatedService.Counters) -> String {
    switch loaded {
    case .clean: "\(counters.text) from a clean shutdown"
    case .unclean: "\(counters.text) from a shutdown that was not clean"
    case .damaged(let reason): "a damaged snapshot (\(reason)), not trusted; starts from zero"
    case .none: "no snapshot; starts from zero"
    }
  }
}

/// The service's disk, as a crash sees it: saving writes a temporary file and renames it over the
/// snapshot (the order `FileStateStore` uses). When `tearsWrite`, the process dies halfway through
/// the temporary file, so the rename never happens and the previous snapshot stays whole.
final class TornWriteStore: StateStore {
  private let disk: InMemoryStateStore
  private let tearsWrite: Bool
  private let tear = Lock<(@Sendable () -> Void)?>(nil)

  init(disk: InMemoryStateStore, tearsWrite: Bool) {
    self.disk = disk
    self.tearsWrite = tearsWrite
  }

  /// Sets what happens when the write is torn: the story kills the process there.
  func onTear(_ body: @escaping @Sendable () -> Void) { tear.withLock { $0 = body } }

  func save(name: String, bytes: [UInt8], clean: Bool) throws {
    let file = SnapshotFormat.encode(bytes, clean: clean)
    guard tearsWrite else {
      try disk.save(name: name, bytes: bytes, clean: clean)
      return
    }
    disk.replaceRawBytes(name: "\(name).tmp", Array(file.prefix(file.count / 2)))
    tear.withLock { $0 }?()
    throw StepFailure(message: "the process was killed mid-write")
  }

  func load(name: String) -> LoadedState { disk.load(name: name) }
}
