import Testing

@testable import shutdown_demo

/// How a bench row is printed: each ratio says what it divides by, and figures measured on the
/// counterpart's side are told apart from ours. Built from fixed figures; nothing here is timed.
@Suite struct BenchReportTests {
  static let result = BenchResult(
    comparison: "W6", executor: .oneThread,
    ours: .init([1200, 1100, 1300]), theirs: .init([1000, 1000, 1000]), ratio: 1.2,
    extra: [("bytes per waiting task", 1693), ("theirs bytes per waiting task", 1562)])

  @Test func theRatioNamesItsCounterpart_inTextAndInJSON() {
    let comparison = JoinSetWorkloads.w6
    let text = BenchReport.text(Self.result, comparison, first: true)
    #expect(text.contains("     vs withTaskGroup: addTask, then next() until nil\n"))
    #expect(text.contains("ratio 1.20× (ours ÷ withTaskGroup)"))
    #expect(text.contains("bytes per waiting task 1693"))
    #expect(text.contains("theirs bytes per waiting task 1562"))
    // The rows keep to the table's width: the figures that do not fit go under the first.
    #expect(text.split(separator: "\n").allSatisfy { $0.count <= BenchReport.width })
    let json = BenchReport.json(Self.result, comparison)
    #expect(json.contains("\"ratio\":1.2,\"versus\":\"withTaskGroup\""))
    #expect(json.contains("\"theirs_bytes_per_waiting_task\":1562"))
  }

  @Test func everyRowWithACounterpart_namesIt() {
    for comparison in BenchCommand.comparisons where comparison.theirs != nil {
      #expect(!comparison.versus.isEmpty && comparison.versus != "none", "\(comparison.id)")
    }
  }

  @Test func quickTitles_sayTheSizesThatRan() {
    #expect(
      BenchReport.scaled("4 producers × 250,000 → 1 consumer, capacity 100", by: 10)
        == "4 producers × 25,000 → 1 consumer, capacity 100")
    #expect(BenchReport.scaled("1,000,000 Ints", by: 10) == "100,000 Ints")
    #expect(BenchReport.scaled("1,000,000 Ints", by: 1) == "1,000,000 Ints")
  }

  @Test func aRow_saysWhetherItMetItsTarget() {
    var comparison = JoinSetWorkloads.w6
    comparison.meets = Target.ratioAtMost(1.2)
    var result = Self.result
    result.ratio = 1.1
    #expect(BenchReport.text(result, comparison, first: false).hasSuffix("target met\n"))
    result.ratio = 1.3
    #expect(BenchReport.text(result, comparison, first: false).hasSuffix("target missed\n"))
    // A target "on one thread" judges only that row: 1,200 ns misses 80 ns there, and says nothing of
    // the default executor's row.
    #expect(Target.atMost(80, oneThreadOnly: true)(result) == false)
    result.executor = .defaultExecutor
    #expect(Target.atMost(80, oneThreadOnly: true)(result) == nil)
    #expect(Target.atMost(2_000)(result) == true)
  }
}
