// The small runtime pieces the Shutdown layer shares: a clock kept as closures, and a mailbox
// whose wait survives the caller's cancellation.
//
// Why a mailbox rather than `Task.sleep` in a task group: a shutdown often runs in a task that is
// already cancelled (the service's main task was cancelled, or a second Ctrl-C cancelled it), and a
// `Task.sleep` in a cancelled task throws at once, so every timeout measured there would fire at
// once. swift-service-lifecycle runs its cancellation timer in a separate unstructured task for this
// reason. Here every timer, and every step being timed, is a separate task started with
// ``spawnTask(name:priority:_:)`` (so inside a `Simulation` it stays on the simulated executor and
// the virtual clock drives it); each one reports into a ``Mailbox``, and the caller waits on the
// mailbox, which a cancelled caller can still wait on.

/// A clock, type-erased into closures so the coordinator can store `some Clock<Duration>` without
/// a generic parameter. Times are offsets from the moment the box was made.
struct ShutdownClock: Sendable {
  /// Time since the box was made.
  let elapsed: @Sendable () -> Duration
  /// Sleeps until `elapsed()` reaches the offset (returns at once for an offset in the past).
  let sleepUntil: @Sendable (Duration) async throws -> Void

  init<C: Clock<Duration>>(_ clock: C) {
    let origin = clock.now
    elapsed = { origin.duration(to: clock.now) }
    sleepUntil = { offset in try await clock.sleep(until: origin.advanced(by: offset), tolerance: nil) }
  }

  /// Starts a timer task that pushes `event` into `mailbox` at `offset`. Cancel the returned task
  /// when the timer is no longer wanted; a cancelled timer pushes nothing.
  @discardableResult
  func startTimer<Event: Sendable>(
    name: String, at offset: Duration, into mailbox: Mailbox<Event>, _ event: Event
  ) -> Task<Void, Never> {
    let sleepUntil = sleepUntil
    return spawnTask(name: name) {
      do {
        try await sleepUntil(offset)
      } catch {
        return  // cancelled: the timer is no longer wanted
      }
      mailbox.push(event)
    }
  }
}

/// A queue of events with one consumer whose wait does not end when the consumer's task is
/// cancelled, except once: the first time the waiting task is seen cancelled, it receives
/// `cancelEvent`, so it can react (escalate), and then keeps waiting for real events.
///
/// States: `queue` holds events nobody has taken; `waiter` is the consumer parked in ``next()``
/// (at most one). Transitions, each under the lock, continuations resumed after it:
/// - push, consumer parked → hand the event to it; push, nobody parked → append.
/// - next, queue not empty → take the oldest; queue empty → park (or take `cancelEvent` if the task
///   is already cancelled and it has not been delivered yet).
/// - cancellation of the parked task → deliver `cancelEvent` once; later cancellations do nothing.
final class Mailbox<Event: Sendable>: Sendable {
  private struct State {
    var queue: [Event] = []
    var head = 0
    var waiter: UnsafeContinuation<Event, Never>?
    var cancelDelivered = false

    mutating func pop() -> Event? {
      guard head < queue.count else { return nil }
      let event = queue[head]
      head += 1
      if head == queue.count {
        queue.removeAll(keepingCapacity: true)
        head = 0
      }
      return event
    }
  }

  private let state = Lock(State())
  private let cancelEvent: Event
  private let label: String

  /// - Parameters:
  ///   - label: names the wait in a simulation's deadlock report.
  ///   - cancelEvent: delivered once when the consumer's task is cancelled (and whenever a deadlock
  ///     is unwound).
  init(label: String, cancelEvent: Event) {
    self.label = label
    self.cancelEvent = cancelEvent
  }

  /// Adds an event; wakes the consumer if it is waiting. Callable from any task or thread.
  func push(_ event: Event) {
    let waiter = state.withLock { state -> UnsafeContinuation<Event, Never>? in
      if let waiter = state.waiter {
        state.waiter = nil
        return waiter
      }
      state.queue.append(event)
      return nil
    }
    waiter?.resume(returning: event)
  }

  /// The oldest event, waiting for one if none is queued. Only one task may call this at a time.
  func next() async -> Event {
    if let event = state.withLock({ $0.pop() }) { return event }
    let report = WaitReporting.observer?.begin(label) { [self] in push(cancelEvent) }
    defer { report?.end() }
    return await withTaskCancellationHandler {
      await withUnsafeContinuation { (continuation: UnsafeContinuation<Event, Never>) in
        let now = state.withLock { state -> Event? in
          if let event = state.pop() { return event }
          if Task.isCancelled, !state.cancelDelivered {
            state.cancelDelivered = true
            return cancelEvent
          }
          state.waiter = continuation
          return nil
        }
        if let now { continuation.resume(returning: now) }
      }
    } onCancel: {
      let waiter = state.withLock { state -> UnsafeContinuation<Event, Never>? in
        guard !state.cancelDelivered else { return nil }
        state.cancelDelivered = true
        if let waiter = state.waiter {
          state.waiter = nil
          return waiter
        }
        state.queue.append(cancelEvent)
        return nil
      }
      waiter?.resume(returning: cancelEvent)
    }
  }
}
