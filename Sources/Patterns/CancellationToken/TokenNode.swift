import Synchronization

/// What every node of one token tree shares: the lock that guards the tree's links and waiters, and
/// the counter that orders waiters across the tree.
final class TokenTree: Sendable {
  let lock = Lock<Void>(())
  private let waiterIDs = WaiterIDs()  // one sequence for the whole tree: cancel sorts by it

  func makeWaiterID() -> UInt64 { waiterIDs.make() }
}

/// One token's node. Copies of a `CancellationToken` share it; ARC frees it when the last copy,
/// and the last child holding it as parent, is gone.
///
/// Links: a child holds its parent strongly (so a cancel from above still reaches it after the
/// parent's own tokens are dropped); a parent lists its children unretained, and a child takes
/// itself off that list in `deinit`. So a long-lived parent does not grow as short-lived children
/// come and go, and a child's memory is released as soon as its last copy is.
///
/// State machine, every transition under `tree.lock`:
/// - live → cancelled, by `cancel()` here or above: set the flag, take the waiters, detach and cancel
///   every child (their subtrees need no more links), take the node off its parent's list.
/// - a waiter is added only while live (and while its task is not cancelled); it is removed by
///   cancellation of the node, of its task, or by the simulation unwinding a deadlock.
/// Continuations are resumed only after the lock is released.
@usableFromInline
final class TokenNode: @unchecked Sendable {
  // @unchecked: the `var`s below are read and written only while holding `tree.lock`. The lock
  // already makes every access exclusive, so the run-time exclusivity check Swift adds to a class's
  // `var`s is skipped (`@exclusivity(unchecked)`): callgrind counted it as a quarter of creating a
  // child token.
  //
  // Unowned: every node holds its parent, so the root, which owns the tree, outlives them all.
  // Skipping the retain saves a reference-count round trip per child.
  unowned(unsafe) let tree: TokenTree
  let parent: TokenNode?
  /// Only the root holds its tree strongly.
  private let ownedTree: TokenTree?
  @usableFromInline let cancelledFlag = Atomic<Bool>(false)  // written under the lock, read without it
  @exclusivity(unchecked) private var children: [Unmanaged<TokenNode>] = []
  @exclusivity(unchecked) private var indexInParent = -1  // -1: not on the parent's list
  @exclusivity(unchecked) private var waiters: [Waiter] = []

  struct Waiter {
    let id: UInt64
    let continuation: CheckedContinuation<Void, Never>
  }

  /// A root node, owning a new tree.
  init() {
    let tree = TokenTree()
    self.tree = tree
    ownedTree = tree
    parent = nil
  }

  private init(parent: TokenNode) {
    tree = parent.tree
    ownedTree = nil
    self.parent = parent
  }

  deinit {
    // The parent is still alive: this node holds it until deinit returns.
    guard let parent else { return }
    tree.lock.withLock { _ in
      if indexInParent >= 0 { parent.removeChild(at: indexInParent) }
    }
  }

  @inlinable var isCancelled: Bool { cancelledFlag.load(ordering: .acquiring) }

  @usableFromInline
  func makeChild() -> TokenNode {
    let child = TokenNode(parent: self)
    tree.lock.withLock { _ in
      if isCancelled {
        child.cancelledFlag.store(true, ordering: .releasing)  // born cancelled, never linked
      } else {
        child.indexInParent = children.count
        children.append(Unmanaged.passUnretained(child))
      }
    }
    return child
  }

  @usableFromInline
  func cancel() {
    let woken = tree.lock.withLock { _ -> [Waiter] in
      guard !isCancelled else { return [] }
      if let parent, indexInParent >= 0 { parent.removeChild(at: indexInParent) }
      var woken: [Waiter] = []
      // Depth-first without recursion, so a deep chain cannot overflow the stack. Children are
      // touched unretained: one may be in its deinit, waiting for this lock; its memory is valid.
      var pending: [Unmanaged<TokenNode>] = [Unmanaged.passUnretained(self)]
      while let next = pending.popLast() {
        next._withUnsafeGuaranteedRef { node in
          node.cancelledFlag.store(true, ordering: .releasing)
          woken.append(contentsOf: node.waiters)
          node.waiters = []
          for child in node.children {
            child._withUnsafeGuaranteedRef { $0.indexInParent = -1 }
            pending.append(child)
          }
          node.children = []
        }
      }
      // Wake in the order the waits began: resuming newest-first makes task groups pay O(n) each.
      woken.sort { $0.id < $1.id }
      return woken
    }
    for waiter in woken { waiter.continuation.resume() }
  }

  /// Waits until this node is cancelled, or the calling task is; `cancelled()` checked the flag first.
  @usableFromInline
  func waitForCancel() async {
    let id = tree.makeWaiterID()
    let wait = WaitReporting.observer?.begin("token cancelled()", detail: { "token not cancelled" }) {
      [self] in removeWaiter(id)
    }
    defer { wait?.end() }
    await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in addWaiter(id, continuation) }
    } onCancel: {
      removeWaiter(id)
    }
  }

  /// Registers a waiter, or resumes it at once if the node or the waiting task is already cancelled.
  func addWaiter(_ id: UInt64, _ continuation: CheckedContinuation<Void, Never>) {
    // Reading the task's flag under the lock closes the race with `removeWaiter` from its
    // cancellation handler: the flag is set before the handler runs, so either this sees the flag,
    // or the handler sees the registered waiter.
    let resumeNow = tree.lock.withLock { _ -> Bool in
      if isCancelled || Task.isCancelled { return true }
      waiters.append(Waiter(id: id, continuation: continuation))
      return false
    }
    if resumeNow { continuation.resume() }
  }

  /// Ends one wait early (its task was cancelled, or a deadlock is being unwound). Idempotent.
  func removeWaiter(_ id: UInt64) {
    let continuation = tree.lock.withLock { _ -> CheckedContinuation<Void, Never>? in
      guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
      return waiters.remove(at: index).continuation
    }
    continuation?.resume()
  }

  /// Takes the child at `index` off the list by moving the last child into its place.
  /// Caller holds the lock.
  private func removeChild(at index: Int) {
    children[index]._withUnsafeGuaranteedRef { $0.indexInParent = -1 }
    let last = children.removeLast()
    if index < children.count {
      children[index] = last
      last._withUnsafeGuaranteedRef { $0.indexInParent = index }
    }
  }

  /// How many `cancelled()` calls wait on this node now (for stress tests).
  var waiterCount: Int { tree.lock.withLock { _ in waiters.count } }

  /// How many children are linked now (for tests that check nodes are released).
  var linkedChildCount: Int { tree.lock.withLock { _ in children.count } }
}
