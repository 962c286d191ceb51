/// Says "stop" to a tree of tasks: cooperative, cascading, idempotent.
///
/// Swift's counterpart of tokio-util's `CancellationToken`. Hand a task a token and it can check
/// ``isCancelled`` between units of work, or `await` ``cancelled()`` alongside its work. Call
/// ``cancel()`` on a token and it, and every token made from it with ``childToken()`` (and theirs, all
/// the way down), is cancelled. A child never cancels its parent or its siblings.
///
/// ```swift
/// let root = CancellationToken()
/// let worker = root.childToken()
/// // in the worker's task:
/// while !worker.isCancelled { try await doOneUnit() }   // finish the unit in hand, then stop
/// // in main, on SIGTERM:
/// root.cancel()                                         // every child sees it
/// ```
///
/// Sharp edges, as in Tokio:
/// - Cancellation is cooperative: a task that never checks its token never stops. (To stop a task
///   that does not cooperate, cancel its Swift `Task`, or abort it in a `JoinSet`.)
/// - `cancel()` is idempotent; the second call does nothing.
/// - A child made from a cancelled token is born cancelled.
/// - Dropping a parent token does not cancel its children, and they still hear a cancel from
///   further up the tree.
///
/// Where Swift makes us differ:
/// - ``cancelled()`` also returns when the *calling task* is cancelled. Tokio's future is simply
///   dropped when its task is aborted; in Swift the wait has to end somehow, and returning is the
///   least surprising way for a non-throwing call. Check ``isCancelled`` afterwards if it matters which.
/// - The token is a struct; copies share one node, as clones of Tokio's token share one. Equality and
///   hashing are by node.
public struct CancellationToken: Sendable, Hashable {
  @usableFromInline let node: TokenNode

  /// A new root token, not cancelled.
  public init() { node = TokenNode() }

  @usableFromInline init(node: TokenNode) { self.node = node }

  /// Cancels this token and every descendant, waking every task waiting in ``cancelled()``, in the
  /// order they began waiting. Idempotent.
  @inlinable public func cancel() { node.cancel() }

  /// Whether this token, or an ancestor, has been cancelled.
  @inlinable public var isCancelled: Bool { node.isCancelled }

  /// A token that is cancelled when this one is, and can be cancelled on its own without touching
  /// this one. Born cancelled when this token already is.
  @inlinable public func childToken() -> CancellationToken { CancellationToken(node: node.makeChild()) }

  /// Returns once the token is cancelled, or once the calling task is cancelled.
  @inlinable
  public func cancelled() async {
    if node.isCancelled { return }
    await node.waitForCancel()
  }

  public static func == (lhs: CancellationToken, rhs: CancellationToken) -> Bool { lhs.node === rhs.node }
  public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(node)) }
}

extension CancellationToken {
  /// How many child nodes are linked to this token now. Exposed so tests (yours too) can check that
  /// short-lived children are released rather than accumulating under a long-lived parent.
  public var childCountForTesting: Int { node.linkedChildCount }
}

extension CancellationToken {
  /// `cancelled()` calls waiting on this token's node now, for stress tests checking that no waiter
  /// is left behind.
  package var waiterCountForTesting: Int { node.waiterCount }

  /// The address of the shared node, so the package's benchmark can ask the allocator its size.
  package var nodeAddress: UnsafeMutableRawPointer { Unmanaged.passUnretained(node).toOpaque() }
}
