import Patterns
import Synchronization

/// W1, W2, W7: our mpsc channel against AsyncStream and a bare continuation.
enum MPSCWorkloads {
  static let messages = 1_000_000
  static let producers = 4
  static let capacity = 100

  // MARK: W1 / W2: mpsc

  /// Our bounded channel: `producers` senders, one receiver that takes every message.
  static func mpsc(producers: Int) -> WorkloadBody {
    { scale in
      let perProducer = messages / scale / producers
      let total = perProducer * producers
      let (sender, receiver) = MPSC<Int>.channel(capacity: capacity)
      let senders = (0..<producers).map { _ in sender.clone() }
      return await timed(operations: total) {
        await withTaskGroup(of: Void.self) { group in
          for producer in senders {
            group.addTask {
              for value in 0..<perProducer { try? await producer.send(value) }
            }
          }
          var received = 0
          while received < total, await receiver.receive() != nil { received += 1 }
        }
      }
    }
  }

  /// AsyncStream's closest thing to a bounded channel: `.bufferingOldest(capacity)`, and a producer
  /// that retries (after a yield) when its value was dropped. It has no back-pressure to wait on.
  static func asyncStreamBounded(producers: Int) -> WorkloadBody {
    { scale in
      let perProducer = messages / scale / producers
      let total = perProducer * producers
      let (stream, continuation) = AsyncStream.makeStream(
        of: Int.self, bufferingPolicy: .bufferingOldest(capacity))
      return await timed(operations: total) {
        await withTaskGroup(of: Void.self) { group in
          for _ in 0..<producers {
            group.addTask {
              for value in 0..<perProducer {
                while case .dropped = continuation.yield(value) { await Task.yield() }
              }
            }
          }
          var received = 0
          for await _ in stream {
            received += 1
            if received == total { break }
          }
        }
      }
    }
  }

  /// AsyncStream unbounded: never waits, never drops; memory grows with the backlog.
  static func asyncStreamUnbounded(producers: Int) -> WorkloadBody {
    { scale in
      let perProducer = messages / scale / producers
      let total = perProducer * producers
      let (stream, continuation) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .unbounded)
      return await timed(operations: total) {
        await withTaskGroup(of: Void.self) { group in
          for _ in 0..<producers {
            group.addTask { for value in 0..<perProducer { continuation.yield(value) } }
          }
          var received = 0
          for await _ in stream {
            received += 1
            if received == total { break }
          }
        }
      }
    }
  }

  static let w1Bounded = Comparison(
    id: "W1a", title: "mpsc: 1 producer → 1 consumer, capacity 100, 1,000,000 Ints",
    counterpart: "AsyncStream(.bufferingOldest(100)) with retry on drop: the nearest bounded buffer; "
      + "it has no back-pressure, so a full buffer drops and the producer must poll",
    versus: "AsyncStream(.bufferingOldest(100))",
    target: "≤ 80 ns per message on one thread, ≥ 15× faster than AsyncStream",
    meets: Target.all(Target.atMost(80, oneThreadOnly: true), Target.ratioAtMost(1.0 / 15)),
    ours: mpsc(producers: 1), theirs: asyncStreamBounded(producers: 1))

  static let w1Unbounded = Comparison(
    id: "W1b", title: "mpsc: 1 producer → 1 consumer, capacity 100, 1,000,000 Ints",
    counterpart: "AsyncStream(.unbounded): never waits, so no back-pressure and an unbounded backlog",
    versus: "AsyncStream(.unbounded)",
    target: "≤ 80 ns per message on one thread, ≥ 15× faster than AsyncStream",
    meets: Target.all(Target.atMost(80, oneThreadOnly: true), Target.ratioAtMost(1.0 / 15)),
    ours: mpsc(producers: 1), theirs: asyncStreamUnbounded(producers: 1))

  static let w2Bounded = Comparison(
    id: "W2a", title: "mpsc: 4 producers × 250,000 → 1 consumer, capacity 100",
    counterpart: "AsyncStream(.bufferingOldest(100)) shared by 4 producers, retry on drop",
    versus: "AsyncStream(.bufferingOldest(100))",
    target: "≤ 80 ns per message on one thread, ≥ 15× faster than AsyncStream",
    meets: Target.all(Target.atMost(80, oneThreadOnly: true), Target.ratioAtMost(1.0 / 15)),
    ours: mpsc(producers: producers), theirs: asyncStreamBounded(producers: producers))

  static let w2Unbounded = Comparison(
    id: "W2b", title: "mpsc: 4 producers × 250,000 → 1 consumer, capacity 100",
    counterpart: "AsyncStream(.unbounded) shared by 4 producers",
    versus: "AsyncStream(.unbounded)",
    target: "≤ 80 ns per message on one thread, ≥ 15× faster than AsyncStream",
    meets: Target.all(Target.atMost(80, oneThreadOnly: true), Target.ratioAtMost(1.0 / 15)),
    ours: mpsc(producers: producers), theirs: asyncStreamUnbounded(producers: producers))

  // MARK: W7: ping-pong

  static let roundTrips = 100_000

  /// Our side of W7: a value bounces through two capacity-1 channels.
  static let pingPong: WorkloadBody = { scale in
    let trips = roundTrips / scale
    let (pingSender, pingReceiver) = MPSC<Int>.channel(capacity: 1)
    let (pongSender, pongReceiver) = MPSC<Int>.channel(capacity: 1)
    return await timed(operations: trips) {
      await withTaskGroup(of: Void.self) { group in
        group.addTask {
          for _ in 0..<trips {
            guard let value = await pingReceiver.receive() else { return }
            try? await pongSender.send(value)
          }
        }
        for trip in 0..<trips {
          try? await pingSender.send(trip)
          _ = await pongReceiver.receive()
        }
      }
    }
  }

  /// The same bounce through two `Mailbox`es, each take cancellable or not.
  static func mailboxPingPong(cancellable: Bool) -> WorkloadBody {
    { scale in
      let trips = roundTrips / scale
      let ping = Mailbox()
      let pong = Mailbox()
      return await timed(operations: trips) {
        await withTaskGroup(of: Void.self) { group in
          group.addTask {
            for _ in 0..<trips {
              let taken = cancellable ? await ping.takeCancellable() : await ping.take()
              guard let value = taken else { return }
              pong.put(value)
            }
          }
          for trip in 0..<trips {
            ping.put(trip)
            _ = cancellable ? await pong.takeCancellable() : await pong.take()
          }
        }
      }
    }
  }

  static let w7Bare = Comparison(
    id: "W7a", title: "ping-pong: 100,000 round trips through two capacity-1 mpsc channels",
    counterpart: "two one-slot mailboxes on a bare UnsafeContinuation: the floor for any async hand-off",
    versus: "the bare continuation",
    target: "none: the floor for scale; a wait that ends on cancellation is held to W7b's",
    ours: pingPong, theirs: mailboxPingPong(cancellable: false))

  static let w7Cancellable = Comparison(
    id: "W7b", title: "ping-pong: 100,000 round trips through two capacity-1 mpsc channels",
    counterpart: "the same mailboxes with each take in withTaskCancellationHandler: the floor for a hand-off "
      + "that ends when its task is cancelled, as every wait in our channel does",
    versus: "the cancellable continuation",
    target: "≤ 1.2× the counterpart",
    meets: Target.ratioAtMost(1.2),
    ours: pingPong, theirs: mailboxPingPong(cancellable: true))

}

/// A one-slot mailbox on a bare `UnsafeContinuation`: the least any async hand-off can do. With
/// `takeCancellable()`, the least a hand-off that honours task cancellation can do.
final class Mailbox: Sendable {
  private enum State {
    case empty
    case value(Int)
    case waiting(UnsafeContinuation<Int?, Never>)
  }

  private let state = Mutex(State.empty)

  func put(_ value: Int) {
    let waiter = state.withLock { state -> UnsafeContinuation<Int?, Never>? in
      if case .waiting(let continuation) = state {
        state = .empty
        return continuation
      }
      state = .value(value)
      return nil
    }
    waiter?.resume(returning: value)
  }

  /// Waits for the value; cannot be cancelled.
  func take() async -> Int? {
    await withUnsafeContinuation { continuation in enqueue(continuation, checkingCancellation: false) }
  }

  /// Waits for the value, or returns `nil` once the task is cancelled: the handler ends the wait,
  /// and a cancellation that came before the wait began is seen under the lock.
  func takeCancellable() async -> Int? {
    await withTaskCancellationHandler {
      await withUnsafeContinuation { continuation in enqueue(continuation, checkingCancellation: true) }
    } onCancel: {
      let waiter = state.withLock { state -> UnsafeContinuation<Int?, Never>? in
        guard case .waiting(let continuation) = state else { return nil }
        state = .empty
        return continuation
      }
      waiter?.resume(returning: nil)
    }
  }

  /// Whether a take is parked now (for tests).
  var hasWaiter: Bool {
    state.withLock { state in
      if case .waiting = state { return true }
      return false
    }
  }

  private func enqueue(_ continuation: UnsafeContinuation<Int?, Never>, checkingCancellation: Bool) {
    let ready = state.withLock { state -> Int?? in
      if case .value(let value) = state {
        state = .empty
        return .some(value)
      }
      if checkingCancellation && Task.isCancelled { return .some(nil) }
      state = .waiting(continuation)
      return nil
    }
    if let ready { continuation.resume(returning: ready) }
  }
}
