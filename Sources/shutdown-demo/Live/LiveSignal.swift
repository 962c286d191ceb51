import Patterns

/// A live run's ``StorySignal``: the process's real signals, read by one task from the library's
/// ``ProcessSignals``, and the escalation ladder for stories that do not climb it themselves.
///
/// Two kinds of story read signals, and the ladder belongs to whoever reads them all:
/// - A *pattern story* waits for "the" signal (``arrival(on:)`` and friends). The first shutdown
///   signal (SIGTERM or SIGINT) is that arrival. It knows nothing of repeats, so the run climbs the
///   ladder for it: the 2nd shutdown signal stops the waiting at once (``Rung/stopWaiting``: the run
///   cancels the story's task, its supervisors abort what is left, the summary is still printed, and
///   the process exits 128+n); the 3rd exits at once with 128+n (``Rung/exitNow``). A SIGHUP is
///   not a shutdown: it is noted and ignored (``Rung/ignored``).
/// - A story that takes every signal (``signals(on:)``) hands them to the library's
///   `GracefulShutdown`, which has its own ladder (and its own SIGHUP reload). From then on the run
///   climbs nothing: it would cancel or exit under the coordinator's feet.
///
/// ```
/// state            event                       next state        what happens (outside the lock)
/// runner-owned     1st SIGTERM/SIGINT          runner-owned      arrival: waits for "the" signal return;
///                                                                rung .arrived(signal)
/// runner-owned     2nd                         runner-owned      rung .stopWaiting(signal)
/// runner-owned     3rd and later               runner-owned      rung .exitNow(signal)
/// runner-owned     SIGHUP                      runner-owned      rung .ignored(signal)
/// any              signals(on:)                story-owned       a new receiver; unread signals replayed
/// story-owned      any signal                  story-owned       forwarded to the newest receiver
/// ```
///
/// Every signal is also kept for the story receivers: until one is taken, signals wait in `unread`
/// (so ``signals(on:)`` gives a story every signal from the start, the first included), and a
/// signal whose receiver is gone waits there for the next one (a story that runs its service
/// more than once takes a receiver per run).
final class LiveSignal: StorySignal {
  /// A step of the ladder the run takes for a pattern story.
  enum Rung: Sendable, Equatable {
    /// The 1st shutdown signal: "the" arrival (the run says so only for a story that waits for none).
    case arrived(ShutdownSignal)
    /// The 2nd shutdown signal: stop waiting, abort what is left, still print the summary.
    case stopWaiting(ShutdownSignal)
    /// The 3rd (and later) shutdown signal: exit now.
    case exitNow(ShutdownSignal, ordinal: Int)
    /// A signal that is not a shutdown (SIGHUP), in a story that does not reload.
    case ignored(ShutdownSignal)
  }

  private let state = Lock(LiveSignalState())
  /// Cancelled by the first shutdown signal: the arrival every pattern-story wait ends on.
  private let arrived = CancellationToken()
  private let onRung: @Sendable (Rung) -> Void

  /// - Parameter onRung: what the run does at each rung of the ladder; called from the task that
  ///   reads the signals, in order.
  init(onRung: @escaping @Sendable (Rung) -> Void) { self.onRung = onRung }

  /// Reads `source` until it finishes (``ProcessSignals/cancel()``): the one task that sees every
  /// real signal.
  func read(_ source: ProcessSignals) -> Task<Void, Never> {
    Task { [self] in
      while let signal = await source.signals.receive() { deliver(signal) }
    }
  }

  /// One real signal: decided under the lock, acted on outside it.
  func deliver(_ signal: ShutdownSignal) {
    let action = state.withLock { $0.receive(signal, at: ContinuousClock.now) }
    if action.arrives { arrived.cancel() }
    if let (receiver, signal) = action.forward {
      do {
        try receiver.send(signal)
      } catch {
        // That receiver is gone (its service has stopped): keep the signal for the next one.
        drain(state.withLock { $0.receiverGone(receiver, unread: signal) })
      }
    }
    if let rung = action.rung { onRung(rung) }
  }

  // MARK: StorySignal

  func arrival(on context: ScenarioContext) async -> String {
    await arrived.cancelled()
    // Also returns when the story's task is cancelled, which only the 2nd signal does: by then
    // the first has arrived.
    return state.withLock { $0.first?.signal.name } ?? "no signal"
  }

  func sleep(for duration: Duration, orArrival context: ScenarioContext) async -> String? {
    if !arrived.isCancelled {
      await withTaskGroup(of: Void.self) { group in
        group.addTask { try? await context.sleep(for: duration) }
        group.addTask { [arrived] in await arrived.cancelled() }
        await group.next()
        group.cancelAll()
      }
    }
    return arrived.isCancelled ? await arrival(on: context) : nil
  }

  func arrival(plus delay: Duration, on context: ScenarioContext) async {
    _ = await arrival(on: context)
    guard let first = state.withLock({ $0.first }) else { return }
    let left = delay - first.at.duration(to: .now)
    if left > .zero { try? await context.sleep(for: left) }
  }

  func signals(on context: ScenarioContext) -> MPSC<ShutdownSignal>.Receiver {
    let (sender, receiver) = MPSC<ShutdownSignal>.unboundedChannel()
    drain(state.withLock { $0.subscribe(sender) })
    return receiver
  }

  var escalation: String? { escalatedBy.map { "the 2nd \($0.name)" } }

  /// The 2nd shutdown signal, once it has stopped a pattern story's waiting.
  var escalatedBy: ShutdownSignal? { state.withLock { $0.escalatedBy } }

  /// Sends replayed signals into a new receiver, outside the lock, until none is left: while a
  /// replay runs, new signals queue behind it in `unread` rather than overtake it.
  private func drain(_ replay: LiveSignalState.Replay?) {
    guard var replay else { return }
    while true {
      for signal in replay.signals { try? replay.receiver.send(signal) }
      guard let more = state.withLock({ $0.replayed(replay.receiver) }) else { return }
      replay = more
    }
  }
}

/// The state ``LiveSignal`` keeps under its lock, and every transition (see the table there).
struct LiveSignalState: Sendable {
  /// Who climbs the ladder: the run, until a story takes every signal.
  enum Owner: Sendable { case runner, story }

  var owner = Owner.runner
  /// The first shutdown signal and when it came: "the" arrival.
  var first: (signal: ShutdownSignal, at: ContinuousClock.Instant)?
  /// How many shutdown signals (not SIGHUP) have come.
  var shutdownCount = 0
  /// The 2nd shutdown signal, once it has stopped a pattern story's waiting.
  var escalatedBy: ShutdownSignal?
  /// The newest story receiver, when no replay into it is running.
  var receiver: MPSC<ShutdownSignal>.UnboundedSender?
  /// A receiver being replayed into: new signals go to `unread` meanwhile.
  var replaying: MPSC<ShutdownSignal>.UnboundedSender?
  /// Signals no story receiver has taken yet, in order.
  var unread: [ShutdownSignal] = []

  /// What to do after a signal came.
  struct Action {
    var arrives = false
    var forward: (MPSC<ShutdownSignal>.UnboundedSender, ShutdownSignal)?
    var rung: LiveSignal.Rung?
  }

  /// Signals to send into a receiver, outside the lock.
  struct Replay {
    var receiver: MPSC<ShutdownSignal>.UnboundedSender
    var signals: [ShutdownSignal]
  }

  /// A signal came: count it, keep it for the story's receiver, and pick the ladder's rung.
  mutating func receive(_ signal: ShutdownSignal, at now: ContinuousClock.Instant) -> Action {
    var action = Action()
    if let receiver {
      action.forward = (receiver, signal)
    } else {
      unread.append(signal)  // no receiver yet, or a replay is running: it waits its turn
    }
    guard signal != .hangup else {
      if owner == .runner { action.rung = .ignored(signal) }
      return action
    }
    shutdownCount += 1
    if shutdownCount == 1 {
      first = (signal, now)
      action.arrives = true
    }
    guard owner == .runner else { return action }  // the story's coordinator climbs its own ladder
    if shutdownCount == 1 {
      action.rung = .arrived(signal)
    } else if shutdownCount == 2 {
      escalatedBy = signal
      action.rung = .stopWaiting(signal)
    } else if shutdownCount >= 3 {
      action.rung = .exitNow(signal, ordinal: shutdownCount)
    }
    return action
  }

  /// A story takes every signal: the ladder is its own from now on; what it has not read yet is
  /// replayed into its receiver first.
  mutating func subscribe(_ sender: MPSC<ShutdownSignal>.UnboundedSender) -> Replay? {
    owner = .story
    receiver = nil
    replaying = sender
    defer { unread = [] }
    return Replay(receiver: sender, signals: unread)
  }

  /// A replay's batch was sent: the next batch, or (none left) the receiver takes live signals.
  /// `nil` also when a newer receiver has replaced this one meanwhile.
  mutating func replayed(_ sender: MPSC<ShutdownSignal>.UnboundedSender) -> Replay? {
    guard replaying === sender else { return nil }
    guard unread.isEmpty else {
      defer { unread = [] }
      return Replay(receiver: sender, signals: unread)
    }
    replaying = nil
    receiver = sender
    return nil
  }

  /// A forward failed because `sender`'s receiver is gone: keep `signal` for the next receiver.
  mutating func receiverGone(_ sender: MPSC<ShutdownSignal>.UnboundedSender, unread signal: ShutdownSignal)
    -> Replay?
  {
    if receiver === sender { receiver = nil }
    // A newer receiver taking live signals gets it now (only the reading task forwards, so nothing
    // overtakes it); otherwise it waits in `unread` for a replay, running or to come.
    if let receiver { return Replay(receiver: receiver, signals: [signal]) }
    unread.append(signal)
    return nil
  }
}
