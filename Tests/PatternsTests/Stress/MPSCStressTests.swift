import Patterns
import Synchronization
import Testing

/// MPSC under real threads: producers sending into a small bounded channel (so sends wait), some
/// sends and receives cancelled at random, producers' senders dropped as they finish. Every value
/// whose send returned is received exactly once, in its producer's order; a value whose send was
/// cancelled is never received; no waiter is left behind.
@Suite(.timeLimit(.minutes(2))) struct MPSCStressTests {
  struct Message: Sendable, Hashable {
    var producer: Int
    var sequence: Int
  }

  /// Values whose `send` returned, and values whose `send` threw.
  final class Sent: Sendable {
    private let state = Lock<(delivered: Set<Message>, refused: Set<Message>)>(([], []))
    func record(_ message: Message, delivered: Bool) {
      state.withLock { _ = delivered ? $0.delivered.insert(message) : $0.refused.insert(message) }
    }
    var delivered: Set<Message> { state.withLock { $0.delivered } }
    var refused: Set<Message> { state.withLock { $0.refused } }
  }

  @Test(arguments: [1, 8])
  func everySentValueReceivedExactlyOnce_withCancelledSendsAndReceives(capacity: Int) async {
    let producers = 4
    let perProducer = Stress.count(1000)
    let (sender, receiver) = MPSC<Message>.channel(capacity: capacity)
    let senders = StressHandOut((0..<producers).map { _ in sender.clone() })
    _ = consume sender
    let sent = Sent()

    let received = await withTaskGroup(of: [Message]?.self) { group in
      for producer in 0..<producers {
        group.addTask {
          guard let sender = senders.take() else { return nil }
          var random = StressRandom(seed: UInt64(producer))
          for sequence in 0..<perProducer {
            let message = Message(producer: producer, sequence: sequence)
            let result = await Stress.maybeCancelled(
              cancel: random.oneIn(5), yields: Int.random(in: 0..<3, using: &random)
            ) {
              try await sender.send(message)
            }
            sent.record(message, delivered: (try? result.get()) != nil)
          }
          return nil
        }
      }
      group.addTask {
        var random = StressRandom(seed: 99)
        var messages: [Message] = []
        while true {
          let result = await Stress.maybeCancelled(cancel: random.oneIn(4), yields: 1) {
            let value = await receiver.receive()
            return (value, Task.isCancelled)
          }
          guard case .success(let (value, cancelled)) = result else { continue }
          if let value {
            messages.append(value)
          } else if !cancelled {
            return messages  // every sender gone and the buffer drained
          }
        }
      }
      var received: [Message] = []
      for await messages in group { received += messages ?? [] }
      return received
    }
    let delivered = sent.delivered
    #expect(delivered.count + sent.refused.count == producers * perProducer)
    #expect(received.count == delivered.count, "a value was lost or received twice")
    #expect(Set(received) == delivered, "what was received is not what was sent")
    var next = Array(repeating: -1, count: producers)
    var inOrder = true
    for message in received {
      inOrder = inOrder && message.sequence > next[message.producer]
      next[message.producer] = message.sequence
    }
    #expect(inOrder, "a producer's values arrived out of order")
    #expect(receiver.waiterCountForTesting == 0)
  }
}
