import Foundation
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What one run of the server counted. Owned by the loop thread; copied out when the loop stops.
struct ServerCounters: Sendable, Equatable {
  var connectionsAccepted = 0
  var requests = 0
  var responsesByStatus: [Int: Int] = [:]
  var headerTimeouts = 0
  var idleTimeouts = 0
  /// Idle keep-alive connections, and connections that never sent a byte, closed when draining began.
  var closedIdleAtShutdown = 0
  /// Responses sent with `Connection: close` because the server was draining.
  var closedAfterResponseAtShutdown = 0
  /// Connections cut at the grace deadline (or a second signal) with a request unanswered.
  var abortedAtDeadline = 0
  /// Connections still open when the server stopped, closed then (those above included).
  var closedAtStop = 0
}

/// The server's knobs.
struct ServerConfiguration: Sendable {
  var host = "127.0.0.1"
  var port: UInt16 = 8080
  var headerTimeout: Duration = .seconds(10)
  var idleTimeout: Duration = .seconds(60)
  /// Counters of earlier runs, from the state file.
  var restored = PersistedServerState()
}

/// What the shutdown coordinator lends the server: the phase (readiness reads it) and the
/// connection tracker (every accepted connection is counted in, and the drain waits for it).
struct ServerShutdownLink: Sendable {
  var phases: Watch<ShutdownPhase>.Receiver
  var connections: ConnectionTracker
}

/// A small HTTP/1.1 server on one event loop: keep-alive, pipelining, `Connection: close`, a header
/// timeout and an idle timeout, and the two calls a shutdown needs: `stopAccepting()` and `stop()`.
///
/// Routes: `GET /work?ms=N` (N ms on the clock, in a task, never blocking a thread), `/health`,
/// `/ready`, `/stats`. Everything but `stopAccepting()` and `stop()` runs on the loop thread.
///
/// Readiness is the coordinator's phase: `/ready` answers 200 while it is `running` and 503 from
/// the first signal on. Each connection holds a `ConnectionGuard` from the coordinator's tracker
/// until it closes, so the coordinator's drain ends the moment the last connection has closed.
final class HTTPServer: PollHandler, @unchecked Sendable {
  let loop: EventLoop
  let port: UInt16
  private let configuration: ServerConfiguration
  private var listener: Int32
  private var connections: [Int32: ServerConnection] = [:]
  /// The listener is closed: every response from now on carries `Connection: close`.
  private var closing = false
  private(set) var counters = ServerCounters()
  /// Set before the loop starts; `nil` for `--naive` (always ready, nothing tracked).
  var coordinator: ServerShutdownLink?
  private var nextID: UInt64 = 0
  private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
  private var dateField: [UInt8] = []
  private var dateSecond = -1
  private let startNanoseconds = monotonicNanoseconds()
  private let headerTimeoutNanoseconds: UInt64
  private let idleTimeoutNanoseconds: UInt64

  /// How long a connection must have been quiet before the shutdown closes it as idle. A keep-alive
  /// client sends its next request microseconds after a response; closing in that instant is the
  /// keep-alive race (RFC 9112 section 9.3.1; hyper#3792 and its first-byte grace window), so a
  /// connection that just finished a response gets this long to send the next one, which is then
  /// answered with `Connection: close`.
  static let idleQuietNanoseconds: UInt64 = 100_000_000
  /// How long to keep reading (and discarding) after an error response before closing, so the
  /// client reads the response instead of a reset (a "lingering close", as nginx does).
  static let lingerNanoseconds: UInt64 = 2_000_000_000
  /// Bodies are read and discarded; larger ones are refused.
  static let maximumBodyBytes = 1 << 20

  init(loop: EventLoop, configuration: ServerConfiguration) throws(SocketError) {
    self.loop = loop
    self.configuration = configuration
    // 4,096: at least the 1,024 pending connections a burst of 1,000 clients needs; the kernel caps
    // it at net.core.somaxconn.
    (listener, port) = try makeListener(host: configuration.host, port: configuration.port, backlog: 4096)
    headerTimeoutNanoseconds = UInt64(exactNanoseconds(configuration.headerTimeout) ?? 10_000_000_000)
    idleTimeoutNanoseconds = UInt64(exactNanoseconds(configuration.idleTimeout) ?? 60_000_000_000)
  }

  /// Starts serving on the loop (call once, before `loop.start`).
  func start() {
    loop.register(listener, self)
    loop.onTick = { [self] in tick() }  // the loop drops it when it stops
    updateDate()
  }

  // MARK: Shutdown (any task; the work is done on the loop thread)

  /// The coordinator's stop-accepting step: accepts what the kernel already queued (closing a
  /// listener resets its queued connections, and those clients had been accepted as far as they
  /// can tell), closes the listener, closes the idle connections, and from then on answers with
  /// `Connection: close`. Returns how many idle connections it closed, once it has.
  func stopAccepting() async -> Int {
    await withCheckedContinuation { continuation in
      loop.execute { [self] in
        acceptPending()
        closeListener()
        closing = true
        let before = counters.closedIdleAtShutdown
        closeIdleConnections(now: monotonicNanoseconds())
        continuation.resume(returning: counters.closedIdleAtShutdown - before)
      }
    }
  }

  /// The cleanup step: closes every connection still open (the stragglers the grace deadline or a
  /// second signal left, counted when a request was unanswered), stops the loop, and returns the
  /// counters of this run.
  func stop() async -> ServerCounters {
    await withCheckedContinuation { continuation in
      loop.execute { [self] in
        closeListener()
        for connection in Array(connections.values) {
          if connection.hasRequestInProgress { counters.abortedAtDeadline += 1 }
          counters.closedAtStop += 1
          close(connection)
        }
        loop.stop()
        continuation.resume(returning: counters)
      }
    }
  }

  private func closeListener() {
    guard listener >= 0 else { return }
    loop.unregisterAndClose(listener)
    listener = -1
  }

  /// The phase readiness reports.
  private var phase: ShutdownPhase { coordinator?.phases.borrow() ?? .running }

  // MARK: Accepting

  func handle(_ event: PollEvent) {
    acceptPending()
  }

  private var listenerPaused = false

  private func acceptPending() {
    guard listener >= 0 else { return }
    for _ in 0..<256 {
      let descriptor = acceptConnection(listener)
      guard descriptor >= 0 else {
        if errno == EMFILE || errno == ENFILE {
          // Out of descriptors: stop watching until the next tick, or the ready listener spins.
          listenerPaused = true
          loop.watch(listener, read: false, write: false)
        }
        return
      }
      var entry: ConnectionGuard?
      if let coordinator {
        // Only after the stop-accepting step could the tracker be closed, and then the listener
        // is closed too: this is a safety net, never a path a client takes.
        guard let admitted = coordinator.connections.enter() else {
          closeDescriptor(descriptor)
          continue
        }
        entry = admitted
      }
      nextID += 1
      let now = monotonicNanoseconds()
      let connection = ServerConnection(server: self, descriptor: descriptor, id: nextID, now: now)
      connection.entry = entry
      connection.deadline = now + headerTimeoutNanoseconds
      connections[descriptor] = connection
      counters.connectionsAccepted += 1
      loop.register(descriptor, connection)
    }
  }

  // MARK: One connection's bytes

  fileprivate func event(_ event: PollEvent, on connection: ServerConnection) {
    if event.writable { flush(connection) }
    guard !connection.isClosed, event.readable || event.hangup else { return }
    if connection.isLingering {
      lingerRead(connection)
      return
    }
    if connection.isBusy {
      // Reading is paused while a request is worked on; a reset or hang-up still shows here.
      if event.hangup { close(connection) }
      return
    }
    let received = scratch.withUnsafeMutableBytes { recv(connection.descriptor, $0.baseAddress, $0.count, 0) }
    if received == 0 || (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      close(connection)  // the client closed, or reset
      return
    }
    guard received > 0 else { return }
    if connection.idleSinceResponse {
      // The first byte of the next request: from now on the header deadline applies. A new
      // connection's header deadline runs from the accept, so connecting early buys no time.
      connection.idleSinceResponse = false
      connection.deadline = monotonicNanoseconds() + headerTimeoutNanoseconds
    }
    connection.input.append(contentsOf: scratch[0..<received])
    process(connection)
    flush(connection)
  }

  /// Answers every complete request in the buffer, in order, until one needs time (`/work`) or the
  /// connection is to close.
  private func process(_ connection: ServerConnection) {
    while !connection.isBusy && !connection.closeAfterWrite && !connection.isClosed {
      if connection.bodyRemaining > 0 {
        let skipped = min(connection.bodyRemaining, connection.unparsedCount)
        connection.inputStart += skipped
        connection.bodyRemaining -= skipped
        guard connection.bodyRemaining == 0, let head = connection.pendingHead else { break }
        connection.pendingHead = nil
        route(head, on: connection)
        continue
      }
      let outcome = connection.input.withUnsafeBytes { raw -> HeadOutcome in
        let unparsed = UnsafeRawBufferPointer(rebasing: raw[connection.inputStart...])
        guard let end = headEnd(in: unparsed, scanFrom: connection.scanFrom) else {
          connection.scanFrom = max(unparsed.count - 2, 0)
          return unparsed.count > HTTPRequestHead.maximumBytes ? .tooLarge : .incomplete
        }
        guard end <= HTTPRequestHead.maximumBytes else { return .tooLarge }
        connection.inputStart += end
        connection.scanFrom = 0
        return .head(HTTPRequestHead.parse(UnsafeRawBufferPointer(rebasing: unparsed[..<end])))
      }
      switch outcome {
      case .incomplete:
        if connection.idleSinceResponse && connection.unparsedCount > 0 {
          connection.idleSinceResponse = false
          connection.deadline = monotonicNanoseconds() + headerTimeoutNanoseconds
        }
        compact(connection)
        return
      case .tooLarge:
        respond(connection, status: 431, body: #"{"error":"request headers larger than 8 KiB"}"#, close: true)
      case .head(.failure(.versionNotSupported)):
        respond(connection, status: 505, body: #"{"error":"only HTTP/1.0 and HTTP/1.1"}"#, close: true)
      case .head(.failure(.badRequest(let reason))):
        respond(connection, status: 400, body: #"{"error":"\#(reason)"}"#, close: true)
      case .head(.success(let head)):
        connection.requestsStarted += 1
        connection.keepAliveRequested = head.keepAlive
        connection.isHead = head.method == "HEAD"
        connection.http10 = head.minorVersion == 0
        if head.hasTransferEncoding
          || (head.contentLength == nil && ["POST", "PUT", "PATCH"].contains(head.method))
        {
          respond(
            connection, status: 411, body: #"{"error":"a request body needs Content-Length"}"#, close: true)
        } else if let length = head.contentLength, length > Self.maximumBodyBytes {
          respond(connection, status: 413, body: #"{"error":"request body larger than 1 MiB"}"#, close: true)
        } else if let length = head.contentLength, length > 0 {
          connection.bodyRemaining = length
          connection.pendingHead = head
        } else {
          route(head, on: connection)
        }
      }
    }
    compact(connection)
  }

  private enum HeadOutcome {
    case incomplete
    case tooLarge
    case head(Result<HTTPRequestHead, HTTPRequestHead.Failure>)
  }

  private func compact(_ connection: ServerConnection) {
    guard connection.inputStart > 0 else { return }
    if connection.inputStart >= connection.input.count {
      connection.input.removeAll(keepingCapacity: connection.input.capacity <= 16 * 1024)
    } else {
      connection.input.removeFirst(connection.inputStart)
    }
    connection.inputStart = 0
  }

  private func route(_ head: HTTPRequestHead, on connection: ServerConnection) {
    let known = ["/health", "/ready", "/stats", "/work"]
    guard known.contains(head.path) else {
      respond(
        connection, status: 404, body: #"{"error":"no such path; try /work?ms=100, /health, /ready, /stats"}"#
      )
      return
    }
    guard head.method == "GET" || head.method == "HEAD" else {
      respond(
        connection, status: 405, body: #"{"error":"only GET and HEAD"}"#, extraHeaders: "Allow: GET, HEAD\r\n"
      )
      return
    }
    switch head.path {
    case "/health":
      respond(connection, status: 200, body: #"{"status":"ok"}"#)
    case "/ready":
      let phase = phase
      if phase == .running {
        respond(connection, status: 200, body: #"{"ready":true}"#)
      } else {
        respond(connection, status: 503, body: #"{"ready":false,"state":"\#(phase)"}"#)
      }
    case "/stats":
      respond(connection, status: 200, body: statsJSON())
    default:
      guard let milliseconds = workMilliseconds(head.query) else {
        respond(connection, status: 400, body: #"{"error":"expected /work?ms=N with N from 0 to 60000"}"#)
        return
      }
      startWork(milliseconds, on: connection)
    }
  }

  private func workMilliseconds(_ query: String) -> Int? {
    if query.isEmpty { return 100 }
    for pair in query.split(separator: "&") where pair.hasPrefix("ms=") {
      guard let value = Int(pair.dropFirst(3)), (0...60_000).contains(value) else { return nil }
      return value
    }
    return nil
  }

  /// The request waits on the clock in a task; the loop thread goes on serving others.
  private func startWork(_ milliseconds: Int, on connection: ServerConnection) {
    connection.isBusy = true
    connection.watchingRead = false
    loop.watch(connection.descriptor, read: false, write: false)
    let descriptor = connection.descriptor
    let id = connection.id
    let loop = self.loop
    connection.work = Task { [self] in
      try? await Task.sleep(for: .milliseconds(milliseconds))
      loop.execute { [self] in finishWork(milliseconds, descriptor: descriptor, id: id) }
    }
  }

  private func finishWork(_ milliseconds: Int, descriptor: Int32, id: UInt64) {
    // The connection may have been closed (and its descriptor reused) meanwhile: match the id too.
    guard let connection = connections[descriptor], connection.id == id, connection.isBusy else { return }
    connection.isBusy = false
    connection.work = nil
    respond(connection, status: 200, body: #"{"worked_ms":\#(milliseconds)}"#)
    process(connection)
    flush(connection)
  }

  // MARK: Responses

  private func respond(
    _ connection: ServerConnection, status: Int, body: String, close: Bool = false, extraHeaders: String = ""
  ) {
    let closing = close || self.closing || !connection.keepAliveRequested
    if self.closing && !close && connection.keepAliveRequested { counters.closedAfterResponseAtShutdown += 1 }
    counters.requests += 1
    counters.responsesByStatus[status, default: 0] += 1
    let bodyBytes = body.utf8
    var out = connection.output
    connection.output = []
    out.append(contentsOf: "HTTP/1.1 \(status) \(reasonPhrase(status))\r\n".utf8)
    out.append(contentsOf: dateField)
    out.append(
      contentsOf: "Content-Type: application/json\r\nContent-Length: \(bodyBytes.count + 1)\r\n".utf8)
    if closing {
      out.append(contentsOf: "Connection: close\r\n".utf8)
    } else if connection.http10 {
      out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
    }
    out.append(contentsOf: extraHeaders.utf8)
    out.append(contentsOf: "\r\n".utf8)
    if !connection.isHead {
      out.append(contentsOf: bodyBytes)
      out.append(UInt8(ascii: "\n"))
    }
    connection.output = out
    if closing {
      connection.closeAfterWrite = true
      connection.lingerAfterWrite = close
    }
    connection.lastActivity = monotonicNanoseconds()
    connection.deadline = connection.lastActivity + idleTimeoutNanoseconds
    connection.idleSinceResponse = true
  }

  private func flush(_ connection: ServerConnection) {
    guard !connection.isClosed else { return }
    while connection.outputStart < connection.output.count {
      let sent = connection.output.withUnsafeBytes { raw in
        sendNoSignal(connection.descriptor, UnsafeRawBufferPointer(rebasing: raw[connection.outputStart...]))
      }
      if sent > 0 {
        connection.outputStart += sent
        continue
      }
      if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
        if !connection.watchingWrite {
          connection.watchingWrite = true
          loop.watch(connection.descriptor, read: false, write: true)
        }
        return
      }
      if sent < 0 && errno == EINTR { continue }
      close(connection)
      return
    }
    connection.output.removeAll(keepingCapacity: connection.output.capacity <= 16 * 1024)
    connection.outputStart = 0
    if connection.closeAfterWrite {
      if connection.lingerAfterWrite {
        startLingering(connection)
      } else {
        close(connection)
      }
      return
    }
    let wantRead = !connection.isBusy
    if connection.watchingWrite || wantRead != connection.watchingRead {
      connection.watchingWrite = false
      connection.watchingRead = wantRead
      loop.watch(connection.descriptor, read: wantRead, write: false)
    }
  }

  /// After an error response: send FIN, read and drop what the client still sends, then close.
  private func startLingering(_ connection: ServerConnection) {
    shutdown(connection.descriptor, Int32(SHUT_WR))
    connection.isLingering = true
    connection.deadline = monotonicNanoseconds() + Self.lingerNanoseconds
    loop.watch(connection.descriptor, read: true, write: false)
  }

  private func lingerRead(_ connection: ServerConnection) {
    let received = scratch.withUnsafeMutableBytes { recv(connection.descriptor, $0.baseAddress, $0.count, 0) }
    if received == 0 || (received < 0 && errno != EAGAIN && errno != EINTR) { close(connection) }
  }

  private func close(_ connection: ServerConnection) {
    guard !connection.isClosed else { return }
    connection.isClosed = true
    connection.work?.cancel()
    connection.work = nil
    connections[connection.descriptor] = nil
    loop.unregisterAndClose(connection.descriptor)
    // After the descriptor is closed: the coordinator's drain may end the moment this leaves.
    connection.entry?.leave()
    connection.entry = nil
  }

  // MARK: Timeouts

  private func tick() {
    updateDate()
    if listenerPaused && listener >= 0 {
      listenerPaused = false
      loop.watch(listener, read: true, write: false)
    }
    let now = monotonicNanoseconds()
    for connection in Array(connections.values) where now >= connection.deadline {
      if connection.isLingering {
        close(connection)
      } else if !connection.isBusy && connection.outputStart >= connection.output.count {
        // Waiting for a request: a new connection or a partial head times out on the header
        // deadline (slowloris), an idle keep-alive connection on the idle deadline.
        if connection.unparsedCount > 0 || connection.requestsStarted == 0 {
          counters.headerTimeouts += 1
        } else {
          counters.idleTimeouts += 1
        }
        close(connection)
      }
    }
    if closing { closeIdleConnections(now: now) }
  }

  /// Closes connections with nothing in progress, nothing unread and quiet for at least
  /// `idleQuietNanoseconds`. The others are answered with `Connection: close` or, if they stay
  /// quiet, closed on a later tick.
  private func closeIdleConnections(now: UInt64) {
    for connection in Array(connections.values) where connection.isIdle {
      guard now - connection.lastActivity >= Self.idleQuietNanoseconds,
        bytesWaiting(connection.descriptor) == 0
      else { continue }
      counters.closedIdleAtShutdown += 1
      close(connection)
    }
  }

  private func updateDate() {
    var now = time(nil)
    guard Int(now) != dateSecond else { return }
    dateSecond = Int(now)
    var parts = tm()
    gmtime_r(&now, &parts)
    var buffer = [Int8](repeating: 0, count: 64)
    let count = strftime(&buffer, buffer.count, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &parts)
    dateField = buffer[0..<count].map { UInt8(bitPattern: $0) }
  }

  private func statsJSON() -> String {
    let restored = configuration.restored
    let statuses = counters.responsesByStatus.keys.sorted().map {
      "\"\($0)\":\(counters.responsesByStatus[$0]!)"
    }
    let uptime = Double(monotonicNanoseconds() - startNanoseconds) / 1e9
    return """
      {"state":"\(phase)","accepting":\(!closing),"pid":\(getpid()),"uptime_seconds":\(String(format: "%.3f", uptime)),\
      "connections_open":\(connections.count),"work_in_progress":\(connections.values.filter(\.isBusy).count),"connections_accepted":\(counters.connectionsAccepted),\
      "requests":\(counters.requests),"requests_total":\(restored.requests + counters.requests),"responses":{\(statuses.joined(separator: ","))},\
      "header_timeouts":\(counters.headerTimeouts),"idle_timeouts":\(counters.idleTimeouts),\
      "starts":\(restored.starts + 1),"requests_before_this_start":\(restored.requests),\
      "connections_before_this_start":\(restored.connections)}
      """
  }
}

/// The standard reason phrases for the statuses this server sends.
func reasonPhrase(_ status: Int) -> String {
  switch status {
  case 200: "OK"
  case 400: "Bad Request"
  case 404: "Not Found"
  case 405: "Method Not Allowed"
  case 408: "Request Timeout"
  case 411: "Length Required"
  case 413: "Content Too Large"
  case 431: "Request Header Fields Too Large"
  case 503: "Service Unavailable"
  case 505: "HTTP Version Not Supported"
  default: "Status"
  }
}

/// One accepted connection's state. Loop thread only.
final class ServerConnection: PollHandler {
  unowned let server: HTTPServer
  let descriptor: Int32
  /// Distinguishes this connection from a later one that gets the same descriptor.
  let id: UInt64
  var input: [UInt8] = []
  var inputStart = 0
  /// Where the search for the end of the head resumes.
  var scanFrom = 0
  var output: [UInt8] = []
  var outputStart = 0
  var bodyRemaining = 0
  var pendingHead: HTTPRequestHead?
  /// A `/work` request is being worked on.
  var isBusy = false
  /// A response was sent and no byte of the next request has arrived: the idle deadline applies.
  var idleSinceResponse = false
  var work: Task<Void, Never>?
  /// Counts this connection in the coordinator's tracker until it closes.
  var entry: ConnectionGuard?
  var requestsStarted = 0
  var keepAliveRequested = true
  var isHead = false
  var http10 = false
  var closeAfterWrite = false
  var lingerAfterWrite = false
  var isLingering = false
  var isClosed = false
  var watchingRead = true
  var watchingWrite = false
  /// When the connection times out: the header deadline while a request is awaited or arriving, the
  /// idle deadline after a response, the linger deadline after an error.
  var deadline: UInt64
  /// When the last response was queued, or the connection was accepted.
  var lastActivity: UInt64

  init(server: HTTPServer, descriptor: Int32, id: UInt64, now: UInt64) {
    self.server = server
    self.descriptor = descriptor
    self.id = id
    self.deadline = now
    self.lastActivity = now
  }

  var unparsedCount: Int { input.count - inputStart }

  /// A request has arrived (wholly or in part) and is not yet answered.
  var hasRequestInProgress: Bool {
    isBusy || unparsedCount > 0 || bodyRemaining > 0 || outputStart < output.count
  }

  /// Nothing in progress and nothing to send: what a shutdown may close at once.
  var isIdle: Bool { !hasRequestInProgress && !isLingering && !closeAfterWrite }

  func handle(_ event: PollEvent) {
    server.event(event, on: self)
  }
}
