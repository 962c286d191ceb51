/// A line diff in unified style (`-` recorded/expected, `+` actual, hunk headers carrying line numbers), so
/// a failing snapshot or docs test reads like `git diff`.
enum LineDiff {
  /// One line of an edit script.
  enum Edit: Equatable {
    case same(String)
    case removed(String)
    case added(String)
  }

  /// Above this many cells the quadratic LCS table is skipped and the changed middle is shown whole.
  static let maximumTableSize = 4_000_000

  /// A unified diff of `old` against `new` with `context` lines around each change; empty when equal.
  static func unified(
    old: String,
    new: String,
    oldName: String = "recorded",
    newName: String = "actual",
    context: Int = 3
  ) -> String {
    if old == new { return "" }
    let edits = edits(old: linesMarkingMissingNewline(old), new: linesMarkingMissingNewline(new))
    var output = "--- \(oldName)\n+++ \(newName)\n"
    // Line numbers (1-based) before each edit, so hunk headers can be computed from any slice.
    var oldNumbers: [Int] = []
    var newNumbers: [Int] = []
    var oldLine = 1
    var newLine = 1
    for edit in edits {
      oldNumbers.append(oldLine)
      newNumbers.append(newLine)
      switch edit {
      case .same:
        oldLine += 1
        newLine += 1
      case .removed: oldLine += 1
      case .added: newLine += 1
      }
    }
    let changed = edits.indices.filter { edits[$0] != .same(edits[$0].text) }
    if changed.isEmpty {
      // Only possible when the texts differ in ways lines cannot show (e.g. Unicode normalisation).
      return output + "(no line differs; the texts differ in their bytes)\n"
    }
    var hunkStart = 0
    while hunkStart < changed.count {
      var hunkEnd = hunkStart
      while hunkEnd + 1 < changed.count && changed[hunkEnd + 1] - changed[hunkEnd] <= 2 * context {
        hunkEnd += 1
      }
      let lower = max(0, changed[hunkStart] - context)
      let upper = min(edits.count, changed[hunkEnd] + context + 1)
      let slice = edits[lower..<upper]
      let oldCount = slice.filter { if case .added = $0 { false } else { true } }.count
      let newCount = slice.filter { if case .removed = $0 { false } else { true } }.count
      output += "@@ -\(oldNumbers[lower]),\(oldCount) +\(newNumbers[lower]),\(newCount) @@\n"
      for edit in slice {
        switch edit {
        case .same(let line): output += " \(line)\n"
        case .removed(let line): output += "-\(line)\n"
        case .added(let line): output += "+\(line)\n"
        }
      }
      hunkStart = hunkEnd + 1
    }
    return output
  }

  /// Lines of `text`, plus diff's marker line when the text does not end in a newline (so a lost final
  /// newline shows up in the diff instead of producing an empty one).
  static func linesMarkingMissingNewline(_ text: String) -> [String] {
    var lines = splitLines(text)
    if !text.isEmpty && text.utf8.last != UInt8(ascii: "\n") {
      lines.append("\\ No newline at end of file")
    }
    return lines
  }

  /// A shortest edit script turning `old` into `new`, from a longest common subsequence.
  static func edits(old: [String], new: [String]) -> [Edit] {
    var prefix = 0
    while prefix < old.count && prefix < new.count && old[prefix] == new[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < old.count - prefix && suffix < new.count - prefix
      && old[old.count - 1 - suffix] == new[new.count - 1 - suffix]
    {
      suffix += 1
    }
    let oldMiddle = Array(old[prefix..<(old.count - suffix)])
    let newMiddle = Array(new[prefix..<(new.count - suffix)])
    var result = old[..<prefix].map(Edit.same)
    if (oldMiddle.count + 1) * (newMiddle.count + 1) > maximumTableSize {
      result += oldMiddle.map(Edit.removed) + newMiddle.map(Edit.added)
    } else {
      result += lcsEdits(old: oldMiddle, new: newMiddle)
    }
    result += old[(old.count - suffix)...].map(Edit.same)
    return result
  }

  private static func lcsEdits(old: [String], new: [String]) -> [Edit] {
    let width = new.count + 1
    // table[i * width + j]: length of the LCS of old[i...] and new[j...].
    var table = [Int](repeating: 0, count: (old.count + 1) * width)
    for i in stride(from: old.count - 1, through: 0, by: -1) {
      for j in stride(from: new.count - 1, through: 0, by: -1) {
        table[i * width + j] =
          old[i] == new[j]
          ? table[(i + 1) * width + j + 1] + 1
          : max(table[(i + 1) * width + j], table[i * width + j + 1])
      }
    }
    var edits: [Edit] = []
    var i = 0
    var j = 0
    while i < old.count || j < new.count {
      if i < old.count && j < new.count && old[i] == new[j] {
        edits.append(.same(old[i]))
        i += 1
        j += 1
      } else if j < new.count && (i == old.count || table[i * width + j + 1] >= table[(i + 1) * width + j]) {
        edits.append(.added(new[j]))
        j += 1
      } else {
        edits.append(.removed(old[i]))
        i += 1
      }
    }
    // Show removals before additions within a change, as diff tools do.
    return reorderChanges(edits)
  }

  private static func reorderChanges(_ edits: [Edit]) -> [Edit] {
    var result: [Edit] = []
    var removed: [Edit] = []
    var added: [Edit] = []
    for edit in edits {
      switch edit {
      case .same:
        result += removed + added
        removed = []
        added = []
        result.append(edit)
      case .removed: removed.append(edit)
      case .added: added.append(edit)
      }
    }
    return result + removed + added
  }
}

extension LineDiff.Edit {
  fileprivate var text: String {
    switch self {
    case .same(let line), .removed(let line), .added(let line): line
    }
  }
}
