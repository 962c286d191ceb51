#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a service keeps the state that must survive a restart, written so that a crash at any
/// moment leaves either the old snapshot or the new one, never half of one.
///
/// Step 6 of a graceful shutdown ("persist the state that must survive"). A ``StateStore`` saves
/// named snapshots (bytes) and loads them back, saying what it found:
///
/// ```swift
/// let store = try FileStateStore(directory: "/var/lib/counter")
/// switch store.load(name: "counters") {
/// case .clean(let bytes): restore(bytes)                 // the last run shut down cleanly
/// case .unclean(let bytes): restore(bytes); warn()       // written, but that run did not end cleanly
/// case .damaged(let reason): log(reason); startEmpty()   // reported, never trusted
/// case .none: startEmpty()                               // first run
/// }
/// // at shutdown (the coordinator does this for its persistence hooks):
/// try store.save(name: "counters", bytes: encode(counters), clean: true)
/// ```
///
/// The sharp edges:
/// - **Overwriting in place is not atomic.** `open(O_TRUNC)` then `write` leaves an empty or
///   half-written file if the process dies in between (a SIGKILL at the end of the grace period, a
///   power cut). ``FileStateStore`` writes a temporary file in the same directory, `fsync`s it,
///   `rename`s it over the old one (atomic within one file system), then `fsync`s the directory so
///   the rename itself is durable. Until the rename, the old snapshot is untouched.
/// - **A file that exists is not a file that is whole.** Each snapshot carries a header (see
///   ``SnapshotFormat``): magic, version, length and a CRC-32 checksum. A file that fails any check
///   is ``LoadedState/damaged(reason:)`` and its bytes are not handed out.
/// - **"It loaded" is not "it shut down cleanly".** The header's clean-shutdown marker says whether
///   the snapshot was written by a shutdown that completed cleanly (``LoadedState/clean(_:)``) or by
///   anything else: a checkpoint while running, or a shutdown that had to abort work
///   (``LoadedState/unclean(_:)``).
/// - **Blocking I/O.** ``FileStateStore`` uses plain POSIX calls, `fsync` included: call it for
///   small snapshots at shutdown, or from a thread of your own for large ones.
public protocol StateStore: Sendable {
  /// Saves `bytes` as the snapshot `name`, replacing the previous one atomically.
  /// - Parameter clean: the clean-shutdown marker: true when written by a shutdown that completed
  ///   cleanly.
  func save(name: String, bytes: [UInt8], clean: Bool) throws
  /// Loads the snapshot `name`, saying what was found.
  func load(name: String) -> LoadedState
}

/// What ``StateStore/load(name:)`` found.
public enum LoadedState: Sendable, Hashable, CustomStringConvertible {
  /// A whole snapshot written by a shutdown that completed cleanly.
  case clean([UInt8])
  /// A whole snapshot, but not from a clean shutdown: the previous run was checkpointing, or had
  /// to abort work before it saved. Usable, with care.
  case unclean([UInt8])
  /// A file is there but fails a check (truncated, bad magic, unknown version, bad checksum, or
  /// unreadable). Never trusted: its bytes are not returned.
  case damaged(reason: String)
  /// No snapshot of that name.
  case none

  /// The snapshot's bytes, if it was whole.
  public var bytes: [UInt8]? {
    switch self {
    case .clean(let bytes), .unclean(let bytes): bytes
    case .damaged, .none: nil
    }
  }

  /// "clean snapshot (42 bytes)", "damaged: checksum mismatch", …
  public var description: String {
    switch self {
    case .clean(let bytes): "clean snapshot (\(bytes.count) bytes)"
    case .unclean(let bytes): "snapshot from an unclean shutdown (\(bytes.count) bytes)"
    case .damaged(let reason): "damaged: \(reason)"
    case .none: "no snapshot"
    }
  }
}

/// Why a save failed.
public enum StateStoreError: Error, Hashable, CustomStringConvertible {
  /// The name is empty, or holds `/` or starts with `.`: names become file names.
  case invalidName(String)
  /// A system call failed: which one, on which path, and `errno`.
  case io(operation: String, path: String, errno: Int32)

  public var description: String {
    switch self {
    case .invalidName(let name): "invalid snapshot name \"\(name)\""
    case .io(let operation, let path, let errno):
      "\(operation) \(path): \(String(cString: strerror(errno)))"
    }
  }
}

/// The snapshot file format: a 20-byte header, then the payload.
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `SDSN` |
/// | 4 | 2 | version, little-endian (1) |
/// | 6 | 1 | flags: bit 0 is the clean-shutdown marker |
/// | 7 | 1 | reserved (0) |
/// | 8 | 8 | payload length, little-endian |
/// | 16 | 4 | CRC-32 (IEEE) of bytes 4..<16 and the payload, little-endian |
///
/// The checksum covers the version, flags and length as well as the payload, so a flipped marker
/// is caught too.
public enum SnapshotFormat {
  /// The four bytes every snapshot starts with.
  public static let magic: [UInt8] = Array("SDSN".utf8)
  /// The version this code writes and reads.
  public static let version: UInt16 = 1
  /// Bytes before the payload.
  public static let headerSize = 20

  /// The file's bytes for a payload.
  public static func encode(_ payload: [UInt8], clean: Bool) -> [UInt8] {
    var file = magic
    file.reserveCapacity(headerSize + payload.count)
    appendLittleEndian(UInt64(version), bytes: 2, to: &file)
    file.append(clean ? 1 : 0)
    file.append(0)
    appendLittleEndian(UInt64(payload.count), bytes: 8, to: &file)
    var crc = CRC32()
    crc.update(file[4..<16])
    crc.update(payload[...])
    appendLittleEndian(UInt64(crc.value), bytes: 4, to: &file)
    file.append(contentsOf: payload)
    return file
  }

  /// What a file's bytes hold.
  public static func decode(_ file: [UInt8]) -> LoadedState {
    guard file.count >= headerSize else {
      return .damaged(reason: "truncated: \(file.count) bytes, shorter than the \(headerSize)-byte header")
    }
    guard Array(file[0..<4]) == magic else { return .damaged(reason: "bad magic: not a snapshot file") }
    let fileVersion = UInt16(readLittleEndian(file, at: 4, bytes: 2))
    guard fileVersion == version else { return .damaged(reason: "unknown version \(fileVersion)") }
    let length = readLittleEndian(file, at: 8, bytes: 8)
    let present = UInt64(file.count - headerSize)
    guard length == present else {
      return .damaged(reason: "truncated: header says \(length) payload bytes, file holds \(present)")
    }
    var crc = CRC32()
    crc.update(file[4..<16])
    crc.update(file[headerSize...])
    guard UInt32(readLittleEndian(file, at: 16, bytes: 4)) == crc.value else {
      return .damaged(reason: "checksum mismatch")
    }
    let payload = Array(file[headerSize...])
    return file[6] & 1 == 1 ? .clean(payload) : .unclean(payload)
  }

  private static func appendLittleEndian(_ value: UInt64, bytes: Int, to file: inout [UInt8]) {
    for index in 0..<bytes { file.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
  }

  private static func readLittleEndian(_ file: [UInt8], at offset: Int, bytes: Int) -> UInt64 {
    var value: UInt64 = 0
    for index in 0..<bytes { value |= UInt64(file[offset + index]) << (8 * UInt64(index)) }
    return value
  }
}

/// CRC-32 as zlib, PNG and Ethernet compute it (IEEE polynomial, reflected, 0xEDB88320).
struct CRC32 {
  private static let table: [UInt32] = (0..<256).map { index in
    var value = UInt32(index)
    for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ 0xEDB8_8320 : value >> 1 }
    return value
  }

  private var state: UInt32 = 0xFFFF_FFFF

  mutating func update(_ bytes: ArraySlice<UInt8>) {
    for byte in bytes { state = Self.table[Int((state ^ UInt32(byte)) & 0xFF)] ^ (state >> 8) }
  }

  var value: UInt32 { state ^ 0xFFFF_FFFF }
}

/// Snapshots as files in one directory, each written atomically: `<name>.snapshot`.
///
/// A save writes `<name>.snapshot.tmp-<pid>` in the same directory (the same file system, so the
/// rename is atomic), `fsync`s it, renames it over `<name>.snapshot`, and `fsync`s the directory.
/// A process killed at any point leaves the previous snapshot whole; at worst a temporary file is
/// left behind, which the next save of that name from the same process id replaces and which
/// ``load(name:)`` never reads.
public struct FileStateStore: StateStore {
  /// The directory holding the snapshots.
  public let directory: String

  /// A store in `directory`, created (with its parents) if missing.
  public init(directory: String) throws {
    self.directory = directory
    try Self.makeDirectories(directory)
  }

  /// The path of the snapshot `name`.
  public func path(for name: String) -> String { "\(directory)/\(name).snapshot" }

  /// The path a save of `name` by this process writes before renaming.
  public func temporaryPath(for name: String) -> String { "\(path(for: name)).tmp-\(getpid())" }

  public func save(name: String, bytes: [UInt8], clean: Bool) throws {
    try Self.validate(name)
    let target = path(for: name)
    let temporary = temporaryPath(for: name)
    let file = SnapshotFormat.encode(bytes, clean: clean)

    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw StateStoreError.io(operation: "open", path: temporary, errno: errno) }
    do {
      try Self.writeAll(file, to: descriptor, path: temporary)
      guard fsync(descriptor) == 0 else {
        throw StateStoreError.io(operation: "fsync", path: temporary, errno: errno)
      }
    } catch {
      close(descriptor)
      unlink(temporary)
      throw error
    }
    guard close(descriptor) == 0 else {
      let code = errno
      unlink(temporary)
      throw StateStoreError.io(operation: "close", path: temporary, errno: code)
    }
    guard rename(temporary, target) == 0 else {
      let code = errno
      unlink(temporary)
      throw StateStoreError.io(operation: "rename", path: target, errno: code)
    }
    // The rename lives in the directory: without this fsync a power cut could undo it.
    let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
    guard directoryDescriptor >= 0 else {
      throw StateStoreError.io(operation: "open", path: directory, errno: errno)
    }
    defer { close(directoryDescriptor) }
    guard fsync(directoryDescriptor) == 0 else {
      throw StateStoreError.io(operation: "fsync", path: directory, errno: errno)
    }
  }

  public func load(name: String) -> LoadedState {
    guard (try? Self.validate(name)) != nil else {
      return .damaged(reason: "invalid snapshot name \"\(name)\"")
    }
    let target = path(for: name)
    let descriptor = open(target, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      let code = errno
      if code == ENOENT { return .none }
      return .damaged(
        reason: "unreadable: \(StateStoreError.io(operation: "open", path: target, errno: code))")
    }
    defer { close(descriptor) }
    var file: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        return .damaged(
          reason: "unreadable: \(StateStoreError.io(operation: "read", path: target, errno: errno))")
      }
      if count == 0 { break }
      file.append(contentsOf: chunk[0..<count])
    }
    return SnapshotFormat.decode(file)
  }

  static func validate(_ name: String) throws {
    guard !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else {
      throw StateStoreError.invalidName(name)
    }
  }

  private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
    try bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          throw StateStoreError.io(operation: "write", path: path, errno: errno)
        }
        offset += written
      }
    }
  }

  private static func makeDirectories(_ path: String) throws {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for component in path.split(separator: "/") {
      prefix += component
      if mkdir(prefix, 0o755) != 0, errno != EEXIST {
        throw StateStoreError.io(operation: "mkdir", path: prefix, errno: errno)
      }
      prefix += "/"
    }
  }
}

/// Snapshots kept in memory, in the same format as files: for scripted runs and tests.
///
/// It keeps the encoded bytes, so ``replaceRawBytes(name:_:)`` can truncate or corrupt one and show
/// what ``load(name:)`` says about it. A save replaces the old bytes in one step, as a rename would.
public final class InMemoryStateStore: StateStore {
  private let files = Lock<[String: [UInt8]]>([:])

  /// An empty store.
  public init() {}

  public func save(name: String, bytes: [UInt8], clean: Bool) throws {
    try FileStateStore.validate(name)
    let file = SnapshotFormat.encode(bytes, clean: clean)
    files.withLock { $0[name] = file }
  }

  public func load(name: String) -> LoadedState {
    guard let file = files.withLock({ $0[name] }) else { return .none }
    return SnapshotFormat.decode(file)
  }

  /// The stored file's bytes (header included), as a file store would hold them.
  public func rawBytes(name: String) -> [UInt8]? { files.withLock { $0[name] } }

  /// Replaces (or, with `nil`, removes) the stored bytes as they are, to stage damage.
  public func replaceRawBytes(name: String, _ bytes: [UInt8]?) { files.withLock { $0[name] = bytes } }

  /// The names stored, sorted.
  public var names: [String] { files.withLock { $0.keys.sorted() } }
}
