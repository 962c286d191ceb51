import Dispatch
import Foundation

/// Runs the `shutdown-demo` executable the way a user does: as a separate process with its own stdout and
/// stderr, but with a pinned environment so that output cannot depend on the developer's terminal.
///
/// The binary is `$SHUTDOWN_DEMO_BINARY` when set (CI points it at a release build), otherwise the
/// `shutdown-demo` that `swift build` / `swift test` put next to the test bundle.
enum BinaryRunner {
  /// What a run produced. Output is decoded as UTF-8 (invalid bytes become U+FFFD).
  typealias Output = (stdout: String, stderr: String, exitCode: Int32)

  /// Names the binary to run instead of the one next to the test bundle.
  static let binaryVariable = "SHUTDOWN_DEMO_BINARY"

  /// A hung binary must fail its test rather than hang the whole suite.
  static let timeoutSeconds = 120

  /// Runs the binary with `arguments`; `overrides` are added to (or replace parts of) the pinned
  /// environment. `binary` replaces the resolved executable, which the harness self-tests use.
  static func run(
    _ arguments: [String],
    environment overrides: [String: String] = [:],
    binary: URL? = nil
  ) throws -> Output {
    let executable = try binary ?? binaryURL()
    let fileManager = FileManager.default
    // Output goes to files rather than pipes: a child filling one pipe while we block reading the other
    // would deadlock, and files have no capacity limit.
    let scratch = fileManager.temporaryDirectory
      .appendingPathComponent("shutdown-demo-run-\(UUID().uuidString)")
    try fileManager.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? fileManager.removeItem(at: scratch) }
    let stdoutURL = scratch.appendingPathComponent("stdout")
    let stderrURL = scratch.appendingPathComponent("stderr")
    let workDirectory = scratch.appendingPathComponent("cwd")
    try fileManager.createDirectory(at: workDirectory, withIntermediateDirectories: true)
    _ = fileManager.createFile(atPath: stdoutURL.path, contents: nil)
    _ = fileManager.createFile(atPath: stderrURL.path, contents: nil)
    let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
    defer { try? stdoutHandle.close() }
    let stderrHandle = try FileHandle(forWritingTo: stderrURL)
    defer { try? stderrHandle.close() }

    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = pinnedEnvironment(overrides: overrides)
    // An empty directory, so nothing the binary might write lands in the checkout.
    process.currentDirectoryURL = workDirectory
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = stdoutHandle
    process.standardError = stderrHandle
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    do {
      try process.run()
    } catch {
      throw BinaryRunnerError(description: "could not start \(executable.path): \(error)")
    }
    if exited.wait(timeout: .now() + .seconds(timeoutSeconds)) == .timedOut {
      // Bounded here too: Foundation hears of the exit through a socket, and waitUntilExit would
      // wait for ever if something else still held a copy of it.
      kill(process.processIdentifier, SIGKILL)
      _ = exited.wait(timeout: .now() + .seconds(10))
      throw BinaryRunnerError(
        description: "\(executable.path) \(arguments) did not exit within \(timeoutSeconds) s; killed it"
      )
    }
    process.waitUntilExit()
    let stdout = String(decoding: try Data(contentsOf: stdoutURL), as: UTF8.self)
    let stderr = String(decoding: try Data(contentsOf: stderrURL), as: UTF8.self)
    return (stdout, stderr, process.terminationStatus)
  }

  /// The environment the binary sees: only what is pinned here plus `PATH`, so a developer's locale,
  /// terminal width or colour preferences cannot change output.
  static func pinnedEnvironment(
    overrides: [String: String] = [:],
    inherited: [String: String] = ProcessInfo.processInfo.environment
  ) -> [String: String] {
    var environment = ["NO_COLOR": "1", "COLUMNS": "80", "LC_ALL": "C"]
    if let path = inherited["PATH"] { environment["PATH"] = path }
    environment.merge(overrides) { _, override in override }
    return environment
  }

  /// The executable under test: `$SHUTDOWN_DEMO_BINARY`, else `shutdown-demo` beside the test bundle.
  static func binaryURL(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> URL {
    let fileManager = FileManager.default
    if let explicit = environment[binaryVariable], !explicit.isEmpty {
      let url = URL(fileURLWithPath: explicit)
      guard fileManager.isExecutableFile(atPath: url.path) else {
        throw BinaryRunnerError(
          description: "\(binaryVariable)=\(explicit) is not an executable file; build it first "
            + "(e.g. `swift build -c release`) or unset \(binaryVariable)"
        )
      }
      return url
    }
    let binDirectory = testBundleDirectory()
    let url = binDirectory.appendingPathComponent("shutdown-demo")
    guard fileManager.isExecutableFile(atPath: url.path) else {
      throw BinaryRunnerError(
        description: "no shutdown-demo executable at \(url.path); run `swift build` "
          + "(or set \(binaryVariable) to a built binary)"
      )
    }
    return url
  }

  /// The directory holding the running test bundle, which is SwiftPM's bin directory.
  private static func testBundleDirectory() -> URL {
    // /proc/self/exe names the real test executable even when argv[0] is relative or a wrapper's name.
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }
    return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.deletingLastPathComponent()
  }
}

/// Why the binary could not be run; the description says what to do about it.
struct BinaryRunnerError: Error, CustomStringConvertible {
  let description: String
}
