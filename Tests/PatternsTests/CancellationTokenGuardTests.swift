import Synchronization
import Testing

@testable import Patterns

@Suite("CancellationToken: drop guard and runUntilCancelled")
struct CancellationTokenGuardTests {
  @Test func dropGuard_cancelsItsTokenAndTheSubtree_whenItGoes() {
    let root = CancellationToken()
    let subtree = root.childToken()
    let leaf = subtree.childToken()
    do {
      let dropGuard = subtree.dropGuard()
      withExtendedLifetime(dropGuard) { #expect(!subtree.isCancelled) }
    }
    #expect(subtree.isCancelled && leaf.isCancelled)
    #expect(!root.isCancelled)
  }

  @Test func dropGuard_disarmed_doesNotCancel_andHandsBackTheToken() {
    let token = CancellationToken()
    do {
      let dropGuard = token.dropGuard()
      #expect(dropGuard.disarm() == token)
    }
    #expect(!token.isCancelled)
  }

  @Test func runUntilCancelled_returnsNilWithoutRunning_whenAlreadyCancelled() async {
    let token = CancellationToken()
    token.cancel()
    let ran = Flag()
    let value = await token.runUntilCancelled { () async -> Int in
      ran.set()
      return 1
    }
    #expect(value == nil)
    #expect(!ran.isSet)
  }

  @Test func runUntilCancelled_returnsTheValue_whenTheOperationFinishesFirst() throws {
    let result = Simulation.run { clock in
      let token = CancellationToken()
      let value = try await token.runUntilCancelled { () async throws -> Int in
        try await clock.sleep(for: .seconds(1))
        return 42
      }
      return (value, clock.now.offset, token.isCancelled)
    }
    let (value, time, cancelled) = try result.get()
    #expect(value == 42 && time == .seconds(1) && !cancelled)
    #expect(result.deadlocks.isEmpty && result.leftovers.isEmpty)
  }

  @Test func runUntilCancelled_cancelsTheOperationsTask_andReturnsNil_whenTheTokenFiresFirst() throws {
    let result = Simulation.run { clock in
      let token = CancellationToken()
      let sawCancellation = Flag()
      spawnTask(name: "canceller") {
        try? await clock.sleep(for: .seconds(2))
        token.cancel()
      }
      let value = await token.runUntilCancelled { () async -> Int in
        do {
          try await clock.sleep(for: .seconds(10))
        } catch {
          sawCancellation.set()
        }
        return 1
      }
      return (value, clock.now.offset, sawCancellation.isSet)
    }
    let (value, time, saw) = try result.get()
    #expect(value == nil && time == .seconds(2) && saw)
  }

  @Test func runUntilCancelled_passesOnTheOperationsError() throws {
    struct Boom: Error {}
    let result = Simulation.run { _ in
      do {
        _ = try await CancellationToken().runUntilCancelled { () async throws(Boom) -> Int in throw Boom() }
        return "returned"
      } catch {
        return "threw \(type(of: error))"
      }
    }
    #expect(try result.get() == "threw Boom")
  }

  /// Tokio drops the future at once; Swift cannot drop a running child, so the call waits for it.
  @Test func runUntilCancelled_waitsForAnOperationThatIgnoresCancellation() throws {
    let result = Simulation.run { clock in
      let token = CancellationToken()
      spawnTask(name: "canceller") {
        try? await clock.sleep(for: .seconds(1))
        token.cancel()
      }
      let value = await token.runUntilCancelled { () async -> Int in
        await nonCancellableStep(clock, .seconds(5))  // cancelled at 1s; goes on until 5s
        return 7
      }
      return (value, clock.now.offset)
    }
    let (value, time) = try result.get()
    #expect(value == nil)
    #expect(time == .seconds(5))
  }

  @Test func runUntilCancelled_whenTheCallerIsCancelled_passesOnWhatTheOperationReturns() throws {
    let result = Simulation.run { clock in
      let token = CancellationToken()
      let caller = spawnTask(name: "caller") { () async -> Int? in
        await token.runUntilCancelled { () async -> Int in
          (try? await clock.sleep(for: .seconds(10))) == nil ? -1 : 1
        }
      }
      try await clock.sleep(for: .seconds(1))
      caller.cancel()
      return (await caller.value, token.isCancelled)
    }
    let (value, cancelled) = try result.get()
    #expect(value == -1 && !cancelled)
  }

  // MARK: node release

  /// A long-lived parent with a million short-lived children does not grow: every child's node is
  /// freed when its last copy goes, and unlinked from the parent.
  @Test func aMillionShortLivedChildren_leaveNoNodeAlive() {
    let root = CancellationToken()
    weak var sampled: TokenNode?
    var sampledAlive = 0
    for index in 0..<1_000_000 {
      let child = root.childToken()
      if index % 1000 == 0 {
        sampled = child.node
        _ = child.childToken()  // a grandchild that comes and goes too
      }
      if index % 1000 == 1, sampled != nil { sampledAlive += 1 }  // the previous sample, one step later
    }
    #expect(sampledAlive == 0)
    #expect(root.childCountForTesting == 0)
  }

  @Test func cancelledChildren_thatGo_areReleased_andCancellingTheParentLater_touchesNone() {
    let root = CancellationToken()
    weak var weakNode: TokenNode?
    do {
      let child = root.childToken()
      child.cancel()
      weakNode = child.node
    }
    #expect(weakNode == nil)
    #expect(root.childCountForTesting == 0)
    root.cancel()
  }
}

/// A flag tests set from any task.
final class Flag: Sendable {
  private let storage = Mutex(false)
  func set() { storage.withLock { $0 = true } }
  var isSet: Bool { storage.withLock { $0 } }
}

/// A step that ignores Swift task cancellation: it sleeps in an unstructured task, which the caller's
/// cancellation does not reach, and waits for it.
func nonCancellableStep(_ clock: VirtualClock, _ duration: Duration) async {
  await spawnTask { try? await clock.sleep(for: duration) }.value
}
