import Foundation
import Patterns
import Testing

/// A fresh directory under the system's temporary directory, removed by `remove()`.
struct ScratchDirectory {
  let path: String

  init() {
    var template = Array("\(NSTemporaryDirectory())/state-store-XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
    path = made.map { String(cString: $0) } ?? NSTemporaryDirectory() + "/state-store-\(UUID().uuidString)"
  }

  func remove() { try? FileManager.default.removeItem(atPath: path) }

  func write(_ bytes: [UInt8], to name: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: "\(path)/\(name)"))
  }

  func read(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(path)/\(name)")))
  }

  var files: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

@Suite("StateStore")
struct StateStoreTests {
  let payload: [UInt8] = Array("42 counters".utf8)

  @Test func fileStore_roundTrip_clean_andLeavesNoTemporaryFile() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path)
    try store.save(name: "counters", bytes: payload, clean: true)
    #expect(store.load(name: "counters") == .clean(payload))
    #expect(directory.files == ["counters.snapshot"])
  }

  @Test func fileStore_uncleanMarker_loadsAsUnclean() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path)
    try store.save(name: "counters", bytes: payload, clean: false)
    #expect(store.load(name: "counters") == .unclean(payload))
  }

  @Test func fileStore_saveReplacesThePreviousSnapshot() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path)
    try store.save(name: "counters", bytes: [1, 2, 3], clean: false)
    try store.save(name: "counters", bytes: payload, clean: true)
    #expect(store.load(name: "counters") == .clean(payload))
  }

  @Test func fileStore_missingSnapshot_isNone() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path + "/nested/dir")  // created
    #expect(store.load(name: "counters") == .none)
  }

  @Test func fileStore_truncatedPayload_isDamaged() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path)
    try store.save(name: "counters", bytes: payload, clean: true)
    let file = try directory.read("counters.snapshot")
    try directory.write(Array(file.dropLast(3)), to: "counters.snapshot")
    #expect(
      store.load(name: "counters")
        == .damaged(reason: "truncated: header says 11 payload bytes, file holds 8"))
  }

  @Test func fileStore_truncatedHeader_isDamaged() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path)
    try directory.write(Array("SDSN".utf8), to: "counters.snapshot")
    #expect(
      store.load(name: "counters") == .damaged(reason: "truncated: 4 bytes, shorter than the 20-byte header"))
  }

  @Test func fileStore_badChecksum_isDamaged_andItsBytesAreNotReturned() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path)
    try store.save(name: "counters", bytes: payload, clean: true)
    var file = try directory.read("counters.snapshot")
    file[file.count - 1] ^= 0x01
    try directory.write(file, to: "counters.snapshot")
    let loaded = store.load(name: "counters")
    #expect(loaded == .damaged(reason: "checksum mismatch"))
    #expect(loaded.bytes == nil)
  }

  @Test func flippedCleanMarker_isCaughtByTheChecksum() {
    var file = SnapshotFormat.encode(payload, clean: false)
    file[6] |= 1
    #expect(SnapshotFormat.decode(file) == .damaged(reason: "checksum mismatch"))
  }

  @Test func fileStore_badMagic_isDamaged() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path)
    var file = SnapshotFormat.encode(payload, clean: true)
    file[0] = UInt8(ascii: "X")
    try directory.write(file, to: "counters.snapshot")
    #expect(store.load(name: "counters") == .damaged(reason: "bad magic: not a snapshot file"))
  }

  @Test func invalidNames_areRefused() throws {
    let directory = ScratchDirectory()
    defer { directory.remove() }
    let store = try FileStateStore(directory: directory.path)
    for name in ["", "../escape", ".hidden"] {
      #expect(throws: StateStoreError.invalidName(name)) {
        try store.save(name: name, bytes: [], clean: true)
      }
    }
  }

  @Test func header_isTheDocumentedLayout_withAStandardCRC32() {
    let file = SnapshotFormat.encode(Array("123456789".utf8), clean: false)
    // magic, version 1, flags 0, reserved 0, length 9 (little-endian), then the CRC-32 of bytes 4..<16
    // and the payload: 0x9295EF40, as zlib.crc32 computes it for those 21 bytes.
    let header: [UInt8] =
      Array("SDSN".utf8) + [1, 0, 0, 0] + [9, 0, 0, 0, 0, 0, 0, 0] + [0x40, 0xEF, 0x95, 0x92]
    #expect(Array(file[0..<SnapshotFormat.headerSize]) == header)
    #expect(Array(file[SnapshotFormat.headerSize...]) == Array("123456789".utf8))
  }

  @Test func inMemoryStore_decodesTheSameFormat_andReportsStagedDamage() throws {
    let store = InMemoryStateStore()
    #expect(store.load(name: "counters") == .none)
    try store.save(name: "counters", bytes: payload, clean: true)
    #expect(store.load(name: "counters") == .clean(payload))
    let file = try #require(store.rawBytes(name: "counters"))
    store.replaceRawBytes(name: "counters", Array(file.prefix(10)))
    #expect(
      store.load(name: "counters") == .damaged(reason: "truncated: 10 bytes, shorter than the 20-byte header")
    )
  }
}
