import Foundation
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An `http://127.0.0.1:PORT/path` URL, the only kind `load` and `drill` speak to.
struct LoadTarget: Sendable, Equatable {
  var host: String
  var port: UInt16
  /// The path and query, starting with `/`.
  var path: String

  /// Parses `http://HOST:PORT/path?query`; HOST must be a dotted IPv4 address or `localhost`.
  init?(_ text: String) {
    guard text.hasPrefix("http://") else { return nil }
    let rest = text.dropFirst("http://".count)
    let authority = rest.prefix { $0 != "/" }
    let path = rest.dropFirst(authority.count)
    let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count <= 2, let hostPart = parts.first, !hostPart.isEmpty else { return nil }
    host = hostPart == "localhost" ? "127.0.0.1" : String(hostPart)
    var probe = in_addr()
    guard inet_pton(AF_INET, host, &probe) == 1 else { return nil }
    if parts.count == 2 {
      guard let port = UInt16(parts[1]), port > 0 else { return nil }
      self.port = port
    } else {
      port = 80
    }
    self.path = path.isEmpty ? "/" : String(path)
  }

  var url: String { "http://\(host):\(port)\(path)" }
}

/// What happened to each request, counted.
struct LoadCounts: Sendable, Equatable {
  /// A 2xx response.
  var ok = 0
  /// A complete response with another status, by status.
  var httpErrors: [Int: Int] = [:]
  /// The connection was refused: it was never accepted, so no request was lost (a load balancer
  /// would send it elsewhere).
  var refused = 0
  /// The connection was accepted, then reset or closed before a full response: the real loss, what
  /// users behind a proxy see as a 502.
  var failedAfterAccept = 0
  /// No full response within the timeout.
  var timedOut = 0
  /// Connecting failed for another reason (out of ephemeral ports, …).
  var connectErrors = 0

  var httpErrorTotal: Int { httpErrors.values.reduce(0, +) }
  var errors: Int { httpErrorTotal + refused + failedAfterAccept + timedOut + connectErrors }
  var total: Int { ok + errors }
}

/// The outcome of a run: counts, latencies of complete responses, and a row per second.
struct LoadResult: Sendable {
  var counts = LoadCounts()
  /// Nanoseconds from sending a request to its full response, for every complete response.
  var latencies: [UInt64] = []
  /// Per second since the start: (ok, everything else).
  var perSecond: [(ok: Int, errors: Int)] = []
  var elapsedNanoseconds: UInt64 = 0
}

/// The load generator's knobs.
struct LoadConfiguration: Sendable {
  var target: LoadTarget
  var concurrency = 64
  /// Stop after this many requests (each fate counts one), or run until `stop`.
  var requestLimit: Int?
  var keepAlive = true
  var timeout: Duration = .seconds(10)
  /// How long a client waits after a refused or failed connect before trying again, so a closed
  /// port does not turn into a busy loop.
  var reconnectPause: Duration = .milliseconds(10)
  /// The clients start spread evenly over this time, so their requests are not all in step.
  var rampUp: Duration = .zero
}

/// Closed-loop HTTP clients on one event loop: each of `concurrency` clients sends a request,
/// waits for the full response, and sends the next, over keep-alive unless told otherwise. Every
/// request's fate is counted (see `LoadCounts`).
///
/// Like wrk, requests still in flight when the run is stopped are not counted.
final class LoadGenerator: @unchecked Sendable {
  let configuration: LoadConfiguration
  let loop: EventLoop
  private let address: sockaddr_in
  private let request: [UInt8]
  private var clients: [LoadClient] = []
  private var result = LoadResult()
  private var started = 0
  private var startNanoseconds: UInt64 = 0
  private var scratch = [UInt8](repeating: 0, count: 64 * 1024)
  private let timeoutNanoseconds: UInt64
  private let pauseNanoseconds: UInt64
  private var finished: (@Sendable (LoadResult) -> Void)?
  private var stopped = false
  /// Called on the loop thread once a second with the counts so far (for a progress line).
  var progress: (@Sendable (Int, LoadCounts) -> Void)?
  private var lastProgressSecond = 0

  init(_ configuration: LoadConfiguration) throws(SocketError) {
    self.configuration = configuration
    loop = try EventLoop(tickMilliseconds: 5)
    address = try makeAddress(host: configuration.target.host, port: configuration.target.port)
    var text = "GET \(configuration.target.path) HTTP/1.1\r\nHost: \(configuration.target.host):"
    text += "\(configuration.target.port)\r\nUser-Agent: shutdown-demo-load\r\n"
    if !configuration.keepAlive { text += "Connection: close\r\n" }
    request = Array((text + "\r\n").utf8)
    timeoutNanoseconds = UInt64(exactNanoseconds(configuration.timeout) ?? 10_000_000_000)
    pauseNanoseconds = UInt64(exactNanoseconds(configuration.reconnectPause) ?? 10_000_000)
  }

  /// Starts the clients. `finished` runs (on the loop thread) when a request limit is reached or
  /// `stop` is called, with the result.
  func start(finished: @escaping @Sendable (LoadResult) -> Void) {
    self.finished = finished
    loop.onTick = { [self] in tick() }  // the loop drops it when it stops
    loop.execute { [self] in
      startNanoseconds = monotonicNanoseconds()
      let ramp = UInt64(exactNanoseconds(configuration.rampUp) ?? 0)
      for index in 0..<configuration.concurrency {
        let client = LoadClient(generator: self, index: index)
        clients.append(client)
        if ramp == 0 || index == 0 {
          connect(client)
        } else {
          client.state = .pausing
          client.deadline = startNanoseconds + ramp * UInt64(index) / UInt64(configuration.concurrency)
        }
      }
    }
    loop.start(name: "load-loop") {}
  }

  /// Stops the clients and reports (through `finished`); in-flight requests are not counted.
  func stop() {
    loop.execute { [self] in finish() }
  }

  /// Runs until the request limit or `duration`, whichever comes first, and returns the result.
  func run(duration: Duration?) async -> LoadResult {
    await withCheckedContinuation { continuation in
      let once = Shared(false)
      start { result in
        guard
          once.update({ done in
            defer { done = true }
            return !done
          })
        else { return }
        continuation.resume(returning: result)
      }
      if let duration {
        Task { [self] in
          try? await Task.sleep(for: duration)
          stop()
        }
      }
    }
  }

  /// Runs while `body` runs, then stops and returns the result.
  func run(during body: @escaping @Sendable () async -> Void) async -> LoadResult {
    async let result = withCheckedContinuation { continuation in
      start { continuation.resume(returning: $0) }
    }
    await body()
    stop()
    return await result
  }

  private func finish() {
    guard !stopped else { return }
    stopped = true
    for client in clients where client.descriptor >= 0 { closeClient(client) }
    result.elapsedNanoseconds = monotonicNanoseconds() - startNanoseconds
    loop.stop()
    finished?(result)
    finished = nil
  }

  // MARK: One client

  private var mayStartRequest: Bool {
    guard !stopped else { return false }
    guard let limit = configuration.requestLimit else { return true }
    return started < limit
  }

  private func connect(_ client: LoadClient) {
    guard mayStartRequest else { return }
    client.reset()
    do {
      let (descriptor, connected) = try startConnect(to: address)
      client.descriptor = descriptor
      client.state = .connecting
      client.deadline = monotonicNanoseconds() + timeoutNanoseconds
      loop.register(descriptor, client, read: false, write: true)
      if connected { connectionEstablished(client) }
    } catch {
      // The attempt counts as one request: refused (nobody listens) or another connect error.
      started += 1
      record(error.code == ECONNREFUSED ? .refused : .connectError)
      client.state = .pausing
      client.deadline = monotonicNanoseconds() + pauseNanoseconds
      checkLimitReached()
    }
  }

  private func connectionEstablished(_ client: LoadClient) {
    client.state = .connected
    loop.watch(client.descriptor, read: true, write: false)
    sendRequest(client)
  }

  private func sendRequest(_ client: LoadClient) {
    guard mayStartRequest else {
      closeClient(client)
      checkLimitReached()
      return
    }
    started += 1
    client.requestStart = monotonicNanoseconds()
    client.deadline = client.requestStart + timeoutNanoseconds
    client.state = .awaitingResponse
    client.response.removeAll(keepingCapacity: true)
    let sent = request.withUnsafeBytes { sendNoSignal(client.descriptor, $0) }
    // A request this small fits any socket buffer; a short or failed send means the peer is gone.
    if sent != request.count { failAfterAccept(client) }
  }

  fileprivate func event(_ event: PollEvent, on client: LoadClient) {
    switch client.state {
    case .connecting:
      let code = pendingSocketError(client.descriptor)
      if code == 0 && event.writable && !event.hangup {
        connectionEstablished(client)
      } else {
        started += 1
        record(code == ECONNREFUSED || code == 0 ? .refused : .connectError)
        closeClient(client)
        client.state = .pausing
        client.deadline = monotonicNanoseconds() + pauseNanoseconds
        checkLimitReached()
      }
    case .awaitingResponse:
      receive(client)
    case .connected:
      // Between requests nothing is expected; a hang-up here is noticed before the next send.
      break
    case .idle, .pausing:
      break
    }
  }

  private func receive(_ client: LoadClient) {
    let received = scratch.withUnsafeMutableBytes { recv(client.descriptor, $0.baseAddress, $0.count, 0) }
    if received < 0 {
      if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
      failAfterAccept(client)
      return
    }
    if received == 0 {
      // Closed by the server: a complete response only if the body runs to the close.
      if case .complete(let status, _) = ResponseParser.parse(client.response, atEOF: true) {
        complete(client, status: status, serverCloses: true)
      } else {
        failAfterAccept(client)
      }
      return
    }
    client.response.append(contentsOf: scratch[0..<received])
    switch ResponseParser.parse(client.response, atEOF: false) {
    case .incomplete: return
    case .malformed: failAfterAccept(client)
    case .complete(let status, let serverCloses): complete(client, status: status, serverCloses: serverCloses)
    }
  }

  private func complete(_ client: LoadClient, status: Int, serverCloses: Bool) {
    let now = monotonicNanoseconds()
    result.latencies.append(now - client.requestStart)
    record((200...299).contains(status) ? .ok : .http(status))
    if serverCloses || !configuration.keepAlive || peerHasClosed(client.descriptor) {
      closeClient(client)
      connect(client)
    } else {
      sendRequest(client)
    }
    checkLimitReached()
  }

  /// Whether the server has closed this keep-alive connection since its last response: sending on
  /// it would lose the request, so a careful client reconnects instead (as Go's Transport does).
  private func peerHasClosed(_ descriptor: Int32) -> Bool {
    var byte: UInt8 = 0
    let peeked = recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
    return peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
  }

  private func failAfterAccept(_ client: LoadClient) {
    record(.failedAfterAccept)
    closeClient(client)
    connect(client)
    checkLimitReached()
  }

  private func closeClient(_ client: LoadClient) {
    guard client.descriptor >= 0 else { return }
    loop.unregisterAndClose(client.descriptor)
    client.descriptor = -1
    client.state = .idle
  }

  private func checkLimitReached() {
    guard let limit = configuration.requestLimit, result.counts.total >= limit else { return }
    finish()
  }

  private enum Fate {
    case ok, http(Int), refused, failedAfterAccept, timedOut, connectError
  }

  private func record(_ fate: Fate) {
    switch fate {
    case .ok: result.counts.ok += 1
    case .http(let status): result.counts.httpErrors[status, default: 0] += 1
    case .refused: result.counts.refused += 1
    case .failedAfterAccept: result.counts.failedAfterAccept += 1
    case .timedOut: result.counts.timedOut += 1
    case .connectError: result.counts.connectErrors += 1
    }
    let second = Int((monotonicNanoseconds() - startNanoseconds) / 1_000_000_000)
    while result.perSecond.count <= second { result.perSecond.append((0, 0)) }
    if case .ok = fate {
      result.perSecond[second].ok += 1
    } else {
      result.perSecond[second].errors += 1
    }
  }

  private func tick() {
    guard !stopped else { return }
    let now = monotonicNanoseconds()
    for client in clients where now >= client.deadline {
      switch client.state {
      case .pausing:
        connect(client)
      case .connecting, .awaitingResponse:
        if client.state == .connecting { started += 1 }
        record(.timedOut)
        closeClient(client)
        connect(client)
        checkLimitReached()
      case .connected, .idle:
        break
      }
    }
    let second = Int((now - startNanoseconds) / 1_000_000_000)
    if second > lastProgressSecond {
      lastProgressSecond = second
      progress?(second, result.counts)
    }
  }
}

/// One closed-loop client. Loop thread only.
final class LoadClient: PollHandler {
  enum State {
    case idle, pausing, connecting, connected, awaitingResponse
  }

  unowned let generator: LoadGenerator
  let index: Int
  var descriptor: Int32 = -1
  var state = State.idle
  var deadline: UInt64 = .max
  var requestStart: UInt64 = 0
  var response: [UInt8] = []

  init(generator: LoadGenerator, index: Int) {
    self.generator = generator
    self.index = index
  }

  func reset() {
    response.removeAll(keepingCapacity: true)
    deadline = .max
  }

  func handle(_ event: PollEvent) {
    generator.event(event, on: self)
  }
}

/// Decides whether the bytes received so far hold a complete HTTP/1.1 response.
enum ResponseParser {
  enum Outcome: Equatable {
    case incomplete
    case malformed
    /// The status, and whether the server will close the connection after it.
    case complete(status: Int, serverCloses: Bool)
  }

  /// Works on the bytes alone (no `String`s): it runs once per response, and the load generator must
  /// cost less than the server it measures.
  static func parse(_ bytes: [UInt8], atEOF: Bool) -> Outcome {
    bytes.withUnsafeBytes { raw in
      guard let end = headEnd(in: raw, scanFrom: 0) else {
        return atEOF || raw.count > 64 * 1024 ? .malformed : .incomplete
      }
      var lines = LineReader(bytes: UnsafeRawBufferPointer(rebasing: raw[..<end]))
      // "HTTP/1.x NNN ..."
      guard let statusLine = lines.next(), statusLine.count >= 12, statusLine.starts(with: httpPrefix) else {
        return .malformed
      }
      let base = statusLine.startIndex
      var status = 0
      for index in (base + 9)..<(base + 12) {
        let digit = statusLine[index]
        guard digit >= 0x30 && digit <= 0x39 else { return .malformed }
        status = status * 10 + Int(digit - 0x30)
      }
      var contentLength: Int?
      var chunked = false
      var closes = statusLine[base + 7] == UInt8(ascii: "0")
      while let line = lines.next(), !line.isEmpty {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return .malformed }
        let name = line[..<colon]
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        if asciiEqualsLowercase(name, contentLengthName) {
          var length = 0
          for digit in value where digit >= 0x30 && digit <= 0x39 { length = length * 10 + Int(digit - 0x30) }
          contentLength = length
        } else if asciiEqualsLowercase(name, transferEncodingName) {
          chunked = asciiContainsLowercase(value, chunkedToken)
        } else if asciiEqualsLowercase(name, connectionName) {
          if asciiContainsLowercase(value, closeToken) { closes = true }
          if asciiContainsLowercase(value, keepAliveToken) { closes = false }
        }
      }
      let body = raw.count - end
      if status == 204 || status == 304 || (100...199).contains(status) {
        return .complete(status: status, serverCloses: closes)
      }
      if chunked {
        switch chunkedBodyComplete(UnsafeRawBufferPointer(rebasing: raw[end...])) {
        case .some(true): return .complete(status: status, serverCloses: closes)
        case .some(false): return atEOF ? .malformed : .incomplete
        case .none: return .malformed
        }
      }
      if let contentLength {
        if body >= contentLength { return .complete(status: status, serverCloses: closes) }
        return atEOF ? .malformed : .incomplete
      }
      // No length: the body runs until the server closes.
      return atEOF ? .complete(status: status, serverCloses: true) : .incomplete
    }
  }

  private static let httpPrefix = Array("HTTP/1.".utf8)
  private static let contentLengthName = Array("content-length".utf8)
  private static let transferEncodingName = Array("transfer-encoding".utf8)
  private static let connectionName = Array("connection".utf8)
  private static let chunkedToken = Array("chunked".utf8)
  private static let closeToken = Array("close".utf8)
  private static let keepAliveToken = Array("keep-alive".utf8)

  private static func lower(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
  }

  private static func asciiEqualsLowercase(_ bytes: ArraySlice<UInt8>, _ lowercase: [UInt8]) -> Bool {
    bytes.count == lowercase.count && zip(bytes, lowercase).allSatisfy { lower($0) == $1 }
  }

  private static func asciiContainsLowercase(_ bytes: ArraySlice<UInt8>, _ lowercase: [UInt8]) -> Bool {
    guard bytes.count >= lowercase.count else { return false }
    var start = bytes.startIndex
    while start + lowercase.count <= bytes.endIndex {
      if asciiEqualsLowercase(bytes[start..<(start + lowercase.count)], lowercase) { return true }
      start += 1
    }
    return false
  }

  /// Whether a chunked body is complete (`nil`: malformed). Trailers are skipped.
  private static func chunkedBodyComplete(_ body: UnsafeRawBufferPointer) -> Bool? {
    var lines = LineReader(bytes: body)
    /// The next line, if it is complete (ends in LF).
    func nextLine() -> ArraySlice<UInt8>? {
      guard let line = lines.next(), lines.position <= body.count else { return nil }
      return line
    }
    while true {
      guard let sizeLine = nextLine() else { return false }
      let sizeText = String(decoding: sizeLine.prefix { $0 != UInt8(ascii: ";") }, as: UTF8.self)
        .trimmingCharacters(in: .whitespaces)
      guard let size = Int(sizeText, radix: 16), size >= 0 else { return nil }
      if size == 0 {
        while true {
          guard let trailer = nextLine() else { return false }
          if trailer.isEmpty { return true }
        }
      }
      let next = lines.position + size + 2
      guard next <= body.count else { return false }
      lines.position = next
    }
  }
}
