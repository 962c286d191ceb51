import Foundation
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What `serve --state-file` keeps across runs: lifetime counters, written at the end of every
/// shutdown and read at the next start.
struct PersistedServerState: Codable, Equatable, Sendable {
  var starts = 0
  var requests = 0
  var connections = 0
  var cleanShutdowns = 0
  /// The coordinator's clean-shutdown marker of the run that wrote the file.
  var lastShutdownClean: Bool?
  /// Written by earlier versions (0 meant clean); read, never written.
  var lastExitCode: Int32?

  enum CodingKeys: String, CodingKey {
    case starts, requests, connections
    case cleanShutdowns = "clean_shutdowns"
    case lastShutdownClean = "last_shutdown_clean"
    case lastExitCode = "last_exit_code"
  }

  /// Whether the run that wrote it shut down cleanly (files of earlier versions: exit code 0).
  var wasClean: Bool { lastShutdownClean ?? (lastExitCode == 0) }
}

/// `--state-file` as the coordinator's `StateStore`: one JSON file at the path the user gave,
/// replaced atomically by `StateFile.save`.
///
/// The library's `FileStateStore` keeps `<name>.snapshot` files with a binary header in a
/// directory; `serve` keeps the plain JSON file a user can read with `cat` and `jq`. The snapshot
/// name is not used (there is one snapshot, the counters), and the clean-shutdown marker the
/// coordinator passes is written into the JSON (`last_shutdown_clean`, and `clean_shutdowns`
/// counts up), so `load` can hand it back as `clean` or `unclean`.
struct ServeStateStore: StateStore {
  let path: String

  func save(name: String, bytes: [UInt8], clean: Bool) throws {
    var state = try JSONDecoder().decode(PersistedServerState.self, from: Data(bytes))
    state.lastShutdownClean = clean
    state.lastExitCode = nil
    if clean { state.cleanShutdowns += 1 }
    try StateFile.save(state, to: path)
  }

  func load(name: String) -> LoadedState {
    guard FileManager.default.fileExists(atPath: path) else { return .none }
    do {
      let data = try Data(contentsOf: URL(fileURLWithPath: path))
      let state = try JSONDecoder().decode(PersistedServerState.self, from: data)
      return state.wasClean ? .clean([UInt8](data)) : .unclean([UInt8](data))
    } catch {
      return .damaged(reason: error.localizedDescription)
    }
  }
}

/// Atomic replacement of a small file: a reader (or the next start after a crash) sees the old
/// contents or the new, never half of each.
///
/// The steps, and why each: write a temporary file in the same directory (a rename is atomic only
/// within one file system); `fsync` it (the data is on disk before the name points at it);
/// `rename` over the old file (atomic); `fsync` the directory (the rename itself survives a power
/// cut). Skipping either fsync can leave an empty file after a crash on ext4 or XFS.
enum StateFile {
  /// The state in `path`, or `nil` when there is no such file.
  static func load(_ path: String) throws -> PersistedServerState? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return try JSONDecoder().decode(PersistedServerState.self, from: data)
  }

  /// Replaces `path` with `state`, atomically and durably.
  static func save(_ state: PersistedServerState, to path: String) throws(SocketError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard var data = try? encoder.encode(state) else { throw SocketError("encode", EINVAL) }
    data.append(UInt8(ascii: "\n"))
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw SocketError("open \(temporary)", errno) }
    let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == data.count, fsync(descriptor) == 0 else {
      let code = errno
      close(descriptor)
      unlink(temporary)
      throw SocketError("write \(temporary)", code)
    }
    close(descriptor)
    guard rename(temporary, path) == 0 else {
      let code = errno
      unlink(temporary)
      throw SocketError("rename to \(path)", code)
    }
    let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else { throw SocketError("open \(directory)", errno) }
    defer { close(directoryDescriptor) }
    guard fsync(directoryDescriptor) == 0 else { throw SocketError("fsync \(directory)", errno) }
  }
}
