import Dispatch

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where shutdown signals come from: the operating system (``ProcessSignals``), or a script on a
/// clock (``ScriptedSignals``). Both hand you the same thing, an ``MPSC`` receiver of
/// ``ShutdownSignal``s, so the code that reacts to them (``GracefulShutdown``) never knows which
/// one it got, and a service's shutdown can be tested in virtual time with the very code it runs.
///
/// ```swift
/// // a real process:
/// let source = await ProcessSignals.install([.interrupt, .terminate, .hangup])  // armed when this returns
/// let shutdown = GracefulShutdown(clock: ContinuousClock(), signals: source.signals)
///
/// // a test or a scripted story, in virtual time:
/// let script = ScriptedSignals.start([.init(at: .seconds(5), .terminate)], clock: clock)
/// let shutdown = GracefulShutdown(clock: clock, signals: script.signals)
/// ```
///
/// The sharp edges of real signals:
/// - **A signal handler may do almost nothing.** It interrupts whatever the thread was doing, inside
///   `malloc` or holding a lock; only async-signal-safe calls are allowed there. So nothing here runs
///   in a handler: `DispatchSource.makeSignalSource` turns the signal into an event on a private
///   serial queue, and that event handler only *notifies* (sends into an unbounded mpsc, which never
///   waits) and returns. The work happens in whoever receives.
/// - **The default action must be out of the way.** A source does not stop the default action of
///   SIGTERM (exit) or SIGINT: the disposition is set to `SIG_IGN` first, so only the source sees it.
///   ``ProcessSignals/cancel()`` (or `deinit`) restores `SIG_DFL`, so a signal after that kills the
///   process as usual. (tokio never restores it, tokio#7905: after its `Signal` is dropped a Ctrl-C is
///   silently swallowed.)
/// - **Arm before you say ready.** ``ProcessSignals/install(_:)`` is `async` and returns only once
///   every source's registration handler has run, so no signal sent after it returns is lost
///   (swift-service-lifecycle awaits the registration for the same reason).
/// - **SIGPIPE.** Writing to a socket whose peer has gone raises SIGPIPE, whose default action kills
///   the process. A server must turn it into an `EPIPE` error: ``ProcessSignals/ignoringBrokenPipe(_:)``.
public enum SignalSources {}

/// The operating system's signals, delivered into an ``MPSC`` channel. Live runs only.
///
/// One `DispatchSource` per signal, on one private serial queue. Keep the object for as long as the
/// signals should be caught; ``cancel()`` or `deinit` stops catching them, restores the default
/// action, and finishes ``signals`` (its `receive()` returns `nil` once drained).
public final class ProcessSignals: Sendable {
  /// The signals as they arrive, in order. One consumer at a time.
  public let signals: MPSC<ShutdownSignal>.Receiver
  /// The signals being caught.
  public let caught: [ShutdownSignal]

  private let sources: Lock<[ArmedSource]>
  private let sender: SenderBox

  /// Catches `signals` from now on, and returns once every one is armed.
  ///
  /// Sets each signal's disposition to `SIG_IGN` (so its default action does not run), then starts
  /// a dispatch source for it and waits for the source's registration.
  public static func install(_ signals: [ShutdownSignal] = [.interrupt, .terminate, .hangup]) async
    -> ProcessSignals
  {
    let (sender, receiver) = MPSC<ShutdownSignal>.unboundedChannel()
    let box = SenderBox(sender)
    let queue = DispatchQueue(label: "shutdown-signals")
    var sources: [ArmedSource] = []
    var unique: [ShutdownSignal] = []
    for signal in signals where !unique.contains(signal) { unique.append(signal) }
    for signal in unique {
      setDisposition(signal.number, ignore: true)
      let source = DispatchSource.makeSignalSource(signal: signal.number, queue: queue)
      source.setEventHandler {
        // Only notify: one send per delivery (`data` counts deliveries coalesced since the last event).
        for _ in 0..<max(1, Int(source.data)) { box.send(signal) }
      }
      await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        source.setRegistrationHandler { continuation.resume() }
        source.resume()
      }
      DispatchSignalHandlers.reinstateIfNeeded(signal.number)
      sources.append(ArmedSource(signal: signal, source: source))
    }
    return ProcessSignals(signals: receiver, caught: unique, sources: sources, sender: box)
  }

  private init(
    signals: MPSC<ShutdownSignal>.Receiver, caught: [ShutdownSignal],
    sources: [ArmedSource], sender: SenderBox
  ) {
    self.signals = signals
    self.caught = caught
    self.sources = Lock(sources)
    self.sender = sender
  }

  deinit { cancel() }

  /// Stops catching: cancels the sources, restores each signal's default action, and finishes
  /// ``signals``. Idempotent.
  public func cancel() {
    let sources = sources.withLock { sources in
      defer { sources = [] }
      return sources
    }
    for armed in sources {
      armed.source.cancel()
      Self.setDisposition(armed.signal.number, ignore: false)
    }
    sender.finish()
  }

  /// Sends `signal` to process `pid` (this process by default), as `kill(1)` would. For tests and
  /// for a live run's scripted "--shutdown-at". Returns false if `kill(2)` failed.
  @discardableResult
  public static func send(_ signal: ShutdownSignal, to pid: Int32 = getpid()) -> Bool {
    kill(pid, signal.number) == 0
  }

  /// Runs `body` with SIGPIPE ignored, so that writing to a closed socket fails with `EPIPE`
  /// instead of killing the process; restores the previous disposition afterwards.
  ///
  /// The disposition is process-wide: keep one such scope around the whole service, not one per
  /// connection.
  public static func ignoringBrokenPipe<T>(_ body: () async throws -> T) async rethrows -> T {
    let previous = signal(SIGPIPE, SIG_IGN)
    defer { signal(SIGPIPE, previous) }
    return try await body()
  }

  /// Sets SIG_IGN (`ignore`) or SIG_DFL. (It fails only for an invalid number, or SIGKILL/SIGSTOP,
  /// which no source could catch anyway.)
  private static func setDisposition(_ number: Int32, ignore: Bool) {
    _ = signal(number, ignore ? SIG_IGN : SIG_DFL)
  }
}

/// Works around a Linux libdispatch behaviour: the first signal source for a signal installs
/// dispatch's own `sigaction` handler (over our `SIG_IGN`), and dispatch never installs it again,
/// even after that handler has been replaced. So once ``ProcessSignals/cancel()`` has restored
/// `SIG_DFL`, a new source for the same signal would see nothing (its `SIG_IGN` discards the signal).
/// We remember dispatch's handler the first time we see it and put it back when a later source's
/// registration left `SIG_IGN` in place. (On Darwin, kqueue sees signals whatever the disposition,
/// and the disposition stays `SIG_IGN` as intended.)
private enum DispatchSignalHandlers {
  private static let saved = Lock<[Int32: sigaction]>([:])

  static func reinstateIfNeeded(_ number: Int32) {
    #if os(Linux)
      var current = sigaction()
      guard sigaction(number, nil, &current) == 0 else { return }
      let handler = current.__sigaction_handler.sa_handler
      let isIgnored = handler.map { unsafeBitCast($0, to: Int.self) == 1 } ?? false
      if handler != nil, !isIgnored {
        saved.withLock { $0[number] = current }  // dispatch's handler, just installed
      } else if isIgnored, var dispatchAction = saved.withLock({ $0[number] }) {
        sigaction(number, &dispatchAction, nil)
      }
    #endif
  }
}

/// One armed dispatch source. Dispatch sources are thread-safe objects (their methods may be called
/// from any thread), but the overlay does not mark them `Sendable`.
private struct ArmedSource: @unchecked Sendable {
  let signal: ShutdownSignal
  let source: any DispatchSourceSignal
}

/// The sending end, held so that ``ProcessSignals/cancel()`` can finish the channel at once rather
/// than when dispatch gets round to releasing the event handlers.
private final class SenderBox: Sendable {
  private let sender: Lock<MPSC<ShutdownSignal>.UnboundedSender?>

  init(_ sender: MPSC<ShutdownSignal>.UnboundedSender) { self.sender = Lock(sender) }

  func send(_ signal: ShutdownSignal) {
    let sender = sender.withLock { $0 }
    try? sender?.send(signal)  // fails only when nobody receives any more: nothing to do then
  }

  func finish() {
    let last = sender.withLock { sender in
      defer { sender = nil }
      return sender
    }
    _ = consume last  // the channel finishes when this last sender object goes
  }
}

/// Signals delivered by a script at given times on a clock, into the same channel type as
/// ``ProcessSignals``: for tests and scripted stories.
///
/// ```swift
/// let script = ScriptedSignals.start(
///   [.init(at: .seconds(5), .terminate), .init(at: .seconds(6), .terminate)], clock: clock)
/// // script.signals receives SIGTERM at 5 s and again at 6 s, then finishes
/// ```
///
/// The delivering task is started with ``spawnTask(name:priority:_:)``, so inside a `Simulation` it
/// runs on the simulated executor and sleeps on the virtual clock. After the last signal the
/// channel finishes (``GracefulShutdown`` takes a finished signal sequence as a request to stop).
public struct ScriptedSignals: Sendable {
  /// One scripted delivery.
  public struct Delivery: Sendable, Hashable {
    /// When, as an offset from the moment the script was started.
    public var at: Duration
    /// Which signal.
    public var signal: ShutdownSignal

    /// `signal` delivered `at` after the start.
    public init(at: Duration, _ signal: ShutdownSignal) {
      self.at = at
      self.signal = signal
    }
  }

  /// The signals as the script delivers them.
  public let signals: MPSC<ShutdownSignal>.Receiver
  /// The delivering task; cancel it to stop the script early (the channel then finishes).
  public let task: Task<Void, Never>

  /// Starts delivering `script` (in time order; equal times in the order given) on `clock`.
  public static func start<C: Clock<Duration>>(_ script: [Delivery], clock: C) -> ScriptedSignals {
    let (sender, receiver) = MPSC<ShutdownSignal>.unboundedChannel()
    let origin = clock.now
    let ordered = script.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
      .map(\.element)
    let task = spawnTask(name: "signal script") {
      for delivery in ordered {
        do {
          try await clock.sleep(until: origin.advanced(by: delivery.at), tolerance: nil)
        } catch {
          return  // cancelled: the script stops, and the channel finishes with the sender
        }
        try? sender.send(delivery.signal)
      }
    }
    return ScriptedSignals(signals: receiver, task: task)
  }
}
