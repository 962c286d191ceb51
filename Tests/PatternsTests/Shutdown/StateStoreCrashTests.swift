import Foundation
import Patterns
import Testing

/// A process killed with SIGKILL in the middle of writing a snapshot leaves the previous one whole.
///
/// The test runs this very test bundle again as a child process, with `crashWriterDirectory` set in
/// its environment and a filter that selects only ``StateStoreCrashTests/crashWriter_inAChildProcess_writesLargeSnapshotsUntilKilled()``.
/// That child saves large snapshots in a loop; the parent waits until a temporary file is part
/// written, kills the child, and loads.
#if os(Linux)
  @Suite("StateStore crash", .timeLimit(.minutes(3)))
  struct StateStoreCrashTests {
    static let crashWriterDirectory = "SHUTDOWN_STATE_CRASH_WRITER_DIR"
    static let payloadSize = 64 << 20
    static let previous: [UInt8] = Array("the previous snapshot".utf8)

    /// The child's part; skipped in an ordinary run (its variable is not set).
    @Test(.enabled(if: ProcessInfo.processInfo.environment[crashWriterDirectory] != nil))
    func crashWriter_inAChildProcess_writesLargeSnapshotsUntilKilled() throws {
      let directory = try #require(ProcessInfo.processInfo.environment[Self.crashWriterDirectory])
      let store = try FileStateStore(directory: directory)
      var generation: UInt8 = 1
      while true {
        try store.save(
          name: "big", bytes: [UInt8](repeating: generation, count: Self.payloadSize), clean: true)
        generation = generation == 255 ? 1 : generation + 1
      }
    }

    @Test func sigkillMidWrite_leavesThePreviousSnapshotIntactAndLoadable() async throws {
      let directory = ScratchDirectory()
      defer { directory.remove() }
      let store = try FileStateStore(directory: directory.path)
      try store.save(name: "big", bytes: Self.previous, clean: true)

      let child = Process()
      child.executableURL = URL(fileURLWithPath: try Self.testBundleExecutable())
      child.arguments = ["--testing-library", "swift-testing", "--filter", "crashWriter_inAChildProcess"]
      var environment = ProcessInfo.processInfo.environment
      environment[Self.crashWriterDirectory] = directory.path
      child.environment = environment
      child.standardOutput = FileHandle.nullDevice
      child.standardError = FileHandle.nullDevice
      try child.run()
      let pid = child.processIdentifier
      defer { if child.isRunning { kill(pid, SIGKILL) } }

      // Bounded: wait until the child's temporary file exists and is part written, then kill it.
      let temporary = "\(directory.path)/big.snapshot.tmp-\(pid)"
      let fullSize = SnapshotFormat.headerSize + Self.payloadSize
      // The bound is in time, not in polls: a child built with the Thread Sanitizer takes many
      // seconds to start and to fill its first buffer.
      var killedAt: Int?
      let giveUp = ContinuousClock.now + .seconds(90)
      while killedAt == nil, ContinuousClock.now < giveUp, child.isRunning {
        if let size = Self.fileSize(temporary), size > 0, size < fullSize {
          kill(pid, SIGKILL)
          killedAt = size
        } else {
          try await Task.sleep(for: .microseconds(200))
        }
      }
      let observed = try #require(killedAt, "the child never wrote a temporary file; is it running?")
      for _ in 0..<10_000 where child.isRunning { try await Task.sleep(for: .milliseconds(1)) }
      #expect(!child.isRunning)
      #expect(child.terminationReason == .uncaughtSignal)
      #expect(child.terminationStatus == SIGKILL)

      // The part-written file is still there, smaller than a whole snapshot: the kill landed mid-write.
      let leftover = try #require(Self.fileSize(temporary))
      #expect(leftover >= observed && leftover < fullSize)

      // What loads is a whole snapshot: the previous one, or one the child finished before.
      let loaded = store.load(name: "big")
      guard case .clean(let bytes) = loaded else {
        Issue.record("expected a clean snapshot, loaded \(loaded)")
        return
      }
      let isPrevious = bytes == Self.previous
      let isAnEarlierWholeGeneration = bytes.count == Self.payloadSize && Set(bytes).count == 1
      #expect(isPrevious || isAnEarlierWholeGeneration)
    }

    /// The test bundle's own executable (on Linux the `.xctest` bundle is an executable file).
    static func testBundleExecutable() throws -> String {
      let path = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
      return path
    }

    static func fileSize(_ path: String) -> Int? {
      var info = stat()
      guard stat(path, &info) == 0 else { return nil }
      return Int(info.st_size)
    }
  }
#endif
