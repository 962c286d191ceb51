import Patterns
import Synchronization

/// W6: the join set against a task group.
enum JoinSetWorkloads {
  // MARK: W6: join set

  static let tasks = 100_000

  static let w6 = Comparison(
    id: "W6", title: "join set: spawn 100,000 trivial tasks and join them all",
    counterpart: "withTaskGroup: addTask, then next() until nil",
    versus: "withTaskGroup",
    target: "≤ 1.2× the counterpart",
    meets: Target.ratioAtMost(1.2),
    ours: { scale in
      let count = tasks / scale
      return await timed(operations: count) {
        let set = JoinSet<Int>()
        for index in 0..<count { set.spawn { index } }
        while await set.joinNext() != nil {}
      }
    },
    theirs: { scale in
      let count = tasks / scale
      return await timed(operations: count) {
        await withTaskGroup(of: Int.self) { group in
          for index in 0..<count { group.addTask { index } }
          while await group.next() != nil {}
        }
      }
    })
}
