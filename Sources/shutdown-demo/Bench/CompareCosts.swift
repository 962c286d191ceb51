import Patterns

/// `compare --with-costs`: what each pattern's "stop" costs, measured in this process in real time.
/// The same fan-out for every pattern: 10,000 tasks parked on the pattern's wait, one stop, until
/// the last has woken. Bytes are what the heap grew by while the tasks were parked, per task: the
/// handle, the waiter and the task itself.
enum CompareCosts {
  static let tasks = 10_000

  static func measure() -> [ComparisonTable.Cost] {
    let workloads: [(String, String, @Sendable () async -> Sample)] = [
      ("broadcast", "send(.shutdown); each in receive()", broadcast),
      ("watch", "one update; each in changed()", watch),
      ("token", "root.cancel(); each in cancelled()", token),
      ("joinset", "abortAll(), then joinNext() until nil", joinSet),
      ("mpsc", "every sender dropped; each in receive()", mpsc),
    ]
    return workloads.map { pattern, workload, body in
      _ = BenchExecutor.oneThread.run(body)  // warm-up: first-touch page faults are not the pattern's cost
      let sample = BenchExecutor.oneThread.run(body)
      return ComparisonTable.Cost(
        pattern: pattern, workload: workload, waitingTasks: tasks,
        nanosecondsPerNotifiedTask: sample.nanosecondsPerOperation,
        bytesPerWaitingTask: sample.extra.first?.1 ?? 0)
    }
  }

  /// Parks `tasks` tasks in `wait` (each with its own handle from `handle`), then times `stop`
  /// until every task has returned.
  static func fanOut<Handle: Sendable>(
    handle: () -> Handle, wait: @escaping @Sendable (Handle) async -> Void, stop: () -> Void
  ) async -> Sample {
    let before = TokenWorkloads.heapInUse()
    let handles = (0..<tasks).map { _ in handle() }
    let parked = ArrivalCounter()
    return await withTaskGroup(of: Void.self) { group in
      for handle in handles {
        group.addTask {
          parked.increment()
          await wait(handle)
        }
      }
      await parked.waitUntil(tasks)
      let peak = TokenWorkloads.heapInUse() - before
      var sample = await timed(operations: tasks) {
        stop()
        await group.waitForAll()
      }
      sample.extra = [("bytes per waiting task", Double(peak) / Double(tasks))]
      return sample
    }
  }

  @Sendable static func broadcast() async -> Sample {
    let (sender, _) = Broadcast<Int>.channel(capacity: 4)
    return await fanOut(handle: { sender.subscribe() }, wait: { _ = try? await $0.receive() }) {
      _ = try? sender.send(0)
    }
  }

  @Sendable static func watch() async -> Sample {
    let (sender, _) = Watch<Bool>.channel(false)
    return await fanOut(handle: { sender.subscribe() }, wait: { try? await $0.changed() }) {
      _ = try? sender.send(true)
    }
  }

  @Sendable static func token() async -> Sample {
    let root = CancellationToken()
    return await fanOut(handle: { root.childToken() }, wait: { await $0.cancelled() }) { root.cancel() }
  }

  /// The mpsc row's stop: each task waits in `receive()` on a channel of its own; main drops every
  /// sender, and each `receive()` returns nil.
  @Sendable static func mpsc() async -> Sample {
    let senders = Collected<MPSC<Int>.Sender>()
    return await fanOut(
      handle: {
        let (sender, receiver) = MPSC<Int>.channel(capacity: 1)
        senders.append(sender)
        return receiver
      }, wait: { _ = await $0.receive() }
    ) { senders.remove { _ in true } }
  }

  /// Tasks parked on a continuation that only their cancellation resumes: abortAll() is the stop.
  @Sendable static func joinSet() async -> Sample {
    let before = TokenWorkloads.heapInUse()
    let set = JoinSet<Void>()
    let parked = ArrivalCounter()
    for _ in 0..<tasks {
      set.spawn {
        let slot = ContinuationSlot()
        parked.increment()
        await withTaskCancellationHandler {
          await withCheckedContinuation { slot.park($0) }
        } onCancel: {
          slot.resume()
        }
      }
    }
    await parked.waitUntil(tasks)
    let peak = TokenWorkloads.heapInUse() - before
    var sample = await timed(operations: tasks) {
      set.abortAll()
      while await set.joinNext() != nil {}
    }
    sample.extra = [("bytes per waiting task", Double(peak) / Double(tasks))]
    return sample
  }

  static func grouped(_ value: Int) -> String {
    ComparisonRenderer.perTask(Double(value), "").dropLast().description
  }
}
