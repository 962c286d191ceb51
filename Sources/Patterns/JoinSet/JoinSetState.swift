import Synchronization

/// Every state and transition of one ``JoinSet``, guarded by its storage's mutex.
///
/// Each spawned task owns a *slot* (a reusable index with a generation, so a stale handle can tell
/// its slot was reused). A slot is `vacant`, `starting` (taken, the task being created outside the
/// lock), `running` (holding the task, so it can be aborted), or `detached` (still running, no longer
/// in the set; its task kept, so that its ``AbortHandle`` can still abort it). Results wait in
/// `ready` in completion order.
/// `joinNext` callers wait in `waiters`, first come first served, never more of them than tasks
/// running: so every waiter is owed a result, or `nil` once the set empties.
///
/// A finished task's result travels with the task's handle until it is joined (as Tokio's `JoinSet`
/// holds each `JoinHandle` until it is joined): the joiner drops the last reference, so the task is
/// freed on the joiner's thread. Dropped on the thread where the task finished, the memory would go back
/// to the allocator arena of the spawning thread from another thread, and under load the two threads
/// queued on that arena's lock (perf showed it as futex waits in W6).
///
/// Transitions (each returns what to do once the lock is released):
/// - spawn: take a slot → starting; `running += 1`; create the task outside the lock; then store it:
///   starting → running (or detached), unless the task already ended (the generation moved on). An
///   abort or detach that came in between is remembered in `starting` and honoured when storing.
/// - a task ends: its slot → vacant (generation + 1). If it was in the set: hand the result to the
///   oldest waiter (resume it), else queue it in `ready`. A detached task's result is dropped.
/// - joinNext: take the oldest ready result; or `nil` when nothing is running; or wait.
/// - detachAll / the set's deinit: running slots → detached; `ready` emptied; every waiter gets `nil`.
/// - abortAll: no state changes; the running tasks are returned to be cancelled outside the lock.
/// - abort (one handle): its task, running or detached, is returned to be cancelled outside the lock;
///   nothing if its slot has moved on (the task ended).
@usableFromInline
struct JoinSetState<Success: Sendable> {
  @usableFromInline typealias Outcome = Result<Success, JoinError>
  @usableFromInline typealias Waiter = UnsafeContinuation<Finished?, Never>

  /// A task's result, and its handle, kept until a joiner takes the result.
  @usableFromInline
  struct Finished {
    @usableFromInline var outcome: Outcome
    @usableFromInline var task: Task<Void, Never>?  // nil when the task ended before its handle was stored

    @inlinable
    init(outcome: Outcome, task: Task<Void, Never>?) {
      self.outcome = outcome
      self.task = task
    }
  }

  @usableFromInline
  enum SlotState {
    case vacant(nextFree: Int)
    case starting(abortRequested: Bool, detached: Bool)
    case running(Task<Void, Never>)
    case detached(Task<Void, Never>)
  }

  @usableFromInline
  struct Slot {
    @usableFromInline var generation: UInt32
    @usableFromInline var state: SlotState

    @inlinable
    init(generation: UInt32, state: SlotState) {
      self.generation = generation
      self.state = state
    }
  }

  @usableFromInline var slots: [Slot] = []
  @usableFromInline var firstFree = -1  // head of the free list threaded through vacant slots
  @usableFromInline var running = 0  // tasks in the set that have not finished
  @usableFromInline var ready = JoinSetFIFO<Finished>()
  @usableFromInline var waiters = JoinSetFIFO<Waiter>()

  /// Tasks in the set: running, or finished and not yet joined. Tokio's `len()`.
  @inlinable var count: Int { running + ready.count }

  /// Takes a vacant slot for a new task.
  @inlinable
  mutating func takeSlot() -> (index: Int, generation: UInt32) {
    running += 1
    if firstFree >= 0 {
      let index = firstFree
      guard case .vacant(let next) = slots[index].state else { preconditionFailure("free list corrupt") }
      firstFree = next
      slots[index].state = .starting(abortRequested: false, detached: false)
      return (index, slots[index].generation)
    }
    slots.append(Slot(generation: 0, state: .starting(abortRequested: false, detached: false)))
    return (slots.count - 1, 0)
  }

  /// Stores the task created for a slot, moving it out of `created` (no retain on the common path).
  /// Returns it when it must be cancelled at once (an abort arrived while it was being created).
  @inlinable
  mutating func store(
    _ created: inout Task<Void, Never>?, index: Int, generation: UInt32
  ) -> Task<Void, Never>? {
    guard slots[index].generation == generation,
      case .starting(let abortRequested, let detached) = slots[index].state
    else { return nil }  // it has already finished
    let task = created.take()!
    slots[index].state = detached ? .detached(task) : .running(task)
    return abortRequested ? task : nil
  }

  /// What a finishing task must do outside the lock.
  @usableFromInline
  enum CompletionAction {
    case none
    case resume(Waiter, Finished)
  }

  /// A task ended with `outcome`.
  @inlinable
  mutating func complete(index: Int, generation: UInt32, _ outcome: Outcome) -> CompletionAction {
    precondition(slots[index].generation == generation, "a slot is vacated only by its own task")
    // Vacate the slot by swapping its state out, so the task handle moves into the result unretained.
    var vacated = SlotState.vacant(nextFree: firstFree)
    swap(&vacated, &slots[index].state)
    slots[index].generation &+= 1
    firstFree = index
    let inSet: Bool
    var task: Task<Void, Never>?
    switch consume vacated {
    case .running(let handle):
      inSet = true
      task = handle
    case .starting(_, detached: false): inSet = true
    default: inSet = false
    }
    guard inSet else { return .none }  // detached: nobody will join it
    running -= 1
    let finished = Finished(outcome: outcome, task: task)
    if !waiters.isEmpty, let waiter = waiters.popFirst() { return .resume(waiter, finished) }
    ready.append(finished, expected: running + 1)  // this result and one for each task still running
    return .none
  }

  /// What `joinNext` does, decided under the lock.
  @usableFromInline
  enum JoinAction {
    case result(Finished?)  // return this without waiting (nil: the set is empty)
    case wait
  }

  /// The fast path: a result ready, or an empty set, without suspending.
  @inlinable
  mutating func joinNow() -> JoinAction {
    if let finished = ready.popFirst() { return .result(finished) }
    if running - waiters.count <= 0 { return .result(nil) }  // nothing left for this caller
    return .wait
  }

  /// Registers a waiter, unless something changed since `joinNow` (then: resume at once).
  @inlinable
  mutating func addWaiter(_ waiter: Waiter) -> Finished?? {
    if case .result(let outcome) = joinNow() { return .some(outcome) }
    waiters.append(waiter)
    return .none
  }

  /// Takes every task out of the set without stopping it; returns the waiters to resume with `nil`.
  mutating func detachAll() -> [Waiter] {
    for index in slots.indices {
      switch slots[index].state {
      case .running(let task): slots[index].state = .detached(task)
      case .starting(let abortRequested, _):
        slots[index].state = .starting(abortRequested: abortRequested, detached: true)
      default: break
      }
    }
    running = 0
    ready.removeAll()
    return waiters.removeAll()
  }

  /// The tasks to cancel for `abortAll`; a task still being created is marked to be cancelled when stored.
  mutating func abortAll() -> [Task<Void, Never>] {
    var tasks: [Task<Void, Never>] = []
    tasks.reserveCapacity(running)
    for index in slots.indices {
      switch slots[index].state {
      case .running(let task): tasks.append(task)
      case .starting(_, let detached):
        slots[index].state = .starting(abortRequested: true, detached: detached)
      default: break
      }
    }
    return tasks
  }

  /// The task an ``AbortHandle`` aborts; nil once it has ended (its slot then has moved on).
  mutating func taskToAbort(index: Int, generation: UInt32) -> Task<Void, Never>? {
    guard slots[index].generation == generation else { return nil }
    switch slots[index].state {
    case .running(let task): return task
    case .detached(let task): return task
    case .starting(_, let detached):  // (a handle exists only once stored) abort it when stored
      slots[index].state = .starting(abortRequested: true, detached: detached)
      return nil
    case .vacant: return nil
    }
  }

  func isFinished(index: Int, generation: UInt32) -> Bool {
    guard slots[index].generation == generation else { return true }
    if case .vacant = slots[index].state { return true }
    return false
  }
}

/// A first-in first-out queue in a ring: popping moves the head and nothing else, so draining a long
/// queue (100,000 results joined in a row) neither moves nor destroys the rest, and a queue appended
/// to and popped in turn reuses its slots. When full it grows by appending to its array (which moves
/// nothing while the head is at the start, as it is while a queue fills up), and never shrinks while
/// the set lives.
/// Elements are moved out, not copied, so what they reference is released by whoever pops them, after
/// the lock is released.
@usableFromInline
struct JoinSetFIFO<Element> {
  @usableFromInline var ring: [Element?] = []
  @usableFromInline var head = 0
  @usableFromInline var count = 0

  @inlinable init() {}

  @inlinable var isEmpty: Bool { count == 0 }

  /// Appends `element`. `expected` is how many elements the queue may come to hold (for results:
  /// the tasks still running): when the array must grow anyway, it grows at once to hold them all,
  /// rather than doubling and copying its way there.
  @inlinable
  mutating func append(_ element: Element, expected: Int = 0) {
    if count < ring.count {
      var tail = head + count
      if tail >= ring.count { tail -= ring.count }
      ring[tail] = element
    } else {
      if head != 0 { straighten() }  // full and wrapped: put the oldest first before growing
      if ring.count == ring.capacity {
        ring.reserveCapacity(Swift.max(ring.count * 2, ring.count + expected))
      }
      ring.append(element)
    }
    count += 1
  }

  @inlinable
  mutating func popFirst() -> Element? {
    guard count > 0 else { return nil }
    let element = ring[head].take()
    count -= 1
    head = count == 0 || head + 1 == ring.count ? 0 : head + 1
    return element
  }

  /// Empties the queue, returning what it held in order, and frees the ring.
  @inlinable @discardableResult
  mutating func removeAll() -> [Element] {
    var rest: [Element] = []
    rest.reserveCapacity(count)
    while let element = popFirst() { rest.append(element) }
    ring = []
    return rest
  }

  /// Moves the elements into a new array, oldest first.
  @usableFromInline
  mutating func straighten() {
    var straight: [Element?] = []
    straight.reserveCapacity(ring.count * 2)
    while let element = popFirst() { straight.append(element) }
    count = straight.count
    ring = straight
    head = 0
  }
}

/// The storage a ``JoinSet`` shares with its tasks and abort handles: the lock and the state.
@usableFromInline
final class JoinSetStorage<Success: Sendable>: JoinSetSlots {
  @usableFromInline let state = Lock(JoinSetState<Success>())

  @usableFromInline init() {}

  /// Called by each task as its last step.
  @inlinable
  func complete(index: Int, generation: UInt32, _ outcome: Result<Success, JoinError>) {
    let action = state.withLock { $0.complete(index: index, generation: generation, outcome) }
    if case .resume(let waiter, let outcome) = action { waiter.resume(returning: outcome) }
  }

  /// Cancels every task in the set; the lock is not held while cancellation handlers run.
  @usableFromInline
  func abortAll() {
    for task in state.withLock({ $0.abortAll() }) { task.cancel() }
  }

  @usableFromInline
  func isFinished(index: Int, generation: UInt32) -> Bool {
    state.withLock { $0.isFinished(index: index, generation: generation) }
  }

  /// Cancels one task, found by its handle's slot; the lock is not held while its handlers run.
  @usableFromInline
  func abort(index: Int, generation: UInt32) {
    state.withLock { $0.taskToAbort(index: index, generation: generation) }?.cancel()
  }
}
