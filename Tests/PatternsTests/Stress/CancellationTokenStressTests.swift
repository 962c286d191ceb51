import Patterns
import Testing

/// Cancellation tokens under real threads: a tree built while it is being cancelled, waiters on
/// every node (some cut short by their own task's cancellation), short-lived children created and
/// dropped during the cancel, and several threads cancelling at once. Every descendant ends cancelled,
/// every waiter returns exactly once, and no waiter is left registered.
@Suite(.timeLimit(.minutes(2))) struct CancellationTokenStressTests {
  @Test func everyDescendantCancelled_everyWaiterWoken_withConcurrentCancels() async {
    for round in 0..<Stress.count(20) {
      await Self.oneRound(seed: UInt64(round))
    }
  }

  static func oneRound(seed: UInt64) async {
    let root = CancellationToken()
    let children = (0..<8).map { _ in root.childToken() }
    let grandchildren = children.flatMap { child in (0..<8).map { _ in child.childToken() } }
    let nodes = [root] + children + grandchildren
    let woken = StressCounter()
    let waitersPerNode = 4

    await withTaskGroup(of: Void.self) { group in
      for (index, node) in nodes.enumerated() {
        for waiter in 0..<waitersPerNode {
          var random = StressRandom(seed: seed &* 1000 &+ UInt64(index * waitersPerNode + waiter))
          let cancelTask = random.oneIn(4)
          group.addTask {
            // Every wait returns exactly once: by the token's cancellation or its own task's.
            _ = await Stress.maybeCancelled(cancel: cancelTask, yields: Int.random(in: 0..<4, using: &random))
            {
              await node.cancelled()
            }
            woken.increment()
          }
        }
      }
      // Children made and dropped while cancellation sweeps the tree (they unlink in deinit).
      for churner in 0..<4 {
        group.addTask {
          let parent = children[churner]
          for _ in 0..<50 {
            let child = parent.childToken().childToken()
            if child.isCancelled { #expect(parent.isCancelled) }
          }
        }
      }
      // Inner nodes cancelled from several threads, and the root by two at once: idempotent.
      for index in stride(from: 0, to: children.count, by: 3) {
        group.addTask { children[index].cancel() }
      }
      group.addTask { root.cancel() }
      group.addTask { root.cancel() }
    }
    #expect(woken.count == nodes.count * waitersPerNode)
    for node in nodes {
      #expect(node.isCancelled)
      #expect(node.waiterCountForTesting == 0)
      #expect(node.childCountForTesting == 0)
    }
    // A token made after the cancel is born cancelled, and its wait returns at once.
    let late = grandchildren[0].childToken()
    #expect(late.isCancelled)
    await late.cancelled()
  }
}
