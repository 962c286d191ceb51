#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What became ready on one file descriptor.
struct PollEvent: Sendable {
  var descriptor: Int32
  var readable: Bool
  var writable: Bool
  /// The peer hung up or the socket has an error; a read will say which.
  var hangup: Bool
}

/// Readiness of many non-blocking descriptors, for one thread: epoll on Linux, `poll(2)` elsewhere.
///
/// Glibc's Swift module does not export `<sys/epoll.h>`, and this package has no C target, so the
/// three epoll calls are looked up by name (as `Lock` looks up the sanitizer hooks) and the event
/// struct is written by hand: on x86-64 the kernel's `struct epoll_event` is packed (12 bytes),
/// elsewhere it is 16. Level-triggered: a descriptor stays ready until read or written.
///
/// Every method except `wake()` must be called from the poller's own thread.
final class Poller {
  private let backend: Backend
  /// Written to by `wake()`, read by the poller: a wake-up that needs no lock.
  private let wakeRead: Int32
  private let wakeWrite: Int32

  init() throws(SocketError) {
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else { throw SocketError("pipe", errno) }
    wakeRead = pipeEnds[0]
    wakeWrite = pipeEnds[1]
    setNonBlocking(wakeRead)
    setNonBlocking(wakeWrite)
    setCloseOnExec(wakeRead)
    setCloseOnExec(wakeWrite)
    #if os(Linux)
      if let epoll = EpollBackend() {
        backend = .epoll(epoll)
      } else {
        backend = .poll(PollBackend())
      }
    #else
      backend = .poll(PollBackend())
    #endif
    set(wakeRead, read: true, write: false, adding: true)
  }

  deinit {
    close(wakeRead)
    close(wakeWrite)
    if case .epoll(let epoll) = backend { epoll.close() }
  }

  /// Starts watching a descriptor.
  func add(_ descriptor: Int32, read: Bool, write: Bool) {
    set(descriptor, read: read, write: write, adding: true)
  }

  /// Changes what a watched descriptor is watched for.
  func modify(_ descriptor: Int32, read: Bool, write: Bool) {
    set(descriptor, read: read, write: write, adding: false)
  }

  /// Stops watching; call before closing the descriptor.
  func remove(_ descriptor: Int32) {
    switch backend {
    case .epoll(let epoll): epoll.remove(descriptor)
    case .poll(let poll): poll.remove(descriptor)
    }
  }

  /// Waits up to `timeoutMilliseconds` (-1: forever) and returns what is ready. A `wake()` makes it
  /// return early; the wake-up itself is not reported.
  func wait(timeoutMilliseconds: Int32) -> [PollEvent] {
    let events: [PollEvent]
    switch backend {
    case .epoll(let epoll): events = epoll.wait(timeoutMilliseconds)
    case .poll(let poll): events = poll.wait(timeoutMilliseconds)
    }
    guard events.contains(where: { $0.descriptor == wakeRead }) else { return events }
    var scratch = [UInt8](repeating: 0, count: 256)
    while read(wakeRead, &scratch, scratch.count) > 0 {}
    return events.filter { $0.descriptor != wakeRead }
  }

  /// Makes a current or the next `wait` return. Safe from any thread, and never blocks (the pipe is
  /// non-blocking; a full pipe already holds a wake-up).
  func wake() {
    var byte: UInt8 = 1
    _ = write(wakeWrite, &byte, 1)
  }

  private func set(_ descriptor: Int32, read: Bool, write: Bool, adding: Bool) {
    switch backend {
    case .epoll(let epoll): epoll.set(descriptor, read: read, write: write, adding: adding)
    case .poll(let poll): poll.set(descriptor, read: read, write: write)
    }
  }

  private enum Backend {
    case epoll(EpollBackend)
    case poll(PollBackend)
  }
}

#if os(Linux)
  /// epoll through symbols looked up at run time (see `Poller`).
  private final class EpollBackend {
    typealias Create = @convention(c) (Int32) -> Int32
    typealias Control = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias Wait = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32

    #if arch(x86_64)
      static let stride = 12
      static let dataOffset = 4
    #else
      static let stride = 16
      static let dataOffset = 8
    #endif
    static let inFlag: UInt32 = 0x001
    static let outFlag: UInt32 = 0x004
    static let errFlag: UInt32 = 0x008
    static let hupFlag: UInt32 = 0x010
    static let rdHupFlag: UInt32 = 0x2000

    private let control: Control
    private let waitCall: Wait
    private let descriptor: Int32
    private let capacity = 512
    private let buffer: UnsafeMutableRawPointer

    init?() {
      let everywhere: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT is 0 on glibc
      guard let create = dlsym(everywhere, "epoll_create1"), let control = dlsym(everywhere, "epoll_ctl"),
        let wait = dlsym(everywhere, "epoll_wait")
      else { return nil }
      let descriptor = unsafeBitCast(create, to: Create.self)(Int32(O_CLOEXEC))
      guard descriptor >= 0 else { return nil }
      self.descriptor = descriptor
      self.control = unsafeBitCast(control, to: Control.self)
      self.waitCall = unsafeBitCast(wait, to: Wait.self)
      buffer = .allocate(byteCount: Self.stride * capacity, alignment: 8)
    }

    deinit { buffer.deallocate() }

    func close() { _ = Glibc.close(descriptor) }

    func set(_ fd: Int32, read: Bool, write: Bool, adding: Bool) {
      var event = [UInt8](repeating: 0, count: Self.stride)
      var flags: UInt32 = 0
      if read { flags |= Self.inFlag | Self.rdHupFlag }
      if write { flags |= Self.outFlag }
      event.withUnsafeMutableBytes { raw in
        raw.storeBytes(of: flags, toByteOffset: 0, as: UInt32.self)
        raw.storeBytes(of: UInt64(UInt32(bitPattern: fd)), toByteOffset: Self.dataOffset, as: UInt64.self)
        _ = control(descriptor, adding ? 1 : 3, fd, raw.baseAddress)
      }
    }

    func remove(_ fd: Int32) {
      var event = [UInt8](repeating: 0, count: Self.stride)
      event.withUnsafeMutableBytes { _ = control(descriptor, 2, fd, $0.baseAddress) }
    }

    func wait(_ timeout: Int32) -> [PollEvent] {
      let count = waitCall(descriptor, buffer, Int32(capacity), timeout)
      guard count > 0 else { return [] }
      var events: [PollEvent] = []
      events.reserveCapacity(Int(count))
      for index in 0..<Int(count) {
        let base = index * Self.stride
        let flags = buffer.loadUnaligned(fromByteOffset: base, as: UInt32.self)
        let data = buffer.loadUnaligned(fromByteOffset: base + Self.dataOffset, as: UInt64.self)
        events.append(
          PollEvent(
            descriptor: Int32(bitPattern: UInt32(truncatingIfNeeded: data)),
            readable: flags & Self.inFlag != 0,
            writable: flags & Self.outFlag != 0,
            hangup: flags & (Self.errFlag | Self.hupFlag | Self.rdHupFlag) != 0))
      }
      return events
    }
  }
#endif

/// `poll(2)`, portable and O(descriptors) per wait: the fallback where epoll is missing.
private final class PollBackend {
  private var entries: [pollfd] = []
  private var indexByDescriptor: [Int32: Int] = [:]

  func set(_ fd: Int32, read: Bool, write: Bool) {
    var mask: Int16 = 0
    if read { mask |= Int16(POLLIN) }
    if write { mask |= Int16(POLLOUT) }
    if let index = indexByDescriptor[fd] {
      entries[index].events = mask
    } else {
      indexByDescriptor[fd] = entries.count
      entries.append(pollfd(fd: fd, events: mask, revents: 0))
    }
  }

  func remove(_ fd: Int32) {
    guard let index = indexByDescriptor.removeValue(forKey: fd) else { return }
    let last = entries.removeLast()
    if index < entries.count {
      entries[index] = last
      indexByDescriptor[last.fd] = index
    }
  }

  func wait(_ timeout: Int32) -> [PollEvent] {
    let count = poll(&entries, nfds_t(entries.count), timeout)
    guard count > 0 else { return [] }
    return entries.compactMap { entry in
      guard entry.revents != 0 else { return nil }
      let revents = Int32(entry.revents)
      return PollEvent(
        descriptor: entry.fd, readable: revents & Int32(POLLIN) != 0, writable: revents & Int32(POLLOUT) != 0,
        hangup: revents & Int32(POLLERR | POLLHUP | POLLNVAL) != 0)
    }
  }
}
