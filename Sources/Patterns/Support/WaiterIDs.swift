import Synchronization

/// Hands out the ids that name waits, so a cancellation handler can find and remove its own waiter;
/// they also order waits by when they began.
///
/// An atomic, not the primitive's lock: an id needs no other state, and taking the lock for it
/// would cost every wait a second lock round trip.
@usableFromInline
struct WaiterIDs: ~Copyable, Sendable {
  @usableFromInline let next = Atomic<UInt64>(0)

  @usableFromInline init() {}

  @inlinable
  func make() -> UInt64 { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}
