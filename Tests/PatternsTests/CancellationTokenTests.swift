import Patterns
import Testing

@Suite("CancellationToken")
struct CancellationTokenTests {
  @Test func cancel_cascadesToEveryDescendant() {
    let root = CancellationToken()
    let child = root.childToken()
    let grandchild = child.childToken()
    root.cancel()
    #expect(root.isCancelled && child.isCancelled && grandchild.isCancelled)
  }

  @Test func cancellingAChild_touchesNeitherParentNorSiblings() {
    let root = CancellationToken()
    let child = root.childToken()
    let sibling = root.childToken()
    let nephew = sibling.childToken()
    child.cancel()
    #expect(child.isCancelled)
    #expect(!root.isCancelled && !sibling.isCancelled && !nephew.isCancelled)
  }

  @Test func cancel_isIdempotent() {
    let token = CancellationToken()
    token.cancel()
    token.cancel()
    #expect(token.isCancelled)
  }

  @Test func childOfACancelledToken_isBornCancelled() {
    let root = CancellationToken()
    root.cancel()
    #expect(root.childToken().isCancelled)
    #expect(root.childToken().childToken().isCancelled)
  }

  @Test func copies_shareOneNode() {
    let token = CancellationToken()
    let copy = token
    copy.cancel()
    #expect(token.isCancelled)
    #expect(token == copy)
    #expect(token != CancellationToken())
    #expect(Set([token, copy]).count == 1)
  }

  @Test func droppingAParent_doesNotCancelItsChild_andTheGrandparentStillReachesIt() {
    let root = CancellationToken()
    var parent: CancellationToken? = root.childToken()
    let child = parent!.childToken()
    parent = nil
    #expect(!child.isCancelled)
    root.cancel()
    #expect(child.isCancelled)
  }

  @Test func cancelled_returnsWhenTheTokenIsCancelled() throws {
    let result = Simulation.run { clock in
      let token = CancellationToken()
      let waiter = spawnTask(name: "waiter") { () async -> Duration in
        await token.childToken().cancelled()
        return clock.now.offset
      }
      try await clock.sleep(for: .seconds(3))
      token.cancel()
      return await waiter.value
    }
    #expect(try result.get() == .seconds(3))
    #expect(result.deadlocks.isEmpty)
  }

  @Test func cancelled_returnsAtOnce_whenAlreadyCancelled() async {
    let token = CancellationToken()
    token.cancel()
    await token.cancelled()
    #expect(token.isCancelled)
  }

  @Test func cancelled_returnsWhenTheCallingTaskIsCancelled_andTheTokenStaysUncancelled() throws {
    let result = Simulation.run { clock in
      let token = CancellationToken()
      let waiter = spawnTask(name: "waiter") { await token.cancelled() }
      try await clock.sleep(for: .seconds(1))
      waiter.cancel()
      await waiter.value
      return token.isCancelled
    }
    #expect(try result.get() == false)
    #expect(result.deadlocks.isEmpty)
  }

  @Test func waiters_wakeInTheOrderTheyBeganWaiting() throws {
    let result = Simulation.run { clock in
      let root = CancellationToken()
      let order = Recorder()
      await withTaskGroup(of: Void.self) { group in
        let tokens = [root.childToken(), root, root.childToken().childToken(), root]
        for (index, token) in tokens.enumerated() {
          group.addTask {
            try? await clock.sleep(for: .milliseconds(10 * (index + 1)))
            await token.cancelled()
            order.append("\(index)")
          }
        }
        try? await clock.sleep(for: .seconds(1))
        root.cancel()
      }
      return order.values
    }
    #expect(try result.get() == ["0", "1", "2", "3"])
  }

  @Test func shortLivedChildren_areReleased_soALongLivedParentDoesNotGrow() {
    let root = CancellationToken()
    for _ in 0..<100_000 { _ = root.childToken() }
    #expect(root.linkedChildCount == 0)
    var kept: [CancellationToken] = []
    for _ in 0..<1000 { kept.append(root.childToken()) }
    #expect(root.linkedChildCount == 1000)
    kept.removeAll()
    #expect(root.linkedChildCount == 0)
  }
}

extension CancellationToken {
  /// For tests: children still linked to this token's node.
  var linkedChildCount: Int { childCountForTesting }
}
