import Patterns
import Testing

/// Runs `body` in a fresh simulation and returns its value (failing the test on a deadlock).
private func simulate<T: Sendable>(
  _ body: @escaping @Sendable (VirtualClock) async throws -> T
) throws -> T {
  let result = Simulation.run(body)
  #expect(result.deadlocks.isEmpty)
  return try result.get()
}

@Suite("Watch")
struct WatchTests {
  // MARK: sharp edges, one test each

  @Test func initialValue_countsAsSeen_soTheFirstChangedWaitsForTheNextSend() throws {
    let woke = try simulate { clock in
      let (tx, rx) = Watch<String>.channel("one")
      #expect(try rx.hasChanged() == false)
      let waiter = spawnTask(name: "waiter") { () async throws -> Duration in
        try await rx.changed()
        return clock.now.offset
      }
      try await clock.sleep(for: .seconds(1))
      try tx.send("two")
      return try await waiter.value
    }
    #expect(woke == .seconds(1))
  }

  @Test func borrow_doesNotMarkSeen_butBorrowAndUpdateDoes() throws {
    let (tx, rx) = Watch<Int>.channel(0)
    try tx.send(1)
    #expect(rx.borrow() == 1)
    #expect(try rx.hasChanged() == true)
    #expect(rx.borrowAndUpdate() == 1)
    #expect(try rx.hasChanged() == false)
  }

  @Test func changed_returnsAtOnce_whenTheCurrentValueIsUnseen() throws {
    let order = try simulate { _ in
      let (tx, rx) = Watch<Int>.channel(0)
      try tx.send(1)
      let order = Recorder()
      let other = spawnTask(name: "other") { order.append("other") }
      try await rx.changed()  // does not suspend: `other` has not run yet
      order.append("main")
      await other.value
      return order.values
    }
    #expect(order == ["main", "other"])
  }

  @Test func busyLoop_hasChangedWithBorrow_neverMarksSeen_soAPollingLoopSpins() throws {
    let (tx, rx) = Watch<Int>.channel(0)
    try tx.send(1)
    var laps = 0
    while try rx.hasChanged(), laps < 100 {
      _ = rx.borrow()  // reads the value, leaves it unseen
      laps += 1
    }
    #expect(laps == 100)  // cut off: it would spin forever
    _ = rx.borrowAndUpdate()  // the fix: read *and* mark seen
    #expect(try rx.hasChanged() == false)
  }

  @Test func changed_afterBorrowOfAnUnseenValue_returnsAtOnce_butOnlyOnce() throws {
    let times = try simulate { clock in
      let (tx, rx) = Watch<Int>.channel(0)
      try tx.send(1)
      _ = rx.borrow()
      try await rx.changed()  // at once: 1 was unseen; now it is seen
      let first = clock.now.offset
      let second = spawnTask(name: "rx") { () async throws -> Duration in
        try await rx.changed()
        return clock.now.offset
      }
      try await clock.sleep(for: .seconds(1))
      try tx.send(2)
      return [first, try await second.value]
    }
    #expect(times == [.zero, .seconds(1)])
  }

  @Test func changedAfterClose_withAnUnseenValue_returnsOnce_thenThrows() async throws {
    let (tx, rx) = Watch<String>.channel("A")
    try tx.send("B")
    _ = consume tx
    try await rx.changed()
    #expect(rx.borrow() == "B")
    await #expect(throws: WatchReceiveError.closed) { try await rx.changed() }
  }

  @Test func changedAfterClose_withASeenValue_throws() async {
    let (tx, rx) = Watch<String>.channel("A")
    _ = consume tx
    await #expect(throws: WatchReceiveError.closed) { try await rx.changed() }
    #expect(rx.borrow() == "A")
  }

  @Test func sendIfModified_returningFalse_storesButDoesNotNotify() throws {
    let (tx, rx) = Watch<Int>.channel(0)
    let notified = tx.sendIfModified { value in
      value = 5
      return false
    }
    #expect(notified == false)
    #expect(rx.borrow() == 5)  // stored...
    #expect(try rx.hasChanged() == false)  // ...but nobody was told
    #expect(
      tx.sendIfModified {
        $0 += 1; return true
      })
    #expect(try rx.hasChanged() == true)
    #expect(rx.borrowAndUpdate() == 6)
  }

  @Test func send_withoutReceivers_throws_andStoresNothing_whileSendReplaceAndModifyStore() throws {
    let (tx, rx) = Watch<Int>.channel(0)
    _ = consume rx
    #expect(tx.isClosed)
    do {
      try tx.send(1)
      Issue.record("send succeeded with no receivers")
    } catch {
      #expect(error.value == 1)
    }
    #expect(tx.borrow() == 0)
    #expect(tx.sendReplace(2) == 0)
    tx.sendModify { $0 += 1 }
    #expect(tx.borrow() == 3)
  }

  @Test func lateSubscriber_seesTheCurrentValueAtOnce_asSeen() throws {
    let (tx, rx) = Watch<String>.channel("running")
    try tx.send("shutting down")
    let late = tx.subscribe()
    #expect(late.borrow() == "shutting down")
    #expect(try late.hasChanged() == false)
    #expect(try rx.hasChanged() == true)
  }

  @Test func waitFor_checksTheCurrentValueFirst_seenOrNot() throws {
    let value = try simulate { _ in
      let (tx, rx) = Watch<Int>.channel(3)
      let value = try await rx.waitFor { $0 == 3 }  // the initial (seen) value matches: no wait
      _ = tx
      return value
    }
    #expect(value == 3)
  }

  @Test func waitFor_waitsForAMatchingValue_andMarksItSeen() throws {
    let (value, changed) = try simulate { clock in
      let (tx, rx) = Watch<Int>.channel(0)
      let sender = spawnTask(name: "sender") {
        for step in 1...5 {
          try await clock.sleep(for: .milliseconds(100))
          try tx.send(step)
        }
      }
      let value = try await rx.waitFor { $0 >= 3 }
      let changed = try rx.hasChanged()
      try await sender.value
      return (value, changed)
    }
    #expect(value == 3 && changed == false)
  }

  @Test func waitFor_onAClosedChannel_returnsAMatchingValue_elseThrowsClosed() async throws {
    let (tx, rx) = Watch<String>.channel("A")
    try tx.send("B")
    _ = consume tx
    #expect(try await rx.waitFor { _ in true } == "B")
    await #expect(throws: WatchReceiveError.closed) { try await rx.waitFor { $0 == "C" } }
  }

  @Test func cancellingAWaitingChanged_throwsCancellationError_andLeavesNoWaiter() throws {
    let result = Simulation.run { clock in
      let (tx, rx) = Watch<Int>.channel(0)
      let waiter = spawnTask(name: "waiter") { try await rx.changed() }
      try await clock.sleep(for: .seconds(1))
      waiter.cancel()
      let outcome = await waiter.result
      try tx.send(1)
      return (outcome, try rx.hasChanged())
    }
    let (outcome, changed) = try result.get()
    #expect(throws: CancellationError.self) { try outcome.get() }
    #expect(changed)  // the cancelled wait did not mark the new value seen
    #expect(result.deadlocks.isEmpty && result.leftovers.isEmpty)
  }

  @Test func cancellingAWaitingWaitFor_throwsCancellationError() throws {
    let result = Simulation.run { clock in
      let (tx, rx) = Watch<Int>.channel(0)
      let waiter = spawnTask(name: "waiter") { try await rx.waitFor { $0 == 9 } }
      try await clock.sleep(for: .seconds(1))
      try tx.send(1)
      try await clock.sleep(for: .seconds(1))
      waiter.cancel()
      return await waiter.result
    }
    #expect(throws: CancellationError.self) { try result.get().get() }
    #expect(result.leftovers.isEmpty)
  }

  @Test func closed_returnsWhenTheLastReceiverGoes_andCancellationEndsItToo() throws {
    let times = try simulate { clock in
      let (tx, rx) = Watch<Int>.channel(0)
      let second = rx.clone()
      let cancelled = spawnTask(name: "cancelled") { await tx.closed() }
      let watcher = spawnTask(name: "watcher") { () async -> Duration in
        await tx.closed()
        return clock.now.offset
      }
      try await clock.sleep(for: .seconds(1))
      cancelled.cancel()
      await cancelled.value
      let cancelledAt = clock.now.offset
      try await clock.sleep(for: .seconds(1))
      _ = consume rx
      _ = consume second
      return [cancelledAt, await watcher.value]
    }
    #expect(times == [.seconds(1), .seconds(2)])
  }

  @Test func waitingReceivers_wakeInTheOrderTheyBeganWaiting() throws {
    let order = try simulate { clock in
      let (tx, first) = Watch<Int>.channel(0)
      let receivers = [first, tx.subscribe(), tx.subscribe()]
      let order = Recorder()
      await withTaskGroup(of: Void.self) { group in
        for index in [1, 2, 0] {
          group.addTask {
            try? await receivers[index].changed()
            order.append("\(index)")
          }
          try? await clock.sleep(for: .milliseconds(10))
        }
        _ = tx.sendReplace(1)
      }
      return order.values
    }
    #expect(order == ["1", "2", "0"])
  }

  @Test func deadlockReport_namesTheWaitingChanged() throws {
    let result = Simulation.run { _ in
      let (tx, rx) = Watch<Int>.channel(0)
      try? await rx.changed()
      _ = tx
    }
    #expect(
      result.deadlocks.first?.description
        == "deadlock: main waits on watch changed(); 1 sender alive, current value seen")
  }

  @Test func conflation_updatesEvery100ms_observerTaking1sPerValue_sees1_10_20_30() throws {
    let seen = try simulate { clock in
      let (tx, rx) = Watch<Int>.channel(0)
      let producer = spawnTask(name: "producer") {
        for value in 1...30 {
          try await clock.sleep(for: .milliseconds(100))
          tx.sendReplace(value)
        }
      }
      var seen: [Int] = []
      while true {
        do { try await rx.changed() } catch { break }
        seen.append(rx.borrowAndUpdate())
        try await clock.sleep(for: .seconds(1))
        if seen.last == 30 { break }
      }
      try await producer.value
      return seen
    }
    #expect(seen == [1, 10, 20, 30])
  }

  // MARK: mirrors of tokio/tests/sync_watch.rs

  @Test func single_rx_recv() throws {
    let outcomes = try simulate { clock in
      let (tx, rx) = Watch<String>.channel("one")
      let waiter = spawnTask(name: "rx") { () async -> [String] in
        var outcomes: [String] = []
        do {
          try await rx.changed()
          outcomes.append(rx.borrow())
          try await rx.changed()
        } catch {
          outcomes.append("\(error)")
        }
        outcomes.append(rx.borrow())
        return outcomes
      }
      try await clock.sleep(for: .seconds(1))
      try tx.send("two")
      try await clock.sleep(for: .seconds(1))
      _ = consume tx
      return await waiter.value
    }
    #expect(outcomes == ["two", "channel closed", "two"])
  }

  @Test func rx_version_underflow_and_rx_mark_changed() throws {
    let (tx, rx) = Watch<String>.channel("one")
    let rx2 = rx.clone()
    let rx3 = rx.clone()
    let rx4 = rx.clone()
    rx.markChanged()
    rx.markChanged()
    #expect(try rx.hasChanged())
    #expect(try rx2.hasChanged() == false)
    rx3.markChanged()
    #expect(rx3.borrow() == "one")
    #expect(try rx3.hasChanged())
    #expect(rx3.borrowAndUpdate() == "one")
    #expect(try rx3.hasChanged() == false)
    try tx.send("two")
    #expect(try rx4.hasChanged())
    #expect(rx4.borrowAndUpdate() == "two")
    rx4.markChanged()
    #expect(try rx4.hasChanged())
  }

  @Test func rx_mark_unchanged() throws {
    let (tx, rx) = Watch<String>.channel("one")
    let rx2 = rx.clone()
    rx.markChanged()
    rx.markUnchanged()
    #expect(try rx.hasChanged() == false)
    try tx.send("two")
    #expect(try rx2.hasChanged())
    rx2.markUnchanged()
    #expect(try rx2.hasChanged() == false)
    #expect(rx2.borrowAndUpdate() == "two")
  }

  @Test func multi_rx() throws {
    let values = try simulate { clock in
      let (tx, rx1) = Watch<String>.channel("one")
      let rx2 = rx1.clone()
      let tasks = [rx1, rx2].enumerated().map { index, rx in
        spawnTask(name: "rx\(index + 1)") { () async throws -> [String] in
          var values: [String] = []
          for _ in 0..<3 {
            try await rx.changed()
            values.append(rx.borrow())
          }
          return values
        }
      }
      for value in ["two", "three", "four"] {
        try await clock.sleep(for: .seconds(1))
        try tx.send(value)
      }
      var values: [[String]] = []
      for task in tasks { values.append(try await task.value) }
      return values
    }
    #expect(values == [["two", "three", "four"], ["two", "three", "four"]])
  }

  @Test func rx_observes_final_value() async throws {
    let (tx, rx) = Watch<String>.channel("one")
    try tx.send("two")
    try await rx.changed()
    try tx.send("three")
    _ = consume tx
    try await rx.changed()
    #expect(rx.borrow() == "three")
    await #expect(throws: WatchReceiveError.closed) { try await rx.changed() }
  }

  @Test func poll_close() throws {
    let result = Simulation.run { clock in
      let (tx, rx) = Watch<String>.channel("one")
      let watcher = spawnTask(name: "watcher") { await tx.closed() }
      try await clock.sleep(for: .seconds(1))
      _ = consume rx
      await watcher.value
      return (try? tx.send("two")) == nil
    }
    #expect(try result.get())
  }

  @Test func borrow_and_update() async throws {
    let (tx, rx) = Watch<String>.channel("one")
    #expect(try !rx.hasChanged())
    try tx.send("two")
    #expect(try rx.hasChanged())
    try await rx.changed()
    #expect(try !rx.hasChanged())
    try tx.send("three")
    #expect(rx.borrowAndUpdate() == "three")
    #expect(try !rx.hasChanged())
    _ = consume tx
    #expect(rx.borrowAndUpdate() == "three")
    await #expect(throws: WatchReceiveError.closed) { try await rx.changed() }
    #expect(throws: WatchReceiveError.closed) { try rx.hasChanged() }
  }

  @Test func reopened_after_subscribe() {
    let (tx, rx) = Watch<String>.channel("one")
    #expect(!tx.isClosed)
    _ = consume rx
    #expect(tx.isClosed)
    var again: Watch<String>.Receiver? = tx.subscribe()
    #expect(!tx.isClosed && again != nil)
    again = nil
    #expect(tx.isClosed)
  }

  @Test func multiple_sender_and_receiver_is_notified_when_last_sender_is_dropped() throws {
    let (values, closedAt) = try simulate { clock in
      let (tx1, rx) = Watch<Int>.channel(0)
      var senders: [Watch<Int>.Sender] = [tx1, tx1.clone()]
      _ = consume tx1
      try senders[0].send(1)
      try await rx.changed()
      let v1 = rx.borrowAndUpdate()
      try senders[1].send(2)
      try await rx.changed()
      let v2 = rx.borrowAndUpdate()
      let waiter = spawnTask(name: "rx") { () async -> Duration in
        _ = try? await rx.changed()
        return clock.now.offset
      }
      try await clock.sleep(for: .seconds(1))
      senders.removeFirst()
      try await clock.sleep(for: .seconds(1))
      senders.removeAll()
      return ([v1, v2], await waiter.value)
    }
    #expect(values == [1, 2] && closedAt == .seconds(2))
  }

  @Test func has_changed_errors_on_closed_channel_with_unseen_and_seen_value() throws {
    let (tx, rx) = Watch<String>.channel("A")
    try tx.send("B")
    let seen = rx.clone()
    _ = seen.borrowAndUpdate()
    _ = consume tx
    #expect(throws: WatchReceiveError.closed) { try rx.hasChanged() }
    #expect(throws: WatchReceiveError.closed) { try seen.hasChanged() }
  }
}
