import Patterns
import Synchronization

/// W3 broadcast and W4 watch against AsyncStreams.
enum NotificationWorkloads {
  static let messages = 1_000_000

  // MARK: W3: broadcast

  static let receivers = 4

  static let w3 = Comparison(
    id: "W3", title: "broadcast: 1 sender → 4 receivers, capacity 1024, 1,000,000 messages, none lagged",
    counterpart: "4 AsyncStream(.unbounded) fed by one loop: the usual hand-rolled fan-out",
    versus: "4 AsyncStreams",
    target: "≤ 45 ns per delivery",
    meets: Target.atMost(45),
    ours: { scale in
      let count = messages / scale
      let (sender, first) = Broadcast<Int>.channel(capacity: 1024)
      let all = [first] + (1..<receivers).map { _ in sender.subscribe() }
      return await timed(operations: count * receivers) {
        await withTaskGroup(of: Void.self) { group in
          for receiver in all {
            group.addTask {
              for _ in 0..<count { _ = try? await receiver.receive() }
            }
          }
          for value in 0..<count {
            // Pace to the slowest receiver so nothing is overwritten unread.
            while sender.count >= 1024 { await Task.yield() }
            _ = try? sender.send(value)
          }
        }
      }
    },
    theirs: { scale in
      let count = messages / scale
      let streams = (0..<receivers).map { _ in AsyncStream.makeStream(of: Int.self) }
      return await timed(operations: count * receivers) {
        await withTaskGroup(of: Void.self) { group in
          for (stream, _) in streams {
            group.addTask {
              var seen = 0
              for await _ in stream {
                seen += 1
                if seen == count { break }
              }
            }
          }
          for value in 0..<count {
            for (_, continuation) in streams { continuation.yield(value) }
          }
        }
      }
    })

  // MARK: W4: watch

  static let updates = 1_000_000

  static let w4 = Comparison(
    id: "W4", title: "watch: 1,000,000 updates, the sender yielding after each, 4 receivers on changed()",
    counterpart: "4 AsyncStream(.bufferingNewest(1)): keep-the-latest with a stream per observer",
    versus: "4 AsyncStream(.bufferingNewest(1))",
    target: "≤ 600 ns per update with 4 receivers",
    meets: Target.atMost(600),
    ours: { scale in
      let count = updates / scale
      let (sender, first) = Watch<Int>.channel(-1)
      let all = [first] + (1..<receivers).map { _ in first.clone() }
      let observed = ArrivalCounter()
      var sample = await timed(operations: count) {
        await withTaskGroup(of: Void.self) { group in
          for receiver in all {
            group.addTask {
              while (try? await receiver.changed()) != nil {
                observed.increment()
                if receiver.borrowAndUpdate() == count - 1 { return }
              }
            }
          }
          for value in 0..<count {
            sender.sendReplace(value)
            await Task.yield()
          }
        }
      }
      sample.extra = [("updates observed per receiver", Double(observed.count) / Double(receivers))]
      return sample
    },
    theirs: { scale in
      let count = updates / scale
      let streams = (0..<receivers).map { _ in
        AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(1))
      }
      let observed = ArrivalCounter()
      var sample = await timed(operations: count) {
        await withTaskGroup(of: Void.self) { group in
          for (stream, _) in streams {
            group.addTask {
              for await value in stream {
                observed.increment()
                if value == count - 1 { break }
              }
            }
          }
          for value in 0..<count {
            for (_, continuation) in streams { continuation.yield(value) }
            await Task.yield()
          }
        }
      }
      sample.extra = [("updates observed per receiver", Double(observed.count) / Double(receivers))]
      return sample
    })

}
