import Patterns
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The next signal from `signals`, or nil if none arrives within `timeout` (real time: these tests
/// send real signals, and a lost one must fail the test, not hang it).
func receive(
  _ signals: MPSC<ShutdownSignal>.Receiver, within timeout: Duration
) async -> ShutdownSignal? {
  await withTaskGroup(of: ShutdownSignal?.self) { group in
    group.addTask { await signals.receive() }
    group.addTask {
      try? await Task.sleep(for: timeout)
      return nil
    }
    let first = await group.next() ?? nil
    group.cancelAll()
    return first
  }
}

/// Whether `number`'s disposition is the default action now.
func hasDefaultDisposition(_ number: Int32) -> Bool {
  var current = sigaction()
  sigaction(number, nil, &current)
  #if canImport(Glibc)
    return current.__sigaction_handler.sa_handler == nil
  #else
    return current.__sigaction_u.__sa_handler == nil
  #endif
}

/// Real signals, sent by this process to itself. Serialized: dispositions are process-wide.
@Suite("ProcessSignals", .serialized, .timeLimit(.minutes(1)))
struct ProcessSignalsTests {
  @Test func signalSentToSelf_isReceived_andCancelRestoresTheDefaultAndFinishesTheSequence() async {
    let source = await ProcessSignals.install([.user1, .hangup])
    #expect(ProcessSignals.send(.user1))
    #expect(await receive(source.signals, within: .seconds(10)) == .user1)
    #expect(ProcessSignals.send(.hangup))
    #expect(await receive(source.signals, within: .seconds(10)) == .hangup)
    source.cancel()
    #expect(hasDefaultDisposition(SIGUSR1))
    #expect(hasDefaultDisposition(SIGHUP))
    #expect(await receive(source.signals, within: .seconds(10)) == nil)
    #expect(source.signals.isClosed)
  }

  /// Linux's libdispatch installs its handler for a signal only once per process; after a cancel
  /// restored the default, a second install must still catch the signal.
  @Test func installAgainAfterCancel_stillCatchesTheSignal() async {
    let first = await ProcessSignals.install([.user2])
    first.cancel()
    #expect(hasDefaultDisposition(SIGUSR2))
    let second = await ProcessSignals.install([.user2])
    defer { second.cancel() }
    #expect(ProcessSignals.send(.user2))
    #expect(await receive(second.signals, within: .seconds(10)) == .user2)
  }

  /// SIGTERM's default action would end the test process; once `install` has returned the source
  /// catches it instead. (Sent only after registration, and the default is restored at the end.)
  @Test func sigterm_afterInstallReturned_isCaught_notFatal() async {
    let source = await ProcessSignals.install([.terminate])
    defer { source.cancel() }
    #expect(ProcessSignals.send(.terminate))
    #expect(await receive(source.signals, within: .seconds(10)) == .terminate)
  }

  @Test func coordinator_onRealSignals_runsTheShutdownAndExitsZero() async {
    let source = await ProcessSignals.install([.user1])
    defer { source.cancel() }
    let shutdown = GracefulShutdown(
      clock: ContinuousClock(), signals: source.signals,
      configuration: ShutdownConfiguration(grace: .seconds(10), shutdownSignals: [.user1]))
    shutdown.spawn(name: "worker") { token in await token.cancelled() }
    ProcessSignals.send(.user1)
    let report = await shutdown.run()
    #expect(report.trigger == .signal(.user1))
    #expect(report.tasksFinished == ["worker"])
    #expect(report.exitCode == 0)
  }

  @Test func ignoringBrokenPipe_turnsSIGPIPEIntoAnError_andRestoresTheDisposition() async {
    var ends: [Int32] = [0, 0]
    #expect(pipe(&ends) == 0)
    close(ends[0])  // nobody will read: a write raises SIGPIPE
    let result = await ProcessSignals.ignoringBrokenPipe { () async -> (Int, Int32) in
      var byte: UInt8 = 1
      let written = write(ends[1], &byte, 1)
      return (written, errno)
    }
    close(ends[1])
    #expect(result.0 == -1)
    #expect(result.1 == EPIPE)
  }
}
