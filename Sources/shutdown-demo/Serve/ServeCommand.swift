///
/// `serve`, `load` and `drill` make the failure every rolling deploy risks happen for real on
/// 127.0.0.1: a process gets SIGTERM with requests in flight. Killed at once (`serve --naive`), it
/// cuts them and its clients see errors (what users behind a proxy see as 502s). Shut down
/// gracefully (`serve`), it answers every request it accepted.
///
/// ```text
/// shutdown-demo serve --port 8080 --drain-delay 2s &
/// shutdown-demo load --url 'http://127.0.0.1:8080/work?ms=200' --duration 5s &
/// kill -TERM %1
/// ```
///
/// The parts, one file each:
/// - `EventLoop` and `Poller`: one thread waits for socket readiness (epoll on Linux) and runs the
///   handlers; nothing ever blocks one of Swift's cooperative threads. `/work?ms=N` waits on the
///   clock in a task and posts its answer back to the loop.
/// - `HTTPServer`: HTTP/1.1 with keep-alive and pipelining, `Connection: close`, 400/404/405/411/
///   431, a header timeout (slowloris) and an idle timeout.
/// - The shutdown is the library's `GracefulShutdown`, driven by `ProcessSignals`: readiness reads
///   its phase, each connection holds a guard of its `ConnectionTracker`, its stop-accepting step
///   closes the listener, a cleanup step stops the server, a persistence hook saves the counters;
///   it decides the exit code and climbs the escalation ladder. `ServeShutdownLog` words its events.
/// - `StateFile`: counters saved atomically at the end (the coordinator's `StateStore`), restored
///   at the next start.
/// - `LoadGenerator`, `DrillCommand`: closed-loop clients that count each request's fate, and the
///   drill that puts the two together.
///
/// Sharp edges this code handles, each commented where it happens: a signal source is armed
/// asynchronously on Linux; closing a listener resets the connections in its accept queue; closing
/// an idle keep-alive connection races the client's next request; closing a socket with unread
/// input sends a reset that can destroy the response just written.
///
/// Go's `http.Server.Shutdown`, hyper's `graceful_shutdown` and SwiftNIO's `ServerQuiescingHelper`
/// do the same job. Use those (in Swift: Hummingbird or Vapor on SwiftNIO) for a real service: this
/// server has no TLS, no HTTP/2 and no chunked uploads, on purpose.
import Foundation
/// # Serve: a real HTTP server that drains
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `shutdown-demo serve`.
enum ServeCommand {
  static let command = CommandSpec(
    name: "serve",
    abstract: "Real HTTP/1.1 server on 127.0.0.1; drains on SIGTERM.",
    discussion: """
      Serves GET /work?ms=N (N ms of work on the clock), /health, /ready (503 once draining) and \
      /stats. Prints 'listening on http://127.0.0.1:PORT (pid N)' on stderr once its signal handlers \
      are armed. On SIGTERM or Ctrl-C: /ready answers 503, the listener closes after --drain-delay, idle \
      connections close, in-flight requests finish with Connection: close, stragglers are aborted \
      when --grace (counted from the listener's close) ends, the counters are saved to \
      --state-file, and it exits 0 if clean, 1 if not. A second signal stops the waiting (exit 130 \
      or 143); a third exits at once. With --naive no handler is installed: SIGTERM kills it \
      mid-request.
      """,
    options: [
      // Loopback only: this server exists to be drilled on this machine, never exposed.
      OptionSpec(
        name: "host", valueName: "address",
        help: "Where to listen: only 127.0.0.1, this machine.",
        kind: .choice(["127.0.0.1"]),
        defaultValue: "127.0.0.1"),
      OptionSpec(
        name: "port", valueName: "port", help: "The TCP port; 0 lets the kernel choose.",
        kind: .integer(0...65_535),
        defaultValue: "8080"),
      OptionSpec(
        name: "grace", valueName: "duration",
        help: "How long in-flight requests may take, once the listener has closed, before they are aborted.",
        kind: .duration(.zero...Duration.seconds(3600)), defaultValue: "10s"),
      OptionSpec(
        name: "drain-delay", valueName: "duration",
        help: "How long to keep accepting after the signal (while /ready says 503).",
        kind: .duration(.zero...Duration.seconds(3600)), defaultValue: "0s"),
      OptionSpec(
        name: "header-timeout", valueName: "duration",
        help: "How long a client may take to send a request's headers.",
        kind: .duration(Duration.milliseconds(1)...Duration.seconds(3600)), defaultValue: "10s"),
      OptionSpec(
        name: "idle-timeout", valueName: "duration",
        help: "How long a keep-alive connection may wait for its next request.",
        kind: .duration(Duration.milliseconds(1)...Duration.seconds(3600)), defaultValue: "60s"),
      OptionSpec(
        name: "state-file", valueName: "path",
        help: "Where to save the counters at shutdown and read them at start.",
        kind: .text),
      OptionSpec(
        name: "naive", help: "Install no signal handler: SIGTERM kills the process at once.", kind: .flag),
    ]
  ) { parsed, context in
    var configuration = ServerConfiguration()
    configuration.host = parsed.choice("host")
    configuration.port = UInt16(parsed.integer("port"))
    configuration.headerTimeout = parsed.duration("header-timeout")
    configuration.idleTimeout = parsed.duration("idle-timeout")
    let statePath = parsed.text("state-file")
    if let statePath, statePath.isEmpty { throw UsageError("--state-file needs a path") }
    return try serve(
      configuration: configuration, grace: parsed.duration("grace"),
      drainDelay: parsed.duration("drain-delay"),
      statePath: statePath, naive: parsed.flag("naive"), context: context)
  }

  /// Serves until shut down; returns the exit code.
  static func serve(
    configuration: ServerConfiguration, grace: Duration, drainDelay: Duration, statePath: String?,
    naive: Bool,
    context: CommandContext
  ) throws -> Int32 {
    var configuration = configuration
    let limit = raiseOpenFilesLimit()
    if limit < 1100 {
      context.writeError(
        "note: the open-files limit is \(limit) (the hard limit); 1,000 connections need about 1,100. "
          + "Raise it with ulimit -Hn.\n")
    }
    let store = statePath.map { ServeStateStore(path: $0) }
    if let store {
      switch store.load(name: "counters") {
      case .none: break
      case .damaged(let reason):
        throw ServeError("cannot read the state file \(store.path): \(reason)")
      case .clean(let bytes), .unclean(let bytes):
        let state = try JSONDecoder().decode(PersistedServerState.self, from: Data(bytes))
        configuration.restored = state
        context.writeError(
          "state restored from \(store.path): \(state.starts) earlier start\(state.starts == 1 ? "" : "s"), "
            + "\(state.requests) requests\(state.wasClean ? "" : "; the last run did not shut down cleanly")\n"
        )
      }
    }
    let loop = try EventLoop()
    let server: HTTPServer
    do {
      server = try HTTPServer(loop: loop, configuration: configuration)
    } catch {
      throw ServeError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
    }
    server.start()
    let listening = "listening on http://\(configuration.host):\(server.port) (pid \(getpid()))\n"
    guard !naive else {
      loop.start(name: "serve-loop") {}
      context.writeError(listening)
      // --naive: no handler; nothing will ever stop this but a signal's default action. The main
      // thread is not one of the cooperative threads: pausing it blocks no task.
      while true { pause() }
    }
    let restored = configuration.restored
    // The main thread is not one of the cooperative threads: waiting there blocks no task.
    return blockingRun {
      await runGracefully(
        server: server, restored: restored, grace: grace, drainDelay: drainDelay, store: store,
        listening: listening, context: context)
    }
  }

  /// Serves under the shutdown coordinator until it has stopped; returns its exit code.
  private static func runGracefully(
    server: HTTPServer, restored: PersistedServerState, grace: Duration, drainDelay: Duration,
    store: ServeStateStore?, listening: String, context: CommandContext
  ) async -> Int32 {
    // Armed when this returns: a signal sent after the listening line is never lost.
    let signals = await ProcessSignals.install([.interrupt, .terminate])
    defer { signals.cancel() }
    let log = ServeShutdownLog(drainDelay: drainDelay, grace: grace, statePath: store?.path) {
      context.writeError($0 + "\n")
    }
    let shutdown = GracefulShutdown(
      clock: ContinuousClock(), signals: signals.signals,
      configuration: ShutdownConfiguration(grace: grace, drainDelay: drainDelay), store: store,
      observer: log.record)
    // Set before the loop thread starts, which orders it before every read there.
    server.coordinator = ServerShutdownLink(phases: shutdown.phases(), connections: shutdown.connections)
    // Awaited before the tracker closes, so the connections it accepts from the kernel's queue
    // count in; the loop does it in microseconds, the timeout only guards a wedged loop.
    shutdown.onStopAccepting(timeout: .seconds(2)) {
      let idle = await server.stopAccepting()
      log.facts.update { $0.idleClosed = idle }
    }
    shutdown.onForcedExit { code in
      log.forcedExit(code: code)
      exit(code)
    }
    shutdown.cleanup.register(name: "http server", timeout: .seconds(5)) {
      let counters = await server.stop()
      log.facts.update { $0.counters = counters }
    }
    if store != nil {
      shutdown.persist(name: "counters", timeout: .seconds(2)) {
        var state = restored
        let counters = log.facts.value.counters ?? ServerCounters()
        state.starts += 1
        state.requests += counters.requests
        state.connections += counters.connectionsAccepted
        log.facts.update { $0.saved = state }
        return try [UInt8](JSONEncoder().encode(state))
      }
    }
    server.loop.start(name: "serve-loop") {}
    context.writeError(listening)
    return await shutdown.run().exitCode
  }
}

/// A failure to start serving: printed as `Error: …`, exit 1.
struct ServeError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
