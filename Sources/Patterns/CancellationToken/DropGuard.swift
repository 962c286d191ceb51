import Synchronization

extension CancellationToken {
  /// A guard that cancels this token when the guard is deinitialized, unless it was disarmed.
  ///
  /// Give one to the owner of a subtree: however the owner's scope ends (a return, a thrown error,
  /// an early exit), the last reference to the guard goes and the subtree is told to stop.
  /// Tokio's `CancellationToken::drop_guard`.
  public func dropGuard() -> DropGuard { DropGuard(token: self) }
}

/// Cancels its token on `deinit`, unless ``disarm()`` was called first.
///
/// ARC is Swift's `drop`: the guard fires when its last reference goes, which for a local is at the
/// end of its scope at the latest (and may be earlier, after its last use: keep it alive with
/// `withExtendedLifetime` or end it on purpose with `_ = consume guard`). Tokio's `DropGuard`;
/// Tokio's `disarm` consumes the guard, ours leaves a guard that does nothing.
public final class DropGuard: Sendable {
  private let token: CancellationToken
  private let armed = Atomic<Bool>(true)

  init(token: CancellationToken) { self.token = token }

  /// Stops the guard from cancelling, and returns the token it guarded.
  @discardableResult
  public func disarm() -> CancellationToken {
    armed.store(false, ordering: .relaxed)
    return token
  }

  deinit {
    if armed.load(ordering: .relaxed) { token.cancel() }
  }
}
