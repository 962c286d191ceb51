import Foundation
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Something the event loop tells about readiness of its descriptor.
protocol PollHandler: AnyObject {
  /// Runs on the loop thread.
  func handle(_ event: PollEvent)
}

/// One thread that waits for socket readiness and runs the handlers, the way nginx or a SwiftNIO
/// event loop does. Other threads and tasks talk to it only through `execute(_:)`.
///
/// Why a thread of its own: `epoll_wait` blocks, and a blocking call on one of Swift's cooperative
/// threads starves every task (there is one such thread per core). Here the loop blocks on its own
/// thread; the work a request needs over time (`/work?ms=N`) runs as a task and posts its result
/// back with `execute`.
///
/// Everything the loop owns (handlers, connections, counters) is touched only on the loop thread,
/// which is why the types around it are `@unchecked Sendable`.
final class EventLoop: @unchecked Sendable {
  private let poller: Poller
  private var handlers: [PollHandler?] = []
  private let inbox = Lock<[@Sendable () -> Void]>([])
  private var running = true
  /// Called on the loop thread about every `tickMilliseconds`: timeouts live there.
  var onTick: (() -> Void)?
  let tickMilliseconds: Int32

  init(tickMilliseconds: Int32 = 50) throws(SocketError) {
    poller = try Poller()
    self.tickMilliseconds = tickMilliseconds
  }

  /// Starts the loop on a new thread; `finished` runs on that thread after the loop has stopped.
  func start(name: String, finished: @escaping @Sendable () -> Void) {
    let thread = Thread { [self] in
      run()
      finished()
    }
    thread.name = name
    thread.stackSize = 1 << 20
    thread.start()
  }

  /// Runs `job` on the loop thread soon. Safe from any thread or task; never blocks.
  func execute(_ job: @escaping @Sendable () -> Void) {
    let wasEmpty = inbox.withLock { jobs in
      jobs.append(job)
      return jobs.count == 1
    }
    // One wake-up per batch: a non-empty inbox already has one on its way.
    if wasEmpty { poller.wake() }
  }

  /// Ends the loop after the current iteration (loop thread only).
  func stop() { running = false }

  /// Watches `descriptor` and sends its events to `handler` (loop thread only).
  func register(_ descriptor: Int32, _ handler: PollHandler, read: Bool = true, write: Bool = false) {
    let index = Int(descriptor)
    if index >= handlers.count {
      handlers.append(contentsOf: repeatElement(nil, count: index + 64 - handlers.count))
    }
    handlers[index] = handler
    poller.add(descriptor, read: read, write: write)
  }

  /// Changes what `descriptor` is watched for (loop thread only).
  func watch(_ descriptor: Int32, read: Bool, write: Bool) {
    poller.modify(descriptor, read: read, write: write)
  }

  /// Stops watching and closes `descriptor` (loop thread only).
  func unregisterAndClose(_ descriptor: Int32, reset: Bool = false) {
    poller.remove(descriptor)
    handlers[Int(descriptor)] = nil
    if reset { closeWithReset(descriptor) } else { close(descriptor) }
  }

  private func run() {
    var lastTick = monotonicNanoseconds()
    while running {
      let events = poller.wait(timeoutMilliseconds: tickMilliseconds)
      for event in events {
        let index = Int(event.descriptor)
        guard index < handlers.count, let handler = handlers[index] else { continue }
        handler.handle(event)
      }
      let jobs = inbox.withLock { jobs in
        let taken = jobs
        jobs.removeAll(keepingCapacity: true)
        return taken
      }
      for job in jobs { job() }
      let now = monotonicNanoseconds()
      if running, now - lastTick >= UInt64(tickMilliseconds) * 1_000_000 {
        lastTick = now
        onTick?()
      }
    }
    // Break the cycles through the owner (its tick closure, its connections as handlers).
    onTick = nil
    handlers.removeAll()
  }
}

/// A value shared between threads and tasks, behind a `Lock` (which, being non-copyable, cannot be
/// captured by escaping closures itself).
final class Shared<Value: Sendable>: Sendable {
  private let lock: Lock<Value>

  init(_ value: Value) { lock = Lock(value) }

  /// The current value.
  var value: Value { lock.withLock { $0 } }

  /// Runs `body` on the value under the lock.
  func update<T: Sendable>(_ body: (inout Value) -> T) -> T {
    lock.withLock { value in
      var copy = value
      defer { value = copy }
      return body(&copy)
    }
  }
}
