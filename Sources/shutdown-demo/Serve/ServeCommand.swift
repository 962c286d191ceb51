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
/// - `ServerShutdown`: the shutdown sequence as a state machine over events (signals, timers,
///   "drained"), with the exit-code contract; `SignalNotifier` turns signals into events.
/// - `StateFile`: counters saved atomically at the end, restored at the next start.
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
      when --grace ends, the counters are saved to --state-file, and it exits 0 if clean, 1 if not. A \
      second signal stops the waiting (exit 130 or 143); a third exits at once. With --naive no \
      handler is installed: SIGTERM kills it mid-request.
      """,
    options: [
      // 0.0.0.0 is for a container only: a pod's probes and Service reach it on the pod's own
      // address, never on its loopback (docs/kubernetes/README.md).
      OptionSpec(
        name: "host", valueName: "address",
        help: "Where to listen: 127.0.0.1, or 0.0.0.0 inside a container.",
        kind: .choice(["127.0.0.1", "0.0.0.0"]),
        defaultValue: "127.0.0.1"),
      OptionSpec(
        name: "port", valueName: "port", help: "The TCP port; 0 lets the kernel choose.",
        kind: .integer(0...65_535),
        defaultValue: "8080"),
      OptionSpec(
        name: "grace", valueName: "duration",
        help: "How long after the signal in-flight requests may take before they are aborted.",
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
    if let statePath {
      do {
        if let state = try StateFile.load(statePath) {
          configuration.restored = state
          context.writeError(
            "state restored from \(statePath): \(state.starts) earlier start\(state.starts == 1 ? "" : "s"), "
              + "\(state.requests) requests\n")
        }
      } catch {
        throw ServeError("cannot read the state file \(statePath): \(error.localizedDescription)")
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

    let (events, eventSink) = AsyncStream<ShutdownEvent>.makeStream()
    let post: @Sendable (ShutdownEvent) -> Void = { eventSink.yield($0) }
    let notifier: SignalNotifier? =
      naive ? nil : SignalNotifier(signals: [SIGINT, SIGTERM]) { post(.signal($0)) }
    loop.start(name: "serve-loop") {}
    context.writeError("listening on http://\(configuration.host):\(server.port) (pid \(getpid()))\n")
    guard notifier != nil else {
      // --naive: nothing will ever stop this but a signal's default action.
      while true { pause() }
    }
    let restored = configuration.restored
    let shutdown = ServerShutdown(
      grace: grace, drainDelay: drainDelay, log: { context.writeError($0 + "\n") },
      persist: { counters, outcome in
        guard let statePath else { return nil }
        var state = restored
        state.starts += 1
        state.requests += counters.requests
        state.connections += counters.connectionsAccepted
        if outcome == .clean { state.cleanShutdowns += 1 }
        state.lastExitCode = outcome.exitCode
        try StateFile.save(state, to: statePath)
        return "state saved to \(statePath): \(state.starts) start\(state.starts == 1 ? "" : "s"), "
          + "\(state.requests) requests in all"
      })
    // The main thread is not one of the cooperative threads: waiting there blocks no task.
    return blockingRun { await shutdown.run(server: server, events: events, post: post) }
  }
}

/// A failure to start serving: printed as `Error: …`, exit 1.
struct ServeError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
