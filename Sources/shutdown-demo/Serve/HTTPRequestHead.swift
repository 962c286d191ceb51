/// The request line and the headers the server acts on, parsed from the bytes before the blank line.
///
/// Only what this server needs: method, path and query, the version, `Connection`, `Content-Length`
/// and whether `Transfer-Encoding` is present (chunked bodies are not supported, on purpose: 411).
struct HTTPRequestHead: Equatable, Sendable {
  var method: String
  var path: String
  var query: String
  /// 0 for HTTP/1.0, 1 for HTTP/1.1.
  var minorVersion: Int
  /// Whether the client asked to keep the connection open (HTTP/1.1 unless `Connection: close`;
  /// HTTP/1.0 only with `Connection: keep-alive`).
  var keepAlive: Bool
  var contentLength: Int?
  var hasTransferEncoding: Bool

  /// Why a head could not be used: the status to answer with; the connection then closes, since
  /// where the next request starts is unknown.
  enum Failure: Error, Equatable {
    case badRequest(String)
    case versionNotSupported
  }

  /// The largest head accepted; a longer one is answered 431.
  static let maximumBytes = 8 * 1024

  /// Parses `head`: the request line and header lines, each ending in CRLF, up to and including the
  /// blank line.
  static func parse(_ head: UnsafeRawBufferPointer) -> Result<HTTPRequestHead, Failure> {
    var lines = LineReader(bytes: head)
    guard let requestLine = lines.next(), !requestLine.isEmpty else {
      return .failure(.badRequest("empty request line"))
    }
    let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
    guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
      return .failure(.badRequest("the request line is not METHOD TARGET VERSION"))
    }
    guard parts[0].allSatisfy(isTokenByte) else { return .failure(.badRequest("the method is not a token")) }
    let target = parts[1]
    guard target.first == UInt8(ascii: "/"), target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
      return .failure(.badRequest("the target is not an absolute path"))
    }
    let version = parts[2]
    guard version.count == 8, version.starts(with: Array("HTTP/".utf8)) else {
      return .failure(.badRequest("the version is not HTTP/x.y"))
    }
    let major = version[version.startIndex + 5]
    let minor = version[version.startIndex + 7]
    guard version[version.startIndex + 6] == UInt8(ascii: "."), isDigit(major), isDigit(minor) else {
      return .failure(.badRequest("the version is not HTTP/x.y"))
    }
    guard major == UInt8(ascii: "1"), minor <= UInt8(ascii: "1") else {
      return .failure(.versionNotSupported)
    }
    let minorVersion = Int(minor - UInt8(ascii: "0"))

    let targetText = String(decoding: target, as: UTF8.self)
    let questionMark = targetText.firstIndex(of: "?")
    var request = HTTPRequestHead(
      method: String(decoding: parts[0], as: UTF8.self),
      path: questionMark.map { String(targetText[..<$0]) } ?? targetText,
      query: questionMark.map { String(targetText[targetText.index(after: $0)...]) } ?? "",
      minorVersion: minorVersion, keepAlive: minorVersion == 1, contentLength: nil, hasTransferEncoding: false
    )

    while let line = lines.next(), !line.isEmpty {
      guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
        return .failure(.badRequest("a header line has no name"))
      }
      let name = line[..<colon]
      guard name.allSatisfy(isTokenByte) else { return .failure(.badRequest("a header name is not a token")) }
      let value = trimmed(line[(colon + 1)...])
      if equalsIgnoringCase(name, "content-length") {
        guard !value.isEmpty, value.count <= 12, value.allSatisfy(isDigit),
          let length = Int(String(decoding: value, as: UTF8.self))
        else { return .failure(.badRequest("Content-Length is not a number")) }
        if let earlier = request.contentLength, earlier != length {
          return .failure(.badRequest("two different Content-Length headers"))
        }
        request.contentLength = length
      } else if equalsIgnoringCase(name, "transfer-encoding") {
        request.hasTransferEncoding = true
      } else if equalsIgnoringCase(name, "connection") {
        for option in value.split(separator: UInt8(ascii: ",")) {
          let token = trimmed(option)
          if equalsIgnoringCase(token, "close") { request.keepAlive = false }
          if equalsIgnoringCase(token, "keep-alive") && minorVersion == 0 { request.keepAlive = true }
        }
      }
    }
    return .success(request)
  }
}

/// Splits bytes at CRLF (a bare LF also ends a line, as RFC 9112 allows a server to accept).
struct LineReader {
  let bytes: UnsafeRawBufferPointer
  var position = 0

  mutating func next() -> ArraySlice<UInt8>? {
    guard position < bytes.count else { return nil }
    var end = position
    while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
    var lineEnd = end
    if lineEnd > position && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
    let line = ArraySlice(bytes[position..<lineEnd])
    position = end + 1
    return line
  }
}

/// The index just past the blank line that ends a head in `bytes`, searching from `start` (a caller
/// that searched before resumes a few bytes before where it stopped). Accepts CRLF CRLF, and bare LFs.
func headEnd(in bytes: UnsafeRawBufferPointer, scanFrom start: Int) -> Int? {
  let newline = UInt8(ascii: "\n")
  var index = max(start, 1)
  while index < bytes.count {
    if bytes[index] == newline {
      if bytes[index - 1] == newline { return index + 1 }
      if index >= 2, bytes[index - 1] == UInt8(ascii: "\r"), bytes[index - 2] == newline { return index + 1 }
    }
    index += 1
  }
  return nil
}

private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

/// RFC 9110 token characters.
private func isTokenByte(_ byte: UInt8) -> Bool {
  switch byte {
  case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
    UInt8(ascii: "0")...UInt8(ascii: "9"):
    return true
  default:
    return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
  }
}

private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
  var slice = bytes
  while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
  while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
  return slice
}

private func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
  guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
  var index = 0
  for byte in bytes {
    let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    if lower != lowercase.utf8Start[index] { return false }
    index += 1
  }
  return true
}
