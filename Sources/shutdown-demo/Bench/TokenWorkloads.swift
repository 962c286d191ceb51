import Patterns
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// W5: fan-out of cancellation, the token tree against a task group's built-in cancellation.
enum TokenWorkloads {
  static let fanOut = 100_000

  static let create = Comparison(
    id: "W5a", title: "token: create 100,000 child tokens of one root",
    counterpart: "none: Swift has no cancellation token; figures are absolute",
    versus: "none",
    target: "≤ 40 ns and ≤ 128 bytes per token",
    meets: Target.all(
      Target.atMost(40), { result in result.extra.first { $0.0 == "bytes per token" }.map { $0.1 <= 128 } }),
    ours: { scale in
      let count = fanOut / scale
      let root = CancellationToken()
      var tokens: [CancellationToken] = []
      tokens.reserveCapacity(count)
      // Two batches. The first lands on fresh heap pages: the kernel maps one page per ~50 tokens on
      // first touch, which costs as much as the tokens themselves and moves from run to run. The
      // second reuses the first batch's freed blocks, as a running service does; it is the figure.
      let freshHeap = await timed(operations: count) {
        for _ in 0..<count { tokens.append(root.childToken()) }
      }
      tokens.removeAll(keepingCapacity: true)
      var sample = await timed(operations: count) {
        for _ in 0..<count { tokens.append(root.childToken()) }
      }
      // A child costs its node's allocation plus its slot in the parent's list of children.
      let node = allocationSize(tokens[0].nodeAddress)
      sample.extra = [
        ("bytes per token", Double(node + MemoryLayout<UnsafeRawPointer>.size)),
        ("ns on a fresh heap", freshHeap.nanosecondsPerOperation),
      ]
      withExtendedLifetime(tokens) {}
      return sample
    },
    theirs: nil)

  static let cancel = Comparison(
    id: "W5b", title: "token: 100,000 tasks await cancelled(); cancel the root; until the last is done",
    counterpart:
      "a task group of 100,000 children each parked in withTaskCancellationHandler on a continuation, "
      + "then cancelAll(): Swift's own cascade, and the floor for waking that many tasks",
    versus: "the task group's cancelAll()",
    target: "≤ 1.2× the counterpart",
    meets: Target.ratioAtMost(1.2),
    ours: { scale in
      let count = fanOut / scale
      let heapBefore = heapInUse()
      let root = CancellationToken()
      let children = (0..<count).map { _ in root.childToken() }
      let tokens = heapInUse() - heapBefore
      let parked = ArrivalCounter()
      return await withTaskGroup(of: Void.self) { group in
        for child in children {
          group.addTask {
            parked.increment()
            await child.cancelled()
          }
        }
        await parked.waitUntil(count)
        let peak = heapInUse() - heapBefore
        var sample = await timed(operations: count) {
          root.cancel()
          await group.waitForAll()
        }
        sample.extra = [
          ("bytes per waiting task", Double(peak) / Double(count)),
          ("of them its token", Double(tokens) / Double(count)),
        ]
        return sample
      }
    },
    theirs: { scale in
      let count = fanOut / scale
      let heapBefore = heapInUse()
      let parked = ArrivalCounter()
      return await withTaskGroup(of: Void.self) { group in
        for _ in 0..<count {
          group.addTask {
            let slot = ContinuationSlot()
            parked.increment()
            await withTaskCancellationHandler {
              await withCheckedContinuation { slot.park($0) }
            } onCancel: {
              slot.resume()
            }
          }
        }
        await parked.waitUntil(count)
        let peak = heapInUse() - heapBefore
        var sample = await timed(operations: count) {
          group.cancelAll()
          await group.waitForAll()
        }
        sample.extra = [("bytes per waiting task", Double(peak) / Double(count))]
        return sample
      }
    })

  /// Bytes the allocator has handed out and not had back: glibc's `malloc_info` report (looked up at
  /// run time, as the Glibc module does not export it), what it got from the system less what is
  /// free. Taken before and after, it counts everything allocated in between, however it was split
  /// into blocks. 0 where it is not available.
  static func heapInUse() -> Int {
    #if canImport(Glibc)
      typealias MallocInfo = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32
      guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_info") else { return 0 }
      var buffer: UnsafeMutablePointer<CChar>?
      var size = 0
      guard let stream = open_memstream(&buffer, &size) else { return 0 }
      _ = unsafeBitCast(symbol, to: MallocInfo.self)(0, stream)
      fclose(stream)
      guard let buffer else { return 0 }
      defer { free(buffer) }
      // The report ends with the totals over every arena, after the last </heap>.
      let report = String(cString: buffer)
      guard let totals = report.split(separator: "</heap>").last else { return 0 }
      func figure(_ tag: String) -> Int {
        guard let start = totals.range(of: tag) else { return 0 }
        let rest = totals[start.upperBound...]
        guard let open = rest.range(of: "size=\""), let close = rest[open.upperBound...].firstIndex(of: "\"")
        else { return 0 }
        return Int(rest[open.upperBound..<close]) ?? 0
      }
      return figure("<system type=\"current\"") + figure("<total type=\"mmap\"")
        - figure("<total type=\"fast\"") - figure("<total type=\"rest\"")
    #else
      return 0
    #endif
  }

  /// What the allocator really reserved for a block (glibc's `malloc_usable_size`, looked up at run
  /// time because the Glibc module does not export it); 0 where it is not available.
  static func allocationSize(_ pointer: UnsafeMutableRawPointer) -> Int {
    #if canImport(Glibc)
      typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int
      guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_usable_size") else { return 0 }
      return unsafeBitCast(symbol, to: UsableSize.self)(pointer)
    #else
      return 0
    #endif
  }
}

/// Counts tasks that have reached their wait, so timing starts with everyone parked.
final class ArrivalCounter: Sendable {
  private let value = Atomic<Int>(0)
  func increment() { value.add(1, ordering: .relaxed) }
  var count: Int { value.load(ordering: .relaxed) }
  func waitUntil(_ target: Int) async {
    while value.load(ordering: .relaxed) < target { await Task.yield() }
    await Task.yield()  // the last counted task still has to suspend
  }
}

/// The counterpart's waiter: one continuation, resumed once by cancellation.
final class ContinuationSlot: Sendable {
  private let state = Mutex<CheckedContinuation<Void, Never>?>(nil)

  func park(_ continuation: CheckedContinuation<Void, Never>) {
    // As in our token: check the task's flag under the lock, so a cancel that ran first is not lost.
    let cancelled = state.withLock { slot -> Bool in
      if Task.isCancelled { return true }
      slot = continuation
      return false
    }
    if cancelled { continuation.resume() }
  }

  func resume() {
    state.withLock { slot in
      defer { slot = nil }; return slot
    }?.resume()
  }
}
