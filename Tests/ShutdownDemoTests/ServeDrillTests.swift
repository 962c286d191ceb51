import Foundation
import Testing

@testable import shutdown_demo

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `drill` and `load` run as a user runs them. The counts asserted are the ones the drill exists to
/// show: graceful loses no accepted request, naive loses some.
@Suite struct ServeDrillTests {
  /// The drill's JSON lines, one object per mode, by mode.
  private func runDrill(_ arguments: [String]) throws -> (
    runs: [String: [String: Any]], exitCode: Int32, stderr: String
  ) {
    let (stdout, stderr, exitCode) = try BinaryRunner.run(["drill", "--format", "json"] + arguments)
    var runs: [String: [String: Any]] = [:]
    for line in stdout.split(separator: "\n") {
      let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      runs[try #require(object["mode"] as? String)] = object
    }
    return (runs, exitCode, stderr)
  }

  @Test func drill_graceful_losesNoAcceptedRequest_naive_losesSome() throws {
    let (runs, exitCode, stderr) = try runDrill(["--concurrency", "16", "--signal-after", "500ms"])
    #expect(exitCode == 0, "stderr: \(stderr)")
    let graceful = try #require(runs["graceful"])
    let naive = try #require(runs["naive"])
    #expect(graceful["failed_after_accept"] as? Int == 0)
    #expect(graceful["exit_code"] as? Int == 0)
    #expect((graceful["ok"] as? Int ?? 0) > 0)
    #expect(graceful["exit_seconds"] is Double)
    #expect((naive["failed_after_accept"] as? Int ?? 0) > 0)
    #expect(naive["exit_code"] as? Int == 143)
    for run in [graceful, naive] {
      for key in ["ok", "refused", "failed_after_accept", "exit_code"] { #expect(run[key] is Int, "\(key)") }
    }
  }

  @Test func drill_onYourOwnCommand_passesAGracefulServer_andFailsANaiveOne() throws {
    let binary = try BinaryRunner.binaryURL().path
    for (flags, passes) in [("", true), (" --naive", false)] {
      let port = try freePort()
      let (runs, exitCode, stderr) = try runDrill([
        "--concurrency", "8", "--signal-after", "300ms", "--command",
        "'\(binary)' serve --port \(port)\(flags)",
        "--url", "http://127.0.0.1:\(port)/work?ms=100", "--ready-url", "http://127.0.0.1:\(port)/ready",
      ])
      let run = try #require(runs["your service"], "stderr: \(stderr)")
      let verdict = try #require(run["verdict"] as? String)
      if passes {
        #expect(exitCode == 0)
        #expect(verdict.hasPrefix("PASS"), "\(verdict)")
        #expect(run["failed_after_accept"] as? Int == 0)
      } else {
        #expect(exitCode == 1)
        #expect(verdict.hasPrefix("FAIL"), "\(verdict)")
        #expect(verdict.contains("cut after being accepted"), "\(verdict)")
        #expect(run["exit_code"] as? Int == 143)
      }
    }
  }

  @Test func load_countsOkResponses_andReportsJSON() async throws {
    let server = try await RunningServer.start()
    defer { server.kill() }
    let (stdout, _, exitCode) = try BinaryRunner.run([
      "load", "--url", "http://127.0.0.1:\(server.port)/health", "--requests", "200", "--concurrency", "4",
      "--format", "json",
    ])
    #expect(exitCode == 0)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
    #expect(json["requests"] as? Int == 200)
    #expect(json["ok"] as? Int == 200)
    #expect(json["failed_after_accept"] as? Int == 0)
    server.child.send(SIGTERM)
    #expect(try await server.exitCode() == 0)
  }

  @Test func load_againstAClosedPort_countsRefused_notFailed() throws {
    let port = try freePort()
    let (stdout, _, exitCode) = try BinaryRunner.run([
      "load", "--url", "http://127.0.0.1:\(port)/", "--requests", "5", "--concurrency", "1", "--format",
      "json",
    ])
    #expect(exitCode == 0)
    let json = try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
    #expect(json["refused"] as? Int == 5)
    #expect(json["failed_after_accept"] as? Int == 0)
  }

  @Test(arguments: [
    (["serve", "--host", "0.0.0.0"], "'--host <address>'"),
    (["load"], "--url"),
    (["load", "--url", "http://example.com/"], "'--url <url>'"),
    (["load", "--url", "http://127.0.0.1:1/", "--duration", "1s", "--requests", "3"], "not both"),
    (["drill", "--url", "http://127.0.0.1:1/"], "'--url' goes with '--command'"),
    (["drill", "--command", "true"], "needs '--url <url>'"),
    (["drill", "--command", "true", "--url", "http://127.0.0.1:1/", "--mode", "naive"], "'--mode'"),
  ])
  func badInput_isAUsageError(_ arguments: [String], _ mention: String) throws {
    let (stdout, stderr, exitCode) = try BinaryRunner.run(arguments)
    #expect(exitCode == 64)
    #expect(stdout == "")
    let first = stderr.split(separator: "\n").first.map(String.init) ?? ""
    #expect(first.hasPrefix("Error: "))
    #expect(first.contains(mention), "\(first)")
  }

  /// A port nobody listens on (bound by the kernel's choice, then released).
  private func freePort() throws -> UInt16 {
    let (descriptor, port) = try makeListener(host: "127.0.0.1", port: 0, backlog: 1)
    close(descriptor)
    return port
  }
}
