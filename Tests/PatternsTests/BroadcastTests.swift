import Patterns
import Testing

/// A message whose release the tests can observe through a weak reference.
private final class Payload: Sendable {}

@Suite("Broadcast")
struct BroadcastTests {
  // MARK: sharp edges, one test each

  @Test func lag_isReportedOnce_thenReadingResumesAtTheOldestHeldValue() throws {
    let (tx, rx) = Broadcast<Int>.channel(capacity: 2)
    for value in 1...5 { try tx.send(value) }
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 3)) { try rx.tryReceive() }
    #expect(try rx.tryReceive() == 4)
    #expect(try rx.tryReceive() == 5)
    #expect(throws: BroadcastTryReceiveError.empty) { try rx.tryReceive() }
  }

  @Test func lag_isPerReceiver_aFastReceiverNeverNotices() throws {
    let (tx, slow) = Broadcast<Int>.channel(capacity: 2)
    let fast = tx.subscribe()
    for value in 1...4 {
      try tx.send(value)
      #expect(try fast.tryReceive() == value)
    }
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 2)) { try slow.tryReceive() }
    #expect(try slow.tryReceive() == 3)
  }

  @Test func lagCounts_andRecovery_afterTheRingWrapsManyTimes() throws {
    let (tx, rx) = Broadcast<Int>.channel(capacity: 3)
    for value in 1...10 { try tx.send(value) }
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 7)) { try rx.tryReceive() }
    #expect([try rx.tryReceive(), try rx.tryReceive(), try rx.tryReceive()] == [8, 9, 10])
    for value in 11...13 { try tx.send(value) }  // exactly capacity: no lag
    #expect([try rx.tryReceive(), try rx.tryReceive(), try rx.tryReceive()] == [11, 12, 13])
  }

  @Test func capacity_isExact_notRoundedUpToAPowerOfTwo() throws {
    let (tx, rx) = Broadcast<Int>.channel(capacity: 3)
    for value in 1...4 { try tx.send(value) }
    // Tokio would hold 4 here (capacity rounded up) and report no lag.
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 1)) { try rx.tryReceive() }
    #expect(tx.count == 3)
  }

  @Test func zeroCapacity_isAPreconditionFailure() async {
    await #expect(processExitsWith: .failure) {
      _ = Broadcast<Int>.channel(capacity: 0)
    }
  }

  @Test func lastSenderGone_receiversDrainTheBuffer_thenGetClosed() throws {
    let (tx, rx) = Broadcast<Int>.channel(capacity: 4)
    try tx.send(1)
    try tx.send(2)
    _ = consume tx
    #expect(rx.isClosed)
    #expect(try rx.tryReceive() == 1)
    #expect(try rx.tryReceive() == 2)
    #expect(throws: BroadcastTryReceiveError.closed) { try rx.tryReceive() }
  }

  @Test func lateSubscriber_seesOnlyWhatIsSentAfterSubscribing() throws {
    let (tx, early) = Broadcast<String>.channel(capacity: 4)
    try tx.send("shutdown")
    let late = tx.subscribe()
    #expect(try early.tryReceive() == "shutdown")
    #expect(throws: BroadcastTryReceiveError.empty) { try late.tryReceive() }
    try tx.send("after")
    #expect(try late.tryReceive() == "after")
  }

  @Test func sendWithoutReceivers_throws_handsTheValueBack_andStoresNothing() throws {
    let (tx, rx) = Broadcast<String>.channel(capacity: 4)
    _ = consume rx
    #expect(tx.receiverCount == 0)
    do {
      try tx.send("lost")
      Issue.record("send succeeded with no receivers")
    } catch {
      #expect(error.value == "lost")
    }
    let late = tx.subscribe()
    #expect(tx.isEmpty)
    #expect(throws: BroadcastTryReceiveError.empty) { try late.tryReceive() }
  }

  @Test func resubscribe_startsAtTheTail_notAtTheOriginalsPosition() throws {
    let (tx, rx) = Broadcast<Int>.channel(capacity: 4)
    try tx.send(1)
    try tx.send(2)
    let again = rx.resubscribe()
    #expect(again.count == 0)
    #expect(rx.count == 2)
    try tx.send(3)
    #expect(try again.tryReceive() == 3)
    #expect(try rx.tryReceive() == 1)
  }

  @Test func cancellingAWaitingReceive_throwsCancellationError_leavesNoWaiter_andLosesNoMessage() throws {
    let result = Simulation.run { clock in
      let (tx, rx) = Broadcast<Int>.channel(capacity: 4)
      let waiter = spawnTask(name: "waiter") { try await rx.receive() }
      try await clock.sleep(for: .seconds(1))
      waiter.cancel()
      let outcome = await waiter.result
      try tx.send(7)  // nobody waits any more: the message stays for the receiver
      return (outcome, try rx.tryReceive())
    }
    let (outcome, next) = try result.get()
    #expect(throws: CancellationError.self) { try outcome.get() }
    #expect(next == 7)
    #expect(result.deadlocks.isEmpty && result.leftovers.isEmpty)
  }

  @Test func receive_inAnAlreadyCancelledTask_returnsAnUnreadMessage_butDoesNotWait() throws {
    let result = Simulation.run { _ in
      let (tx, rx) = Broadcast<Int>.channel(capacity: 4)
      try tx.send(1)
      return await spawnTask(name: "cancelled") { () async -> [String] in
        withUnsafeCurrentTask { $0?.cancel() }
        let first = (try? await rx.receive()).map { "\($0)" } ?? "threw"
        var second = "returned"
        do { _ = try await rx.receive() } catch { second = "\(type(of: error))" }
        return [first, second]
      }.value
    }
    #expect(try result.get() == ["1", "CancellationError"])
  }

  @Test func unreadMessages_areReleased_whenTheirLastReceiverGoes() throws {
    let (tx, rx) = Broadcast<Payload>.channel(capacity: 4)
    weak var weakPayload: Payload?
    do {
      let payload = Payload()
      weakPayload = payload
      try tx.send(payload)
    }
    #expect(weakPayload != nil)
    _ = consume rx
    #expect(weakPayload == nil)
    #expect(tx.isEmpty)
  }

  @Test func aMessage_isReleasedOnceEveryReceiverHasReadIt() throws {
    let (tx, rx1) = Broadcast<Payload>.channel(capacity: 4)
    let rx2 = tx.subscribe()
    weak var weakPayload: Payload?
    do {
      let payload = Payload()
      weakPayload = payload
      try tx.send(payload)
    }
    _ = try rx1.tryReceive()
    #expect(weakPayload != nil && tx.count == 1)
    _ = try rx2.tryReceive()
    #expect(weakPayload == nil && tx.isEmpty)
  }

  @Test func closed_returnsWhenTheLastReceiverGoes() throws {
    let result = Simulation.run { clock in
      let (tx, rx) = Broadcast<Int>.channel(capacity: 1)
      var second: Broadcast<Int>.Receiver? = tx.subscribe()
      let watcher = spawnTask(name: "watcher") { () async -> Duration in
        await tx.closed()
        return clock.now.offset
      }
      try await clock.sleep(for: .seconds(1))
      second = nil
      try await clock.sleep(for: .seconds(1))
      _ = consume rx
      _ = second
      return await watcher.value
    }
    #expect(try result.get() == .seconds(2))
  }

  @Test func waitingReceivers_wakeInTheOrderTheyBeganWaiting() throws {
    let result = Simulation.run { clock in
      let (tx, first) = Broadcast<Int>.channel(capacity: 4)
      let receivers = [first, tx.subscribe(), tx.subscribe()]
      let order = Recorder()
      await withTaskGroup(of: Void.self) { group in
        for index in [2, 0, 1] {
          group.addTask {
            _ = try? await receivers[index].receive()
            order.append("\(index)")
          }
          try? await clock.sleep(for: .milliseconds(10))
        }
        _ = try? tx.send(1)
      }
      return order.values
    }
    #expect(try result.get() == ["2", "0", "1"])
  }

  @Test func receive_withAMessageUnread_doesNotSuspend() throws {
    let result = Simulation.run { _ in
      let (tx, rx) = Broadcast<Int>.channel(capacity: 4)
      try tx.send(1)
      let order = Recorder()
      let other = spawnTask(name: "other") { order.append("other") }
      _ = try await rx.receive()
      order.append("main")
      await other.value
      return order.values
    }
    #expect(try result.get() == ["main", "other"])
  }

  @Test func deadlockReport_namesTheWaitingReceive_andHowManySendersAreAlive() throws {
    let result = Simulation.run { _ in
      let (tx, rx) = Broadcast<Int>.channel(capacity: 4)
      let tx2 = tx.clone()
      _ = try? await rx.receive()
      _ = (tx, tx2)
    }
    #expect(
      result.deadlocks.first?.description
        == "deadlock: main waits on broadcast receive; 2 senders alive, nothing unread")
  }

  @Test func receiveError_lagged_isThrownByTheAsyncReceive_too() throws {
    let result = Simulation.run { _ in
      let (tx, rx) = Broadcast<Int>.channel(capacity: 1)
      try tx.send(1)
      try tx.send(2)
      var events: [String] = []
      do { _ = try await rx.receive() } catch { events.append("\(error)") }
      events.append("\(try await rx.receive())")
      return events
    }
    #expect(try result.get() == ["receiver lagged: missed 1 message(s)", "2"])
  }

  // MARK: mirrors of tokio/tests/sync_broadcast.rs

  @Test func send_try_recv_bounded() throws {
    let (tx, rx) = Broadcast<String>.channel(capacity: 16)
    #expect(throws: BroadcastTryReceiveError.empty) { try rx.tryReceive() }
    #expect(try tx.send("hello") == 1)
    #expect(try rx.tryReceive() == "hello")
    #expect(throws: BroadcastTryReceiveError.empty) { try rx.tryReceive() }
  }

  @Test func send_two_recv() throws {
    let (tx, rx1) = Broadcast<String>.channel(capacity: 16)
    let rx2 = tx.subscribe()
    #expect(try tx.send("hello") == 2)
    #expect(try rx1.tryReceive() == "hello")
    #expect(try rx2.tryReceive() == "hello")
    #expect(throws: BroadcastTryReceiveError.empty) { try rx1.tryReceive() }
    #expect(throws: BroadcastTryReceiveError.empty) { try rx2.tryReceive() }
  }

  @Test func send_recv_bounded_and_send_two_recv_bounded() throws {
    let result = Simulation.run { clock in
      let (tx, rx1) = Broadcast<String>.channel(capacity: 16)
      let rx2 = tx.subscribe()
      let t1 = spawnTask(name: "rx1") { try await [rx1.receive(), rx1.receive()] }
      let t2 = spawnTask(name: "rx2") { try await [rx2.receive(), rx2.receive()] }
      try await clock.sleep(for: .seconds(1))
      try tx.send("hello")
      try await clock.sleep(for: .seconds(1))
      try tx.send("world")
      return try await [t1.value, t2.value]
    }
    #expect(try result.get() == [["hello", "world"], ["hello", "world"]])
  }

  @Test func send_slow_rx() throws {
    let (tx, rx1) = Broadcast<String>.channel(capacity: 16)
    let rx2 = tx.subscribe()
    try tx.send("one")
    try tx.send("two")
    #expect(try rx1.tryReceive() == "one")
    #expect(try rx1.tryReceive() == "two")
    try tx.send("three")
    #expect(try rx1.tryReceive() == "three")
    #expect([try rx2.tryReceive(), try rx2.tryReceive(), try rx2.tryReceive()] == ["one", "two", "three"])
  }

  @Test func drop_rx_while_values_remain() throws {
    let (tx, rx1) = Broadcast<String>.channel(capacity: 16)
    var rx2: Broadcast<String>.Receiver? = tx.subscribe()
    try tx.send("one")
    try tx.send("two")
    _ = try rx1.tryReceive()
    _ = try rx2?.tryReceive()
    rx2 = nil
    #expect(tx.count == 1)  // "two", for rx1
    _ = consume rx1
    #expect(tx.isEmpty && tx.receiverCount == 0)
  }

  @Test func lagging_rx() throws {
    let (tx, rx1) = Broadcast<String>.channel(capacity: 2)
    let rx2 = tx.subscribe()
    try tx.send("one")
    try tx.send("two")
    #expect(try rx1.tryReceive() == "one")
    try tx.send("three")
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 1)) { try rx2.tryReceive() }
    #expect(try rx2.tryReceive() == "two")
    #expect(try rx1.tryReceive() == "two")
    #expect(try rx1.tryReceive() == "three")
    try tx.send("four")
    try tx.send("five")
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 1)) { try rx2.tryReceive() }
    try tx.send("six")
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 1)) { try rx2.tryReceive() }
  }

  @Test func send_no_rx() throws {
    let (tx, rx) = Broadcast<String>.channel(capacity: 16)
    _ = consume rx
    #expect(throws: Broadcast<String>.SendError.self) { try tx.send("hello") }
    let rx2 = tx.subscribe()
    try tx.send("world")
    #expect(try rx2.tryReceive() == "world")
  }

  @Test func dropping_tx_notifies_rx() throws {
    let result = Simulation.run { clock in
      let (tx, rx1) = Broadcast<Int>.channel(capacity: 16)
      let rx2 = tx.subscribe()
      var senders: [Broadcast<Int>.Sender] = [tx, tx.clone()]
      _ = consume tx
      let waits = [rx1, rx2].enumerated().map { index, rx in
        spawnTask(name: "rx\(index + 1)") { () async -> String in
          do {
            _ = try await rx.receive()
            return "value"
          } catch {
            return "\(error)@\(clock.now.offset)"
          }
        }
      }
      try await clock.sleep(for: .seconds(1))
      senders.removeFirst()  // one sender left: still open
      try await clock.sleep(for: .seconds(1))
      senders.removeAll()
      var outcomes: [String] = []
      for wait in waits { outcomes.append(await wait.value) }
      return outcomes
    }
    #expect(try result.get() == ["channel closed@2.0 seconds", "channel closed@2.0 seconds"])
  }

  @Test func single_capacity_recvs() throws {
    let (tx, rx) = Broadcast<Int>.channel(capacity: 1)
    try tx.send(1)
    #expect(try rx.tryReceive() == 1)
    #expect(throws: BroadcastTryReceiveError.empty) { try rx.tryReceive() }
  }

  @Test func single_capacity_recvs_after_drop() throws {
    do {
      let (tx, rx) = Broadcast<Int>.channel(capacity: 1)
      try tx.send(1)
      _ = consume tx
      #expect(try rx.tryReceive() == 1)
      #expect(throws: BroadcastTryReceiveError.closed) { try rx.tryReceive() }
    }
    do {
      let (tx, rx) = Broadcast<Int>.channel(capacity: 1)
      try tx.send(1)
      try tx.send(2)
      _ = consume tx
      #expect(throws: BroadcastTryReceiveError.lagged(missed: 1)) { try rx.tryReceive() }
      #expect(try rx.tryReceive() == 2)
      #expect(throws: BroadcastTryReceiveError.closed) { try rx.tryReceive() }
    }
  }

  @Test func dropping_sender_does_not_overwrite() throws {
    let (tx, rx) = Broadcast<Int>.channel(capacity: 2)
    try tx.send(1)
    try tx.send(2)
    _ = consume tx
    #expect(try rx.tryReceive() == 1)
    #expect(try rx.tryReceive() == 2)
    #expect(throws: BroadcastTryReceiveError.closed) { try rx.tryReceive() }
  }

  @Test func lagging_receiver_recovers_after_wrap_closed() throws {
    for (sent, missed) in [(3, 1), (4, 2)] {
      let (tx, rx) = Broadcast<Int>.channel(capacity: 2)
      for value in 1...sent { try tx.send(value) }
      _ = consume tx
      #expect(throws: BroadcastTryReceiveError.lagged(missed: missed)) { try rx.tryReceive() }
      #expect(try rx.tryReceive() == sent - 1)
      #expect(try rx.tryReceive() == sent)
      #expect(throws: BroadcastTryReceiveError.closed) { try rx.tryReceive() }
    }
  }

  @Test func lagging_receiver_recovers_after_wrap_open() throws {
    let (tx, rx) = Broadcast<Int>.channel(capacity: 2)
    for value in 1...3 { try tx.send(value) }
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 1)) { try rx.tryReceive() }
    #expect(try rx.tryReceive() == 2)
    #expect(try rx.tryReceive() == 3)
    #expect(throws: BroadcastTryReceiveError.empty) { try rx.tryReceive() }
  }

  @Test func receiver_len_with_lagged() throws {
    // Tokio's test uses capacity 3, which Tokio rounds up to 4; ours is exact, so we ask for 4.
    let (tx, rx) = Broadcast<Int>.channel(capacity: 4)
    for value in [10, 20, 30, 40] { try tx.send(value) }
    #expect(rx.count == 4)
    #expect(try rx.tryReceive() == 10)
    try tx.send(50)
    try tx.send(60)
    #expect(rx.count == 5)
    #expect(throws: BroadcastTryReceiveError.lagged(missed: 1)) { try rx.tryReceive() }
  }
}
