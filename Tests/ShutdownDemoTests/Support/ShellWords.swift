/// Shell-like word splitting and quoting for the simple command lines that docs and snapshot headers use.
enum ShellWords {
  /// Why a command line cannot be split without a real shell.
  struct SplitError: Error, CustomStringConvertible {
    let description: String
  }

  /// Characters that would make a real shell do something other than pass a word through, which the
  /// docs tests refuse instead of silently running a different command than the reader would.
  private static let unsupported: Set<Character> = ["|", "&", ";", "<", ">", "(", ")", "$", "`", "*", "?"]

  /// Splits `line` into words: blanks separate words, '…' quotes literally, "…" quotes with `\` escaping
  /// `"`, `\`, `$` and `` ` ``, and an unquoted `\` escapes the next character.
  static func split(_ line: String) throws -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var iterator = Array(line).makeIterator()
    while let character = iterator.next() {
      switch character {
      case " ", "\t":
        if inWord { words.append(current) }
        current = ""
        inWord = false
      case "'":
        inWord = true
        while true {
          guard let next = iterator.next() else {
            throw SplitError(description: "unterminated ' in: \(line)")
          }
          if next == "'" { break }
          current.append(next)
        }
      case "\"":
        inWord = true
        while true {
          guard let next = iterator.next() else {
            throw SplitError(description: "unterminated \" in: \(line)")
          }
          if next == "\"" { break }
          if next == "$" || next == "`" {
            throw SplitError(description: "unsupported shell syntax `\(next)` in: \(line)")
          }
          if next == "\\" {
            guard let escaped = iterator.next() else {
              throw SplitError(description: "unterminated \" in: \(line)")
            }
            if !"\"\\$`".contains(escaped) { current.append("\\") }
            current.append(escaped)
          } else {
            current.append(next)
          }
        }
      case "\\":
        guard let escaped = iterator.next() else { throw SplitError(description: "trailing \\ in: \(line)") }
        inWord = true
        current.append(escaped)
      case "#" where !inWord:
        throw SplitError(description: "comments are not supported in: \(line)")
      default:
        if unsupported.contains(character) {
          throw SplitError(description: "unsupported shell syntax `\(character)` in: \(line)")
        }
        inWord = true
        current.append(character)
      }
    }
    if inWord { words.append(current) }
    return words
  }

  /// Joins `words` into a line that `split` (and a POSIX shell) turns back into the same words.
  static func quote(_ words: [String]) -> String {
    words.map(quote).joined(separator: " ")
  }

  /// One word, single-quoted only when it needs to be.
  static func quote(_ word: String) -> String {
    let plain = word.unicodeScalars.allSatisfy { scalar in
      scalar.properties.isAlphabetic && scalar.isASCII || ("0"..."9").contains(scalar)
        || "_-./=:,+@%".unicodeScalars.contains(scalar)
    }
    if plain && !word.isEmpty { return word }
    return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
  }
}
