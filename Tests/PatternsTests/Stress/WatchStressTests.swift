import Patterns
import Testing

/// Watch under real threads: many senders bumping a counter, many observers (some with their waits
/// cancelled at random), observers coming and going. Every steady observer sees values only grow and
/// sees the final value before `.closed`; no waiter is left behind.
@Suite(.timeLimit(.minutes(2))) struct WatchStressTests {
  /// What one observer saw: the last value, and whether it ever went backwards.
  struct Observation: Sendable {
    var last = 0
    var wentBackwards = false
    var changes = 0
  }

  static func observe(_ receiver: Watch<Int>.Receiver, seed: UInt64, cancelSome: Bool) async -> Observation {
    var random = StressRandom(seed: seed)
    var observation = Observation()
    while true {
      let cancel = cancelSome && random.oneIn(3)
      let result = await Stress.maybeCancelled(cancel: cancel, yields: Int.random(in: 0..<3, using: &random))
      {
        try await receiver.changed()
      }
      switch result {
      case .success:
        let value = receiver.borrow()
        if value < observation.last { observation.wentBackwards = true }
        observation.last = value
        observation.changes += 1
      case .failure(WatchReceiveError.closed): return observation
      case .failure(is CancellationError): continue
      case .failure(let error):
        Issue.record("unexpected error \(error)")
        return observation
      }
    }
  }

  @Test func finalValueAlwaysObserved_withChurnAndCancellation() async throws {
    let senderCount = 4
    let bumps = Stress.count(2000)
    let final = senderCount * bumps
    let (sender, firstReceiver) = Watch<Int>.channel(0)
    let receivers = [firstReceiver] + (1..<6).map { _ in sender.subscribe() }
    let senders = StressHandOut((0..<senderCount).map { _ in sender.clone() })
    _ = consume sender
    let waitedFor = StressCounter()

    let observations = await withTaskGroup(of: Observation?.self) { group in
      for (index, receiver) in receivers.enumerated() {
        group.addTask { await Self.observe(receiver, seed: UInt64(index), cancelSome: index % 2 == 1) }
      }
      // `waitFor` the final value from fresh receivers: it must come, and be exactly it.
      for _ in 0..<4 {
        let receiver = firstReceiver.clone()
        group.addTask {
          if let value = try? await receiver.waitFor({ $0 == final }), value == final {
            waitedFor.increment()
          }
          return nil
        }
      }
      // Observers that come and go, some mid-wait.
      for churner in 0..<4 {
        group.addTask {
          var random = StressRandom(seed: 50 + UInt64(churner))
          for _ in 0..<Stress.count(100) {
            let receiver = firstReceiver.clone()
            _ = await Stress.maybeCancelled(cancel: random.oneIn(2), yields: 1) {
              try await receiver.changed()
            }
          }
          return nil
        }
      }
      for _ in 0..<senderCount {
        group.addTask {
          guard let sender = senders.take() else { return nil }
          for bump in 0..<bumps {
            sender.sendModify { $0 += 1 }
            if bump % 64 == 0 { await Task.yield() }
          }
          return nil
        }
      }
      var observations: [Observation] = []
      for await observation in group {
        if let observation { observations.append(observation) }
      }
      return observations
    }
    #expect(observations.count == receivers.count)
    for observation in observations {
      #expect(observation.last == final)
      #expect(!observation.wentBackwards)
    }
    #expect(waitedFor.count == 4)
    #expect(firstReceiver.borrow() == final)
    #expect(firstReceiver.waiterCountForTesting == 0)
  }
}
