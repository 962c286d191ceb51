import Synchronization

extension MPSC {
  /// One reserved slot: `send(_:)` uses it without waiting; deinitialized unsent, it gives the slot
  /// back. While it is alive it keeps the channel open, like a sender. Tokio: `OwnedPermit`.
  public final class Permit: Sendable {
    let storage: Storage
    private let used = Atomic<Bool>(false)

    init(storage: Storage) { self.storage = storage }

    deinit {
      if !used.load(ordering: .relaxed) { storage.permitDropped() }
    }

    /// Sends `value` in the reserved slot. Never waits, never fails: if the receiver is gone by
    /// now, the value is dropped, as in Tokio.
    ///
    /// - Precondition: the permit has not sent before (a permit holds one slot).
    public func send(_ value: Element) {
      let (firstSend, _) = used.compareExchange(
        expected: false, desired: true, ordering: .acquiringAndReleasing)
      precondition(firstSend, "MPSC.Permit.send: this permit has already sent its one value")
      storage.permitSend(value)
    }
  }
}
