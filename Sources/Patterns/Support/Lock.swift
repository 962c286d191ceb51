import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `Synchronization.Mutex`, made visible to the Thread Sanitizer. Every primitive keeps its state in
/// one of these.
///
/// Why: on Linux, `Mutex` waits in a futex inside the (uninstrumented) standard library, so when two
/// threads contend, TSan does not see that the unlock on one happened before the lock on the other,
/// and reports the two `withLock` bodies as an "access race" although the lock orders them (ten lines
/// reproduce it: eight threads appending to a `Mutex<[Int]>`). This wrapper tells TSan about each
/// acquire and release (`__tsan_acquire` / `__tsan_release`, the annotations TSan offers for custom
/// locks). The hooks are looked up once; in a build without TSan they are absent, and the only cost
/// is one `nil` check per lock.
@usableFromInline
package struct Lock<Value: ~Copyable>: ~Copyable, Sendable {
  @usableFromInline let mutex: Mutex<Value>
  /// Only in a TSan process: an object whose address names this lock to TSan.
  @usableFromInline let sanitizerToken: SanitizerToken?

  package init(_ initialValue: consuming sending Value) {
    mutex = Mutex(initialValue)
    sanitizerToken = SanitizerHooks.isActive ? SanitizerToken() : nil
  }

  /// Runs `body` with the value while holding the lock, as `Mutex.withLock`.
  @inlinable
  package borrowing func withLock<Result: ~Copyable, E: Error>(
    _ body: (inout sending Value) throws(E) -> sending Result
  ) throws(E) -> sending Result {
    guard let sanitizerToken else { return try mutex.withLock(body) }
    let address = Unmanaged.passUnretained(sanitizerToken).toOpaque()
    return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
      // Before the body touches the value, and after it is done: TSan orders the bodies by these.
      SanitizerHooks.acquire?(address)
      defer { SanitizerHooks.release?(address) }
      return try body(&value)
    }
  }
}

/// Names one `Lock` to the Thread Sanitizer.
@usableFromInline
package final class SanitizerToken: Sendable {
  init() {}
}

/// The Thread Sanitizer's annotation functions, present only in a process built with
/// `-sanitize=thread`.
@usableFromInline
package enum SanitizerHooks {
  @usableFromInline typealias Hook = @convention(c) (UnsafeMutableRawPointer?) -> Void

  @usableFromInline static let acquire: Hook? = lookup("__tsan_acquire")
  @usableFromInline static let release: Hook? = lookup("__tsan_release")
  static var isActive: Bool { acquire != nil && release != nil }

  private static func lookup(_ name: String) -> Hook? {
    #if canImport(Glibc)
      let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT is 0 on glibc
    #else
      let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT on Darwin
    #endif
    guard let symbol = dlsym(everywhere, name) else { return nil }
    return unsafeBitCast(symbol, to: Hook.self)
  }
}
