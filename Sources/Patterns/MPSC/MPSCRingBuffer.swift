/// A first-in first-out queue in a growable circular array: the channel's buffer and its queue of
/// waiting senders.
///
/// Appending and taking from the front are O(1) and allocate nothing once the array has grown to the
/// largest size the queue has reached (it doubles when full and never shrinks), so a channel in steady
/// state allocates nothing per message. Removing from the middle (a cancelled waiter) is O(n).
@usableFromInline
struct RingBuffer<Element> {
  @usableFromInline var slots: [Element?]
  @usableFromInline var head = 0
  @usableFromInline var count = 0

  @inlinable
  init(initialCapacity: Int = 0) {
    slots = Array(repeating: nil, count: initialCapacity)
  }

  @inlinable var isEmpty: Bool { count == 0 }

  /// The physical index of the element at logical position `offset`.
  @inlinable
  func index(_ offset: Int) -> Int {
    let index = head + offset
    return index >= slots.count ? index - slots.count : index
  }

  @inlinable
  mutating func append(_ element: Element) {
    if count == slots.count { grow() }
    slots[index(count)] = element
    count += 1
  }

  @inlinable
  mutating func popFirst() -> Element? {
    guard count > 0 else { return nil }
    let element = slots[head]
    slots[head] = nil
    head += 1
    if head == slots.count { head = 0 }
    count -= 1
    return element
  }

  /// The element at logical position `offset` (0 is the front).
  @inlinable
  subscript(offset: Int) -> Element {
    slots[index(offset)]!
  }

  /// Removes and returns the element at logical position `offset`, keeping the order of the rest.
  @inlinable
  mutating func remove(at offset: Int) -> Element {
    let removed = slots[index(offset)]!
    var position = offset
    while position + 1 < count {
      slots[index(position)] = slots[index(position + 1)]
      position += 1
    }
    slots[index(count - 1)] = nil
    count -= 1
    return removed
  }

  /// Removes every element, front first.
  @inlinable
  mutating func removeAll() -> [Element] {
    var all: [Element] = []
    all.reserveCapacity(count)
    while let element = popFirst() { all.append(element) }
    head = 0
    return all
  }

  @usableFromInline
  mutating func grow() {
    var bigger: [Element?] = Array(repeating: nil, count: Swift.max(8, slots.count * 2))
    for offset in 0..<count { bigger[offset] = slots[index(offset)] }
    slots = bigger
    head = 0
  }
}
extension RingBuffer: Sendable where Element: Sendable {}
