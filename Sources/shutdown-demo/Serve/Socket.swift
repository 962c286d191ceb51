#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A failed system call: which one and `errno`'s text.
struct SocketError: Error, CustomStringConvertible, Sendable {
  var call: String
  var code: Int32

  init(_ call: String, _ code: Int32) {
    self.call = call
    self.code = code
  }

  var description: String { "\(call): \(String(cString: strerror(code)))" }
}

func setNonBlocking(_ descriptor: Int32) {
  let flags = fcntl(descriptor, F_GETFL, 0)
  _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
}

func setCloseOnExec(_ descriptor: Int32) {
  let flags = fcntl(descriptor, F_GETFD, 0)
  _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC)
}

/// Sends without ever raising SIGPIPE (`MSG_NOSIGNAL` where the platform has it). Returns the byte
/// count, or -1 with `errno` set.
func sendNoSignal(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int {
  #if os(Linux)
    return send(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
  #else
    return send(descriptor, bytes.baseAddress, bytes.count, 0)
  #endif
}

/// An IPv4 socket address on 127.0.0.1 (or another dotted quad) and a port.
func makeAddress(host: String, port: UInt16) throws(SocketError) -> sockaddr_in {
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_port = port.bigEndian
  guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
    throw SocketError("inet_pton(\(host))", EINVAL)
  }
  return address
}

private func socketStream() -> Int32 {
  #if os(Linux)
    return socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  #else
    return socket(AF_INET, SOCK_STREAM, 0)
  #endif
}

/// A non-blocking listening socket: `SO_REUSEADDR` (a restarted server can bind while old
/// connections sit in TIME_WAIT) and the given backlog. Returns the socket and the bound port, which
/// is the kernel's choice when `port` is 0.
func makeListener(host: String, port: UInt16, backlog: Int32) throws(SocketError) -> (Int32, UInt16) {
  var address = try makeAddress(host: host, port: port)
  let descriptor = socketStream()
  guard descriptor >= 0 else { throw SocketError("socket", errno) }
  var one: Int32 = 1
  _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
  let bound = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  guard bound == 0 else {
    let code = errno
    close(descriptor)
    throw SocketError("bind \(host):\(port)", code)
  }
  guard listen(descriptor, backlog) == 0 else {
    let code = errno
    close(descriptor)
    throw SocketError("listen", code)
  }
  setNonBlocking(descriptor)
  setCloseOnExec(descriptor)
  var actual = sockaddr_in()
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  _ = withUnsafeMutablePointer(to: &actual) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
  }
  return (descriptor, UInt16(bigEndian: actual.sin_port))
}

/// Accepts one pending connection as a non-blocking, close-on-exec socket with `TCP_NODELAY`, or
/// returns -1 (`errno` EAGAIN when none is pending).
func acceptConnection(_ listener: Int32) -> Int32 {
  let descriptor = accept(listener, nil, nil)
  guard descriptor >= 0 else { return -1 }
  setNonBlocking(descriptor)
  setCloseOnExec(descriptor)
  setNoDelay(descriptor)
  return descriptor
}

/// Small responses go out at once instead of waiting for Nagle's algorithm.
func setNoDelay(_ descriptor: Int32) {
  var one: Int32 = 1
  _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
}

/// Starts a non-blocking connect. Returns the socket and whether it is already connected (loopback
/// connects often complete at once); a refusal may come now (thrown) or later (as an error on the
/// socket, read with `pendingSocketError`).
func startConnect(to address: sockaddr_in) throws(SocketError) -> (Int32, Bool) {
  let descriptor = socketStream()
  guard descriptor >= 0 else { throw SocketError("socket", errno) }
  setNonBlocking(descriptor)
  setCloseOnExec(descriptor)
  setNoDelay(descriptor)
  var address = address
  let result = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
      connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
    }
  }
  if result == 0 { return (descriptor, true) }
  let code = errno
  if code == EINPROGRESS { return (descriptor, false) }
  close(descriptor)
  throw SocketError("connect", code)
}

/// The error a non-blocking connect ended with (0: connected).
func pendingSocketError(_ descriptor: Int32) -> Int32 {
  var code: Int32 = 0
  var length = socklen_t(MemoryLayout<Int32>.size)
  _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
  return code
}

/// Bytes waiting to be read on a socket (`FIONREAD`).
func bytesWaiting(_ descriptor: Int32) -> Int32 {
  var count: Int32 = 0
  #if os(Linux)
    _ = ioctl(descriptor, UInt(FIONREAD), &count)
  #else
    _ = ioctl(descriptor, FIONREAD, &count)
  #endif
  return count
}

/// Closes a descriptor (for types whose own `close` method hides the system call's name).
func closeDescriptor(_ descriptor: Int32) {
  close(descriptor)
}

/// Closes with an RST instead of a FIN (`SO_LINGER` 0), as a crashed process's sockets are closed.
func closeWithReset(_ descriptor: Int32) {
  var option = linger(l_onoff: 1, l_linger: 0)
  _ = setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
  close(descriptor)
}

/// Raises the open-files soft limit to the hard limit, so one process can hold 1,000 connections
/// (many systems start at a soft limit of 1,024). Returns the limit now in force.
@discardableResult
func raiseOpenFilesLimit() -> UInt64 {
  var limit = rlimit()
  #if os(Linux)
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
  #else
    let resource = RLIMIT_NOFILE
  #endif
  guard getrlimit(resource, &limit) == 0 else { return 0 }
  if limit.rlim_cur < limit.rlim_max {
    var raised = limit
    raised.rlim_cur = limit.rlim_max
    if setrlimit(resource, &raised) == 0 { limit = raised }
  }
  return UInt64(limit.rlim_cur)
}

/// The monotonic clock in nanoseconds, for the event loops' deadlines (cheap: no system call on Linux).
func monotonicNanoseconds() -> UInt64 {
  var spec = timespec()
  clock_gettime(CLOCK_MONOTONIC, &spec)
  return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
