import Foundation
import Patterns
import Synchronization

/// Sizes for the stress suites. They run on the default, multi-threaded executor, so they exercise
/// real interleavings (and, under `swift test --sanitize=thread`, the Thread Sanitizer sees them).
/// The default size finishes in seconds in a debug build; `STRESS_SCALE=10 swift test --filter
/// Stress` multiplies every loop count by 10.
enum Stress {
  /// `STRESS_SCALE` as a positive whole number, else 1.
  static let scale: Int = {
    guard let text = ProcessInfo.processInfo.environment["STRESS_SCALE"], let value = Int(text), value > 0
    else { return 1 }
    return value
  }()

  /// `base` times the scale.
  static func count(_ base: Int) -> Int { base * scale }

  /// Runs `operation` in its own task and, when `cancel` is true, cancels it after `yields` yields,
  /// so a wait is cut short at whatever point it has reached: not started, registering, or parked.
  static func maybeCancelled<T: Sendable>(
    cancel: Bool, yields: Int, _ operation: @escaping @Sendable () async throws -> T
  ) async -> Result<T, any Error> {
    let task = Task { try await operation() }
    if cancel {
      for _ in 0..<yields { await Task.yield() }
      task.cancel()
    }
    return await task.result
  }
}

/// A small deterministic generator (SplitMix64), so each task's choices come from its own seed.
struct StressRandom: RandomNumberGenerator, Sendable {
  private var state: UInt64

  init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// True with probability 1/`n`.
  mutating func oneIn(_ n: Int) -> Bool { Int.random(in: 0..<n, using: &self) == 0 }
}

/// A counter shared by many tasks.
final class StressCounter: Sendable {
  private let value = Atomic<Int>(0)
  func increment(by amount: Int = 1) { value.add(amount, ordering: .relaxed) }
  var count: Int { value.load(ordering: .relaxed) }
}

/// Hands each task one item, so each task owns (and drops, when it ends) what it took.
final class StressHandOut<Item: Sendable>: Sendable {
  private let items: Lock<[Item]>
  init(_ items: [Item]) { self.items = Lock(items) }
  func take() -> Item? { items.withLock { $0.popLast() } }
}
