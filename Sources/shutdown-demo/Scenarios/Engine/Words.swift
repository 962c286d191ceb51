/// Words that read right for every knob: "1 worker", "2 workers", never "1 workers".

/// "1 worker", "3 workers"; `plural` for nouns that do not just take an s.
func counted(_ count: Int, _ noun: String, plural: String? = nil) -> String {
  "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
}

/// "each of 3 workers", or "the one worker".
func eachOf(workers count: Int) -> String {
  count == 1 ? "the one worker" : "each of \(count) workers"
}

/// "worker-1", "worker-1 and worker-2", "worker-1, worker-2 and worker-3".
func listed(_ names: [String]) -> String {
  guard let last = names.last else { return "nobody" }
  return names.count == 1 ? last : names.dropLast().joined(separator: ", ") + " and " + last
}

/// ", each with" for several, " with" for one: "starts 3 workers, each with a child token".
func eachWith(_ count: Int) -> String { count == 1 ? " with" : ", each with" }
