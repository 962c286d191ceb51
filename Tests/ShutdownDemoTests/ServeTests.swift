import Dispatch
import Foundation
import Testing

@testable import shutdown_demo

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `serve` as a user runs it: the built binary, on a port the kernel picks, spoken to over real
/// sockets on 127.0.0.1. Every wait is bounded; nothing asserts how long anything took.
@Suite struct ServeTests {
  @Test func everyEndpoint_answers_andTheConnectionSurvivesWhereHTTPAllows() async throws {
    let server = try await RunningServer.start()
    defer { server.kill() }
    let connection = try await TestConnection.open(port: server.port)
    let health = try await connection.request("GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    #expect(health.status == 200)
    #expect(health.body == #"{"status":"ok"}"# + "\n")
    #expect(health.headers["connection"] == nil)
    #expect(try await connection.request("GET /ready HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
    let work = try await connection.request("GET /work?ms=20 HTTP/1.1\r\nHost: t\r\n\r\n")
    #expect(work.status == 200)
    #expect(work.body == #"{"worked_ms":20}"# + "\n")
    // Unknown path and wrong method: answered, and the same connection goes on.
    #expect(try await connection.request("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n").status == 404)
    let post = try await connection.request(
      "POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
    #expect(post.status == 405)
    #expect(post.headers["allow"] == "GET, HEAD")
    #expect(try await connection.request("GET /work?ms=lots HTTP/1.1\r\nHost: t\r\n\r\n").status == 400)
    let stats = try await connection.request("GET /stats HTTP/1.1\r\nHost: t\r\n\r\n")
    #expect(stats.status == 200)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(stats.body.utf8)) as? [String: Any])
    #expect(json["state"] as? String == "running")
    #expect(json["requests"] as? Int == 6)
    #expect(json["connections_accepted"] as? Int == 1)
    // A malformed request line: 400, and the connection closes (where the next request starts is unknown).
    let malformed = try await connection.request("GARBAGE\r\n\r\n")
    #expect(malformed.status == 400)
    #expect(malformed.headers["connection"] == "close")
    #expect(try await connection.readsEndOfStream())

    let big = try await TestConnection.open(port: server.port)
    let header = "X-Big: " + String(repeating: "a", count: 9 * 1024)
    #expect(try await big.request("GET /health HTTP/1.1\r\nHost: t\r\n\(header)\r\n\r\n").status == 431)
    let chunked = try await TestConnection.open(port: server.port)
    let noLength = try await chunked.request(
      "POST /work HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    #expect(noLength.status == 411)
    let version = try await TestConnection.open(port: server.port)
    #expect(try await version.request("GET /health HTTP/2.0\r\n\r\n").status == 505)

    server.child.send(SIGTERM)
    #expect(try await server.exitCode() == 0)
  }

  @Test func readiness_flipsTo503_whileTheDrainDelayKeepsTheListenerOpen() async throws {
    let server = try await RunningServer.start(["--drain-delay", "60s", "--grace", "120s"])
    defer { server.kill() }
    let before = try await TestConnection.open(port: server.port)
    #expect(try await before.request("GET /ready HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
    server.child.send(SIGTERM)
    try await server.awaitLine { $0.contains("SIGTERM received") }
    // A new connection is still accepted during the drain delay; readiness says 503, liveness 200.
    let after = try await TestConnection.open(port: server.port)
    let ready = try await after.request("GET /ready HTTP/1.1\r\nHost: t\r\n\r\n")
    #expect(ready.status == 503)
    #expect(ready.body.contains(#""ready":false"#))
    #expect(try await after.request("GET /health HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
    // The second signal ends the wait: the escalation ladder's second step, exit 128 + 15.
    server.child.send(SIGTERM)
    #expect(try await server.exitCode() == 143)
    #expect(server.child.lines.contains { $0.contains("SIGTERM again (second)") })
  }

  @Test func aRequestInFlightAtSIGTERM_completes_withConnectionClose() async throws {
    let server = try await RunningServer.start()
    defer { server.kill() }
    let connection = try await TestConnection.open(port: server.port)
    try await connection.send("GET /work?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n")
    // Wait until the server is working on it, as its own /stats says.
    let observer = try await TestConnection.open(port: server.port)
    var working = false
    for _ in 0..<200 where !working {
      let stats = try await observer.request("GET /stats HTTP/1.1\r\nHost: t\r\n\r\n")
      working = stats.body.contains(#""work_in_progress":1"#)
      if !working { try await Task.sleep(for: .milliseconds(10)) }
    }
    try #require(working, "the /work request never showed as in progress")
    server.child.send(SIGTERM)
    let response = try await connection.readResponse()
    #expect(response.status == 200)
    #expect(response.body == #"{"worked_ms":3000}"# + "\n")
    #expect(response.headers["connection"] == "close")
    #expect(try await connection.readsEndOfStream())
    #expect(try await server.exitCode() == 0)
    #expect(
      server.child.lines.contains { $0.contains("answered 1 in-flight request with Connection: close") })
  }

  @Test func anIdleKeepAliveConnection_isClosedAtSIGTERM() async throws {
    let server = try await RunningServer.start()
    defer { server.kill() }
    let connection = try await TestConnection.open(port: server.port)
    #expect(try await connection.request("GET /health HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
    server.child.send(SIGTERM)
    #expect(try await connection.readsEndOfStream())
    #expect(try await server.exitCode() == 0)
    #expect(server.child.lines.contains { $0.hasSuffix("exit 0: clean") })
  }

  @Test func aClientThatNeverFinishesItsHeaders_isClosedByTheHeaderTimeout() async throws {
    let server = try await RunningServer.start(["--header-timeout", "200ms"])
    defer { server.kill() }
    let silent = try await TestConnection.open(port: server.port)
    let slow = try await TestConnection.open(port: server.port)
    try await slow.send("GET /hea")
    #expect(try await silent.readsEndOfStream())
    #expect(try await slow.readsEndOfStream())
    let observer = try await TestConnection.open(port: server.port)
    let stats = try await observer.request("GET /stats HTTP/1.1\r\nHost: t\r\n\r\n")
    #expect(stats.body.contains(#""header_timeouts":2"#))
    server.child.send(SIGTERM)
    #expect(try await server.exitCode() == 0)
  }

  @Test func theStateFile_isWrittenAtShutdown_andRestoredAtTheNextStart() async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "serve-state-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("state.json").path

    let first = try await RunningServer.start(["--state-file", path])
    defer { first.kill() }
    let connection = try await TestConnection.open(port: first.port)
    for _ in 0..<2 {
      #expect(try await connection.request("GET /health HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
    }
    first.child.send(SIGTERM)
    #expect(try await first.exitCode() == 0)
    let saved = try #require(try StateFile.load(path))
    #expect(
      saved
        == PersistedServerState(
          starts: 1, requests: 2, connections: 1, cleanShutdowns: 1, lastShutdownClean: true))
    // Nothing but the state file is left in the directory: the temporary file was renamed over it.
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state.json"])

    let second = try await RunningServer.start(["--state-file", path])
    defer { second.kill() }
    #expect(
      second.child.lines.contains { $0.hasPrefix("state restored from \(path): 1 earlier start, 2 requests") }
    )
    let again = try await TestConnection.open(port: second.port)
    let stats = try await again.request("GET /stats HTTP/1.1\r\nHost: t\r\n\r\n")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(stats.body.utf8)) as? [String: Any])
    #expect(json["starts"] as? Int == 2)
    #expect(json["requests_before_this_start"] as? Int == 2)
    second.child.send(SIGTERM)
    #expect(try await second.exitCode() == 0)
    #expect(try StateFile.load(path)?.requests == 3)
    #expect(try StateFile.load(path)?.starts == 2)
  }

  @Test func ctrlCTwice_endsTheDrainAtOnce_abortsTheRequestInFlight_marksTheStateUnclean_andExits130()
    async throws
  {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "serve-state-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("state.json").path
    let server = try await RunningServer.start(["--grace", "120s", "--state-file", path])
    defer { server.kill() }
    let connection = try await TestConnection.open(port: server.port)
    try await connection.send("GET /work?ms=60000 HTTP/1.1\r\nHost: t\r\n\r\n")
    let observer = try await TestConnection.open(port: server.port)
    var working = false
    for _ in 0..<200 where !working {
      let stats = try await observer.request("GET /stats HTTP/1.1\r\nHost: t\r\n\r\n")
      working = stats.body.contains(#""work_in_progress":1"#)
      if !working { try await Task.sleep(for: .milliseconds(10)) }
    }
    try #require(working, "the /work request never showed as in progress")
    server.child.send(SIGINT)
    try await server.awaitLine { $0.contains("listener closed") }
    server.child.send(SIGINT)
    #expect(try await server.exitCode() == 130)
    // The request the grace period would have waited for is cut: that is what a second Ctrl-C asks.
    #expect(try await connection.readsEndOfStream())
    #expect(server.child.lines.contains { $0.contains("SIGINT again (second)") })
    // The observer's keep-alive connection may be closed with it, but only one had a request.
    #expect(
      server.child.lines.contains {
        $0.contains("aborted: ") && $0.hasSuffix(", 1 with a request unanswered")
      })
    #expect(server.child.lines.contains { $0.hasSuffix("exit 130: forced by a second SIGINT") })
    // Still saved, and marked as not clean.
    let saved = try #require(try StateFile.load(path))
    #expect(saved.lastShutdownClean == false)
    #expect(saved.cleanShutdowns == 0)
    #expect(saved.starts == 1)
  }

  @Test func theStateStore_readsFilesOfEarlierVersions_andReportsDamage() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
      "serve-state-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("state.json").path
    let store = ServeStateStore(path: path)
    #expect(store.load(name: "counters") == .none)
    let old = #"{"clean_shutdowns":1,"connections":1,"last_exit_code":0,"requests":2,"starts":1}"#
    try Data(old.utf8).write(to: URL(fileURLWithPath: path))
    let clean = try #require(store.load(name: "counters").bytes)
    #expect(
      try JSONDecoder().decode(PersistedServerState.self, from: Data(clean)).requests == 2)
    #expect(store.load(name: "counters") == .clean(clean))
    try Data(old.replacingOccurrences(of: #""last_exit_code":0"#, with: #""last_exit_code":143"#).utf8)
      .write(to: URL(fileURLWithPath: path))
    if case .unclean = store.load(name: "counters") {
    } else {
      Issue.record("exit 143 is not a clean shutdown")
    }
    try Data("{not json".utf8).write(to: URL(fileURLWithPath: path))
    if case .damaged = store.load(name: "counters") {} else { Issue.record("a broken file must be damaged") }
    // A save keeps the counters and writes the coordinator's marker.
    let state = PersistedServerState(starts: 3, requests: 9, connections: 4, cleanShutdowns: 2)
    try store.save(name: "counters", bytes: [UInt8](JSONEncoder().encode(state)), clean: true)
    #expect(
      try StateFile.load(path)
        == PersistedServerState(
          starts: 3, requests: 9, connections: 4, cleanShutdowns: 3, lastShutdownClean: true))
  }

  /// A child started while another thread holds a descriptor open without close-on-exec (as
  /// Foundation's `Process` does with the socket that tells it its own child has exited) must not
  /// keep a copy: that would hide the other child's exit for as long as this one lives.
  @Test func aChildProcess_inheritsNoDescriptorButItsStandardThree() async throws {
    let stray = open("/dev/null", O_RDONLY)  // no O_CLOEXEC: inheritable
    try #require(stray > 2)
    defer { close(stray) }
    let child = try ChildProcess(arguments: ["/bin/sh", "-c", "ls /proc/$$/fd"])
    defer { child.killGroup() }
    _ = await child.waitForExit(timeout: .seconds(60))
    let listed = Set(child.lines.flatMap { $0.split(separator: " ") }.map(String.init))
    #expect(!listed.contains(String(stray)), "the child kept descriptor \(stray): \(child.lines)")
    #expect(listed.isSuperset(of: ["0", "1", "2"]), "\(child.lines)")
  }

  @Test func naive_installsNoHandler_soSIGTERMKillsIt() async throws {
    let server = try await RunningServer.start(["--naive"])
    defer { server.kill() }
    let connection = try await TestConnection.open(port: server.port)
    #expect(try await connection.request("GET /health HTTP/1.1\r\nHost: t\r\n\r\n").status == 200)
    server.child.send(SIGTERM)
    let exit = try #require(await server.child.waitForExit(timeout: .seconds(60)))
    #expect(exit.signal == SIGTERM)
    #expect(!server.child.lines.contains { $0.hasPrefix("shutdown ") })
  }
}

/// A `serve` child process started from the built binary, with the port it printed.
struct RunningServer {
  let child: ChildProcess
  let port: UInt16

  static func start(_ arguments: [String] = []) async throws -> RunningServer {
    let binary = try BinaryRunner.binaryURL().path
    let child = try ChildProcess(arguments: [binary, "serve", "--port", "0"] + arguments)
    guard
      let line = await child.waitForLine(
        timeout: .seconds(60), matching: { $0.hasPrefix("listening on http://") }),
      let target = line.split(separator: " ").dropFirst(2).first.flatMap({ LoadTarget(String($0)) })
    else {
      child.killGroup()
      throw ServeTestError("serve did not print its listening line; it wrote: \(child.lines)")
    }
    return RunningServer(child: child, port: target.port)
  }

  /// Waits (bounded) for a line of its stderr.
  func awaitLine(_ matches: @escaping @Sendable (String) -> Bool) async throws {
    guard await child.waitForLine(timeout: .seconds(60), matching: matches) != nil else {
      throw ServeTestError("the expected line never came; serve wrote: \(child.lines)")
    }
  }

  /// Waits (bounded) for the exit and returns its code.
  func exitCode() async throws -> Int32 {
    guard let exit = await child.waitForExit(timeout: .seconds(60)) else {
      throw ServeTestError("serve did not exit; it wrote: \(child.lines)")
    }
    return exit.code
  }

  func kill() { child.killGroup() }
}

struct ServeTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

/// A response as the test reads it: status, lower-cased header names, body.
struct TestResponse {
  var status: Int
  var headers: [String: String]
  var body: String
}

/// A plain blocking client socket for tests. Its blocking calls run on a Dispatch queue, never on a
/// cooperative thread, and each is bounded by a receive timeout.
final class TestConnection: @unchecked Sendable {
  private let descriptor: Int32
  private var buffer: [UInt8] = []
  private static let queue = DispatchQueue(label: "serve-tests.io", attributes: .concurrent)

  private init(descriptor: Int32) { self.descriptor = descriptor }

  deinit { close(descriptor) }

  static func open(port: UInt16) async throws -> TestConnection {
    try await onIOThread {
      var address = try makeAddress(host: "127.0.0.1", port: port)
      let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var timeout = timeval(tv_sec: 30, tv_usec: 0)
      setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
          connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
      }
      guard result == 0 else {
        close(descriptor)
        throw ServeTestError("connect to port \(port) failed: errno \(errno)")
      }
      return TestConnection(descriptor: descriptor)
    }
  }

  func send(_ text: String) async throws {
    let bytes = Array(text.utf8)
    try await Self.onIOThread { [self] in
      let sent = bytes.withUnsafeBytes { sendNoSignal(descriptor, $0) }
      guard sent == bytes.count else { throw ServeTestError("send failed: errno \(errno)") }
    }
  }

  func request(_ text: String) async throws -> TestResponse {
    try await send(text)
    return try await readResponse()
  }

  /// Reads one full response (Content-Length framed, as serve always sends).
  func readResponse() async throws -> TestResponse {
    try await Self.onIOThread { [self] in
      while true {
        if let response = try takeResponse() { return response }
        guard try receiveMore() else { throw ServeTestError("the connection ended before a full response") }
      }
    }
  }

  /// Whether the server closes the connection (end of stream or reset) before the receive timeout.
  func readsEndOfStream() async throws -> Bool {
    try await Self.onIOThread { [self] in
      while true {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &chunk, chunk.count, 0)
        if count == 0 || (count < 0 && errno == ECONNRESET) { return true }
        if count < 0 && errno == EINTR { continue }
        if count < 0 { return false }  // the timeout: still open
      }
    }
  }

  private func receiveMore() throws -> Bool {
    var chunk = [UInt8](repeating: 0, count: 16 * 1024)
    while true {
      let count = recv(descriptor, &chunk, chunk.count, 0)
      if count > 0 {
        buffer.append(contentsOf: chunk[0..<count])
        return true
      }
      if count < 0 && errno == EINTR { continue }
      if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
        throw ServeTestError("no response in 30 s")
      }
      return false
    }
  }

  private func takeResponse() throws -> TestResponse? {
    let end = buffer.withUnsafeBytes { headEnd(in: $0, scanFrom: 0) }
    guard let end else { return nil }
    let head = String(decoding: buffer[..<end], as: UTF8.self)
    let lines = head.components(separatedBy: "\r\n").filter { !$0.isEmpty }
    guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ")[1]) else {
      throw ServeTestError("not an HTTP response: \(head)")
    }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
        in: .whitespaces)
    }
    let length = Int(headers["content-length"] ?? "0") ?? 0
    guard buffer.count - end >= length else { return nil }
    let body = String(decoding: buffer[end..<(end + length)], as: UTF8.self)
    buffer.removeFirst(end + length)
    return TestResponse(status: status, headers: headers, body: body)
  }

  private static func onIOThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
      queue.async { continuation.resume(with: Result { try body() }) }
    }
  }
}
