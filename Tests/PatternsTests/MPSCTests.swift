import Patterns
import Synchronization
import Testing

/// The sharp edges of `MPSC`, one test each, named after the edge.
@Suite("MPSC: completion signal, back-pressure, closing")
struct MPSCTests {
  // MARK: "every sender dropped" is the signal that all work is done

  @Test func receive_returnsNilOnlyAfterTheLastSenderIsDropped_andTheBufferIsDrained() throws {
    let result = Simulation.run { clock in
      let log = Recorder()
      await withTaskGroup(of: Void.self) { group in
        let (done, allDone) = MPSC<String>.channel(capacity: 4)
        for index in 1...3 {
          group.addTask(name: "worker-\(index)") { [done = done.clone()] in
            try? await clock.sleep(for: .seconds(index))
            try? await done.send("worker-\(index) finished")
          }
        }
        _ = consume done
        while let message = await allDone.receive() { log.append("\(clock.now.offset): \(message)") }
        log.append("\(clock.now.offset): nil")
      }
      return log.values
    }
    #expect(
      try result.get() == [
        "1.0 seconds: worker-1 finished", "2.0 seconds: worker-2 finished", "3.0 seconds: worker-3 finished",
        "3.0 seconds: nil",
      ])
    #expect(result.deadlocks.isEmpty)
  }

  @Test func forgottenSender_keepsReceiveWaiting_andTheDeadlockReportNamesItsHolder() throws {
    let result = Simulation.run { clock in
      let (done, allDone) = MPSC<Int>.channel(capacity: 1)
      await withTaskGroup(of: Void.self) { group in
        group.addTask(name: "worker") { [done = done.clone()] in _ = done }
        _ = await allDone.receive()
        extendLifetime(done)  // main still holds `done`: the bug
      }
      return Task.isCancelled
    }
    #expect(try result.get() == true, "the wait was unwound; nil came from the unwinding, not the senders")
    #expect(
      result.deadlocks.first?.blocked.map(\.description) == [
        "main waits on mpsc receive; 1 sender still alive, held by main"
      ])
  }

  @Test func weakSenders_doNotKeepTheChannelOpen() async {
    let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
    let weak = sender.downgrade()
    #expect(weak.upgrade() != nil)
    _ = consume sender
    #expect(receiver.isClosed)
    #expect(await receiver.receive() == nil)
    #expect(weak.upgrade() == nil, "the last strong sender is gone; the channel cannot reopen")
  }

  @Test func outstandingPermit_keepsTheChannelOpen_andUpgradeStillSucceeds() async throws {
    let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
    let weak = sender.downgrade()
    let permit = try await sender.reserve()
    _ = consume sender
    #expect(weak.upgrade() != nil, "a permit counts as a sender")
    #expect(!receiver.isClosed)
    permit.send(7)
    _ = consume permit
    #expect(weak.upgrade() == nil)
    #expect(await receiver.receive() == 7)
    #expect(await receiver.receive() == nil)
  }

  @Test func theLastSendersDrop_wakesAWaitingReceiveWithNil() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
      let dropper = spawnTask(name: "dropper") { [sender = consume sender] in
        try? await clock.sleep(for: .seconds(2))
        _ = sender
      }
      let value = await receiver.receive()
      await dropper.value
      return (value == nil, clock.now.offset)
    }
    let (gotNil, time) = try result.get()
    #expect(gotNil && time == .seconds(2))
  }

  // MARK: back-pressure

  @Test func send_waitsForRoom_whenTheChannelIsFull() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 2)
      let sentAt = Recorder()
      let producer = spawnTask(name: "producer") {
        for value in 1...4 {
          try await sender.send(value)
          sentAt.append("\(value)@\(clock.now.offset)")
        }
      }
      for _ in 1...4 {
        try await clock.sleep(for: .seconds(1))
        _ = await receiver.receive()
      }
      try await producer.value
      return sentAt.values
    }
    #expect(try result.get() == ["1@0.0 seconds", "2@0.0 seconds", "3@1.0 seconds", "4@2.0 seconds"])
  }

  @Test func waitingSenders_areServedInTheOrderTheyBeganWaiting() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<String>.channel(capacity: 1)
      try sender.trySend("first")
      await withTaskGroup(of: Void.self) { group in
        for name in ["a", "b", "c", "d"] {
          group.addTask { try? await sender.send(name) }
          await Task.yield()  // each begins waiting before the next starts
        }
        var received: [String] = []
        for _ in 0..<5 { received.append(await receiver.receive() ?? "nil") }
        #expect(received == ["first", "a", "b", "c", "d"])
      }
    }
    try result.get()
  }

  @Test func trySend_doesNotOvertakeWaitingSenders() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<String>.channel(capacity: 1)
      try sender.trySend("first")
      let waiting = spawnTask(name: "waiting") { try await sender.send("waited") }
      await Task.yield()
      #expect(await receiver.receive() == "first")
      // The freed slot went straight to the waiting sender: nobody can overtake it.
      #expect(throws: MPSC<String>.TrySendError.full("late")) { try sender.trySend("late") }
      try await waiting.value
      #expect(await receiver.receive() == "waited")
    }
    try result.get()
  }

  @Test func cancelledSend_givesUpItsPlace_andDeliversNothing() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<String>.channel(capacity: 1)
      try sender.trySend("first")
      let cancelled = spawnTask(name: "cancelled") { try await sender.send("never delivered") }
      await Task.yield()
      let next = spawnTask(name: "next") { try await sender.send("second") }
      await Task.yield()
      cancelled.cancel()
      await #expect(throws: CancellationError.self) { try await cancelled.value }
      #expect(await receiver.receive() == "first")
      try await next.value
      #expect(await receiver.receive() == "second")
      _ = consume sender
      #expect(await receiver.receive() == nil)
    }
    try result.get()
  }

  @Test func cancelledReserve_givesUpItsPlace_toTheNextInLine() throws {
    // tokio: start_send_past_cap
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
      try sender.trySend(1)
      let first = spawnTask(name: "first") { _ = try await sender.reserve() }
      await Task.yield()
      let second = spawnTask(name: "second") { () async throws -> Int in
        let permit = try await sender.reserve()
        permit.send(2)
        return 2
      }
      await Task.yield()
      first.cancel()
      _ = try? await first.value
      #expect(await receiver.receive() == 1)
      #expect(try await second.value == 2)
      #expect(await receiver.receive() == 2)
    }
    try result.get()
  }

  @Test func trySend_handsTheValueBack_whenFullOrClosed() {
    let (sender, receiver) = MPSC<String>.channel(capacity: 1)
    #expect(throws: Never.self) { try sender.trySend("hello") }
    #expect(throws: MPSC<String>.TrySendError.full("fail")) { try sender.trySend("fail") }
    receiver.close()
    #expect(throws: MPSC<String>.TrySendError.closed("late")) { try sender.trySend("late") }
  }

  @Test func sendWithTimeout_timesOutWhenFull_thenReportsClosedOnceTheReceiverIsGone() throws {
    // tokio: recv_timeout
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 5)
      for value in [10, 20, 30, 40, 50] { try await sender.send(value, timeout: .seconds(1), clock: clock) }
      await #expect(throws: MPSC<Int>.SendTimeoutError.timeout(60)) {
        try await sender.send(60, timeout: .seconds(1), clock: clock)
      }
      #expect(clock.now.offset == .seconds(1))
      _ = consume receiver
      await #expect(throws: MPSC<Int>.SendTimeoutError.closed(70)) {
        try await sender.send(70, timeout: .seconds(1), clock: clock)
      }
    }
    try result.get()
    #expect(result.leftovers.isEmpty)
  }

  @Test func sendWithTimeout_succeedsWhenRoomComesInTime() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
      try sender.trySend(1)
      let consumer = spawnTask(name: "consumer") { () async -> [Int?] in
        try? await clock.sleep(for: .milliseconds(500))
        return [await receiver.receive(), await receiver.receive()]
      }
      try await sender.send(2, timeout: .seconds(1), clock: clock)
      #expect(clock.now.offset == .milliseconds(500))
      _ = consume sender
      return await consumer.value
    }
    #expect(try result.get() == [1, 2])
    #expect(result.leftovers.isEmpty, "the timer was cancelled, not left sleeping")
  }

  // MARK: fast paths

  @Test func sendWithRoom_andReceiveWithAValueBuffered_doNotSuspend() async throws {
    let observer = CountingObserver()
    try await WaitReporting.$observer.withValue(observer) {
      let (sender, receiver) = MPSC<Int>.channel(capacity: 100)
      for value in 0..<100 { try await sender.send(value) }
      for value in 0..<100 { #expect(await receiver.receive() == value) }
      let (unbounded, unboundedReceiver) = MPSC<Int>.unboundedChannel()
      for value in 0..<100 { try unbounded.send(value) }
      for value in 0..<100 { #expect(await unboundedReceiver.receive() == value) }
    }
    #expect(observer.waits == [])
  }

  @Test func aWaitThatSuspends_isAnnounced() throws {
    let observed = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
      try sender.trySend(1)
      let blocked = spawnTask(name: "producer") { try await sender.send(2) }
      try await clock.sleep(for: .seconds(1))
      blocked.cancel()
      _ = try? await blocked.value
      _ = receiver
    }
    try observed.get()
    let deadlocked = Simulation.run { _ in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
      try sender.trySend(1)
      try await sender.send(2)
      extendLifetime(receiver)
    }
    #expect(
      deadlocked.deadlocks.first?.blocked.map(\.description) == [
        "main waits on mpsc send; channel full: 1 of 1 slots taken"
      ])
    #expect(throws: CancellationError.self) { try deadlocked.get() }
  }

  // MARK: capacity and permits

  @Test func capacity_countsFreeSlots_whileMaxCapacityStaysTheSame() async throws {
    // tokio: test_tx_capacity
    let (sender, receiver) = MPSC<Int>.channel(capacity: 10)
    #expect(sender.capacity == 10 && sender.maxCapacity == 10)
    let permit = try await sender.reserve()
    #expect(sender.capacity == 9 && sender.maxCapacity == 10)
    try await sender.send(1)
    #expect(sender.capacity == 8 && sender.maxCapacity == 10)
    _ = (permit, receiver)
  }

  @Test func permitDroppedUnsent_givesTheSlotBack_toTheNextWaiter() throws {
    // tokio: drop_permit_releases_permit, reserve_disarm
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 2)
      let permit1 = try await sender.reserve()
      let permit2 = try await sender.reserve()
      let third = spawnTask(name: "third") { try await sender.reserve() }
      let fourth = spawnTask(name: "fourth") { try await sender.reserve() }
      await Task.yield()
      permit1.send(1)  // the slot now holds a value: nobody is served yet
      #expect(sender.capacity == 0)
      #expect(await receiver.receive() == 1)  // frees it: the third gets it
      let permit3 = try await third.value
      _ = consume permit2  // dropping a permit frees its slot: the fourth gets it
      let permit4 = try await fourth.value
      #expect(sender.capacity == 0)
      _ = (permit3, permit4)
    }
    try result.get()
  }

  @Test func permitSend_afterTheReceiverIsGone_dropsTheValueQuietly() async throws {
    let tracker = LifeTracker()
    let (sender, receiver) = MPSC<Tracked>.channel(capacity: 1)
    let permit = try await sender.reserve()
    _ = consume receiver
    permit.send(Tracked(tracker))
    #expect(tracker.alive == 0)
  }

  // MARK: closing

  @Test func close_stopsNewSendsAtOnce_butBufferedValuesStillDrain() async throws {
    let (sender, receiver) = MPSC<Int>.channel(capacity: 4)
    try await sender.send(1)
    try await sender.send(2)
    receiver.close()
    #expect(sender.isClosed)
    await #expect(throws: MPSC<Int>.SendError(value: 3)) { try await sender.send(3) }
    await #expect(throws: MPSC<Int>.ClosedError()) { _ = try await sender.reserve() }
    #expect(await receiver.receive() == 1)
    #expect(await receiver.receive() == 2)
    #expect(await receiver.receive() == nil, "closed and drained, though the sender is still alive")
  }

  @Test func close_failsWaitingSenders_andPermitsReservedBeforeItStillSend() throws {
    // tokio: recv_close_gets_none_reserved
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
      let permit = try await sender.reserve()
      let waiting = spawnTask(name: "waiting") { try await sender.reserve() }
      await Task.yield()
      receiver.close()
      await #expect(throws: MPSC<Int>.ClosedError()) { _ = try await waiting.value }
      let late = spawnTask(name: "permit holder") {
        try? await clock.sleep(for: .seconds(1))
        permit.send(123)
      }
      #expect(await receiver.receive() == 123, "receive waited for the outstanding permit")
      await late.value
      #expect(await receiver.receive() == nil)
    }
    try result.get()
  }

  @Test func close_withAPermitDroppedUnsent_endsTheReceiveWithNil() throws {
    // tokio: ready_close_cancel_bounded
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 100)
      let permit = try await sender.reserve()
      receiver.close()
      let dropper = spawnTask(name: "dropper") { [permit = consume permit] in
        try? await clock.sleep(for: .seconds(1))
        _ = permit
      }
      let value = await receiver.receive()
      await dropper.value
      _ = sender
      return value
    }
    #expect(try result.get() == nil)
    #expect(result.deadlocks.isEmpty)
  }

  @Test func close_endsSendersClosedWait() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
      let watcher = spawnTask(name: "watcher") { () async -> Duration in
        await sender.closed()
        return clock.now.offset
      }
      try await clock.sleep(for: .seconds(1))
      receiver.close()
      return await watcher.value
    }
    #expect(try result.get() == .seconds(1))
  }

  @Test func droppingTheReceiver_releasesQueuedValues_andEndsClosed() async throws {
    // tokio: unconsumed_messages_are_dropped, dropping_rx_closes_channel
    let tracker = LifeTracker()
    let (sender, receiver) = MPSC<Tracked>.channel(capacity: 100)
    for _ in 0..<3 { try sender.trySend(Tracked(tracker)) }
    #expect(tracker.alive == 3)
    _ = consume receiver
    #expect(tracker.alive == 0)
    await sender.closed()
    await #expect(throws: MPSC<Tracked>.ClosedError()) { _ = try await sender.reserve() }
    #expect(tracker.alive == 0)
  }

  // MARK: cancellation

  @Test func receive_returnsNilWhenTheCallingTaskIsCancelled_andLosesNoValue() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
      let waiting = spawnTask(name: "consumer") { await receiver.receive() }
      try await clock.sleep(for: .seconds(1))
      waiting.cancel()
      let cancelledResult = await waiting.value
      try sender.trySend(5)
      return (cancelledResult, await receiver.receive())
    }
    let (cancelled, next) = try result.get()
    #expect(cancelled == nil)
    #expect(next == 5, "the value sent after the cancelled wait is still received")
  }

  // MARK: receiving

  @Test func tryReceive_bounded_emptyThenValuesThenDisconnected() throws {
    // tokio: try_recv_bounded, try_recv_close_while_empty_bounded
    let (sender, receiver) = MPSC<String>.channel(capacity: 5)
    #expect(throws: MPSC<String>.TryReceiveError.empty) { try receiver.tryReceive() }
    for _ in 0..<5 { try sender.trySend("hello") }
    #expect(throws: MPSC<String>.TrySendError.full("hello")) { try sender.trySend("hello") }
    for _ in 0..<5 { #expect(try receiver.tryReceive() == "hello") }
    #expect(throws: MPSC<String>.TryReceiveError.empty) { try receiver.tryReceive() }
    for _ in 0..<3 { try sender.trySend("hello") }
    _ = consume sender
    for _ in 0..<3 { #expect(try receiver.tryReceive() == "hello") }
    #expect(throws: MPSC<String>.TryReceiveError.disconnected) { try receiver.tryReceive() }
  }

  @Test func tryReceive_unbounded_valuesInOrderThenDisconnected() throws {
    // tokio: try_recv_unbounded
    for count in 0..<20 {
      let (sender, receiver) = MPSC<Int>.unboundedChannel()
      for value in 0..<count { try sender.send(value) }
      for value in 0..<count { #expect(try receiver.tryReceive() == value) }
      #expect(throws: MPSC<Int>.TryReceiveError.empty) { try receiver.tryReceive() }
      _ = consume sender
      #expect(throws: MPSC<Int>.TryReceiveError.disconnected) { try receiver.tryReceive() }
    }
  }

  @Test func receiveMany_takesWhatIsBuffered_upToTheLimit_andZeroMeansDone() async throws {
    // tokio: send_recv_many_unbounded, recv_many with limit 0
    let (sender, receiver) = MPSC<Int>.unboundedChannel()
    for value in [7, 13, 100, 1002] { try sender.send(value) }
    var values: [Int] = []
    #expect(await receiver.receiveMany(into: &values, limit: 0) == 0)
    #expect(await receiver.receiveMany(into: &values, limit: 3) == 3)
    #expect(await receiver.receiveMany(into: &values, limit: 3) == 1)
    #expect(values == [7, 13, 100, 1002])
    _ = consume sender
    #expect(await receiver.receiveMany(into: &values, limit: 3) == 0)
  }

  @Test func receiveMany_freesSlotsForWaitingSenders() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 2)
      let producer = spawnTask(name: "producer") {
        for value in 1...6 { try await sender.send(value) }
      }
      var values: [Int] = []
      while values.count < 6 {
        _ = await receiver.receiveMany(into: &values, limit: 16)
      }
      try await producer.value
      #expect(await receiver.receiveMany(into: &values, limit: 16) == 0)
      return values
    }
    #expect(try result.get() == [1, 2, 3, 4, 5, 6])
  }

  @Test func receiver_isAnAsyncSequence_thatEndsWhenEverySenderIsGone() throws {
    let result = Simulation.run { clock in
      let (sender, receiver) = MPSC<Int>.channel(capacity: 2)
      spawnTask(name: "producer") {
        for value in 1...5 { try await sender.send(value) }
      }
      var sum = 0
      for await value in receiver { sum += value }
      return sum
    }
    #expect(try result.get() == 15)
  }

  // MARK: counts and handles

  @Test func strongAndWeakCounts_followClonesDowngradesAndDrops() {
    // tokio: sender_strong_and_weak_conut and friends
    let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
    var clone: MPSC<Int>.Sender? = sender.clone()
    let weak = sender.downgrade()
    var weak2: MPSC<Int>.WeakSender? = weak.clone()
    #expect(sender.strongCount == 2 && sender.weakCount == 2)
    #expect(receiver.senderStrongCount == 2 && receiver.senderWeakCount == 2)
    clone = nil
    weak2 = nil
    #expect(weak.strongCount == 1 && weak.weakCount == 1)
    #expect(clone == nil && weak2 == nil)
    #expect(sender.sameChannel(as: sender.clone()))
    #expect(!sender.sameChannel(as: MPSC<Int>.channel(capacity: 1).0))
  }

  @Test func unboundedSend_neverWaits_andFailsOnceTheReceiverIsGone() throws {
    let (sender, receiver) = MPSC<Int>.unboundedChannel()
    for value in 0..<10_000 { try sender.send(value) }
    #expect(receiver.count == 10_000)
    let weak = sender.downgrade()
    _ = consume receiver
    #expect(sender.isClosed)
    #expect(throws: MPSC<Int>.SendError(value: 1)) { try sender.send(1) }
    _ = consume sender
    #expect(weak.upgrade() == nil)
  }

  @Test func manyProducersOnTheDefaultExecutor_deliverEveryValueExactlyOnce_inEachProducersOrder() async {
    let producers = 4
    let perProducer = 20_000
    await withTaskGroup(of: Void.self) { group in
      // Made inside the closure, so `consume` below ends main's sender (a captured one would live on).
      let (sender, receiver) = MPSC<Int>.channel(capacity: 8)
      for producer in 0..<producers {
        group.addTask { [sender = sender.clone()] in
          for index in 0..<perProducer { try? await sender.send(producer * perProducer + index) }
        }
      }
      _ = consume sender
      var next = Array(repeating: 0, count: producers)
      var received = 0
      while let value = await receiver.receive() {
        let producer = value / perProducer
        #expect(value % perProducer == next[producer])
        next[producer] += 1
        received += 1
      }
      #expect(received == producers * perProducer)
    }
  }

  @Test func zeroCapacity_isAProgrammingError() async {
    await #expect(processExitsWith: .failure) {
      _ = MPSC<Int>.channel(capacity: 0)
    }
  }
}

// MARK: helpers

/// Records every wait announced through `WaitReporting`.
final class CountingObserver: WaitObserver {
  private let labels = Mutex<[String]>([])
  func waitBegan(_ wait: WaitRecord) -> ActiveWait {
    labels.withLock { $0.append(wait.label) }
    return ActiveWait {}
  }
  var waits: [String] { labels.withLock { $0 } }
}

/// Counts live `Tracked` values, to see when a channel releases what it held.
final class LifeTracker: Sendable {
  private let count = Atomic<Int>(0)
  func born() { count.add(1, ordering: .relaxed) }
  func died() { count.subtract(1, ordering: .relaxed) }
  var alive: Int { count.load(ordering: .relaxed) }
}

final class Tracked: Sendable {
  let tracker: LifeTracker
  init(_ tracker: LifeTracker) {
    self.tracker = tracker
    tracker.born()
  }
  deinit { tracker.died() }
}
