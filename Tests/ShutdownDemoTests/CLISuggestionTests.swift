import Testing

@testable import shutdown_demo

@Test(arguments: [
  ("", "", 0), ("", "abc", 3), ("abc", "", 3), ("token", "token", 0), ("tokn", "token", 1),
  ("tokne", "token", 1), ("kitten", "sitting", 3), ("--wokers", "--workers", 1), ("🚀a", "a", 1),
])
func editDistance_countsInsertionsDeletionsSubstitutionsAndSwaps(lhs: String, rhs: String, expected: Int) {
  #expect(Suggestions.editDistance(lhs, rhs) == expected)
  #expect(Suggestions.editDistance(rhs, lhs) == expected)
}

@Test func closest_nearMiss_suggestsClosest() {
  #expect(Suggestions.closest(to: "tokn", among: ["joinset", "token"]) == "token")
  #expect(Suggestions.closest(to: "--wokers", among: ["--scenario", "--workers"]) == "--workers")
  #expect(Suggestions.closest(to: "jsn", among: ["text", "json"]) == "json")
  #expect(Suggestions.closest(to: "JSON", among: ["text", "json"]) == "json")
}

@Test func closest_farOrTooShort_suggestsNothing() {
  #expect(Suggestions.closest(to: "frobnicate", among: ["token", "joinset"]) == nil)
  #expect(Suggestions.closest(to: "-x", among: ["-h", "--help"]) == nil)
  #expect(Suggestions.closest(to: "W9", among: ["W1", "W2"]) == nil)
  #expect(Suggestions.closest(to: "", among: ["a", "token"]) == nil)
  #expect(Suggestions.closest(to: "token", among: []) == nil)
}

@Test func closest_tie_prefersEarlierCandidate() {
  #expect(Suggestions.closest(to: "abcdez", among: ["abcdex", "abcdey"]) == "abcdex")
}

@Test func quoted_escapesControlCharactersAndShortensLongInput() {
  #expect(quoted("plain") == "'plain'")
  #expect(quoted("a\nb\r\tc\u{0}\u{1B}\u{85}\u{2029}") == "'a\\nb\\r\\tc\\u{0}\\u{1b}\\u{85}\\u{2029}'")
  #expect(quoted("größe 🚀") == "'größe 🚀'")
  #expect(quoted(String(repeating: "a", count: 81)) == "'" + String(repeating: "a", count: 77) + "...'")
  #expect(quoted(String(repeating: "a", count: 80)) == "'" + String(repeating: "a", count: 80) + "'")
}
