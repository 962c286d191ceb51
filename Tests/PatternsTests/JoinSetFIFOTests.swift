import Testing

@testable import Patterns

/// The ring that holds a join set's finished results and its waiting joiners: order must survive
/// wrapping around and growing while wrapped.
@Suite struct JoinSetFIFOTests {
  @Test func popsInAppendOrder_acrossAWrapAndAGrowthWhileWrapped() {
    var queue = JoinSetFIFO<Int>()
    for value in 1...4 { queue.append(value) }
    var popped = [queue.popFirst(), queue.popFirst()]  // 1, 2: the head moves to the third slot
    queue.append(5)  // these two wrap around into the freed slots
    queue.append(6)
    queue.append(7)  // full and wrapped: it grows, oldest first
    #expect(queue.count == 5)
    while let value = queue.popFirst() { popped.append(value) }
    #expect(popped == [1, 2, 3, 4, 5, 6, 7])
    #expect(queue.isEmpty && queue.popFirst() == nil)
  }

  @Test func removeAll_returnsWhatIsLeft_inOrder_andTheQueueStartsAfresh() {
    var queue = JoinSetFIFO<String>()
    for value in ["a", "b", "c"] { queue.append(value) }
    _ = queue.popFirst()
    queue.append("d")  // wraps
    #expect(queue.removeAll() == ["b", "c", "d"])
    #expect(queue.isEmpty)
    queue.append("e", expected: 100)
    #expect(queue.popFirst() == "e")
  }

  @Test func poppedElements_areMovedOut_soTheQueueKeepsNoReference() {
    final class Box {}
    var queue = JoinSetFIFO<Box>()
    weak var watched: Box?
    do {
      let box = Box()
      watched = box
      queue.append(box)
      queue.append(Box())
      _ = queue.popFirst()
    }
    #expect(watched == nil)  // its slot in the ring was emptied, not left holding it
  }
}
