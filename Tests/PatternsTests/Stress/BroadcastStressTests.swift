import Patterns
import Testing

/// Broadcast under real threads: many senders, many receivers, receives cancelled at random,
/// receivers coming and going. Every value sent is received by every receiver present from start
/// to end, or accounted for as lagged; no waiter is left behind.
@Suite(.timeLimit(.minutes(2))) struct BroadcastStressTests {
  struct Message: Sendable, Hashable {
    var producer: Int
    var sequence: Int
  }

  /// What one receiver saw.
  struct Tally: Sendable {
    var received = 0
    var missed = 0
    var duplicates = 0
    var outOfOrder = 0
  }

  /// Reads until `.closed`, checking per-producer order; a receive is cancelled now and then and
  /// simply retried: a cancelled receive loses no value.
  static func drain(
    _ receiver: Broadcast<Message>.Receiver, producers: Int, seed: UInt64, cancelSome: Bool
  ) async -> Tally {
    var random = StressRandom(seed: seed)
    var tally = Tally()
    var next = Array(repeating: 0, count: producers)  // the smallest sequence still expected
    while true {
      let cancel = cancelSome && random.oneIn(4)
      let result = await Stress.maybeCancelled(cancel: cancel, yields: Int.random(in: 0..<3, using: &random))
      {
        try await receiver.receive()
      }
      switch result {
      case .success(let message):
        tally.received += 1
        if message.sequence < next[message.producer] {
          tally.duplicates += 1
        } else if message.sequence > next[message.producer], tally.missed == 0 {
          tally.outOfOrder += 1  // a gap without any lag reported
        }
        next[message.producer] = max(next[message.producer], message.sequence + 1)
      case .failure(BroadcastReceiveError.lagged(let missed)):
        tally.missed += missed
      case .failure(BroadcastReceiveError.closed):
        return tally
      case .failure(is CancellationError):
        continue
      case .failure(let error):
        Issue.record("unexpected error \(error)")
        return tally
      }
    }
  }

  @Test(arguments: [1, 16, 256])
  func everyValueReceivedOnceOrLagged_withChurnAndCancellation(capacity: Int) async {
    let producers = 4
    let perProducer = Stress.count(2000)
    let steadyReceivers = 6
    let (sender, firstReceiver) = Broadcast<Message>.channel(capacity: capacity)
    // Every steady receiver exists before the first send, so each must account for every message.
    let receivers = [firstReceiver] + (1..<steadyReceivers).map { _ in sender.subscribe() }
    // Each producer takes its own sender and drops it when done; the last drop closes the channel,
    // which ends every drain.
    let senders = StressHandOut((0..<producers).map { _ in sender.clone() })
    _ = consume sender
    let probe = firstReceiver
    let churned = StressCounter()

    let tallies = await withTaskGroup(of: Tally?.self) { group in
      for (index, receiver) in receivers.enumerated() {
        group.addTask {
          await Self.drain(receiver, producers: producers, seed: UInt64(index), cancelSome: index % 2 == 1)
        }
      }
      // Receivers that come and go while messages flow: subscribe, read a few, drop.
      for churner in 0..<4 {
        group.addTask {
          var random = StressRandom(seed: 100 + UInt64(churner))
          for _ in 0..<Stress.count(50) {
            let receiver = probe.resubscribe()
            for _ in 0..<Int.random(in: 0..<4, using: &random) {
              _ = await Stress.maybeCancelled(cancel: random.oneIn(2), yields: 1) {
                try await receiver.receive()
              }
            }
            churned.increment()
          }
          return nil
        }
      }
      for producer in 0..<producers {
        group.addTask {
          guard let sender = senders.take() else { return nil }
          for sequence in 0..<perProducer {
            _ = try? sender.send(Message(producer: producer, sequence: sequence))
            if sequence % 64 == 0 { await Task.yield() }
          }
          return nil
        }
      }
      var tallies: [Tally] = []
      for await tally in group {
        if let tally { tallies.append(tally) }
      }
      return tallies
    }
    #expect(tallies.count == steadyReceivers)
    #expect(churned.count == 4 * Stress.count(50))
    for tally in tallies {
      #expect(tally.received + tally.missed == producers * perProducer)
      #expect(tally.duplicates == 0)
      #expect(tally.outOfOrder == 0)
      if capacity >= producers * perProducer { #expect(tally.missed == 0) }
    }
    #expect(probe.waiterCountForTesting == 0)
    #expect(probe.receiverCountForTesting == steadyReceivers)
  }
}
