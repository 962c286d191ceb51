import Foundation
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Makes the child start with descriptors 0, 1 and 2 only. Without this it inherits every
/// descriptor of ours not marked close-on-exec, including ones another thread has just opened for a
/// child of its own: Foundation's `Process` learns that its child exited when a socket it gave that
/// child reaches end-of-file, which never happens while one of our children holds a copy.
/// glibc 2.34 and later have `posix_spawn_file_actions_addclosefrom_np`, which the Glibc module
/// does not import: it is looked up at run time, and without it nothing changes.
private func closeEveryOtherDescriptor(_ actions: inout posix_spawn_file_actions_t) {
  #if os(Linux)
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    guard
      let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
    else { return }
    _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
  #endif
}

/// How a child process ended.
struct ChildExit: Sendable, Equatable {
  /// The exit status, or 128 + the signal that killed it (as a shell reports it).
  var code: Int32
  /// The signal that killed it, if one did.
  var signal: Int32?
  /// When `waitpid` returned (monotonic nanoseconds).
  var at: UInt64
}

/// A child process started with `posix_spawn`, in a process group of its own, with default signal
/// dispositions and an empty signal mask (a parent that ignores SIGTERM must not pass that on: an
/// ignored signal stays ignored across exec). Its stdout and stderr are read line by line on a
/// thread of their own; `waitpid` runs on another. Nothing here blocks a cooperative thread.
///
/// Kill it (`killGroup()`) on every way out: the drill does so in a `defer` and on Ctrl-C.
final class ChildProcess: @unchecked Sendable {
  let pid: pid_t
  private let state = Lock(State())

  private struct State {
    var lines: [String] = []
    var lineWaiters:
      [(id: Int, matches: @Sendable (String) -> Bool, continuation: CheckedContinuation<String?, Never>)] =
        []
    var outputEnded = false
    var exit: ChildExit?
    var exitWaiters: [(id: Int, continuation: CheckedContinuation<ChildExit?, Never>)] = []
    /// What to do, once each, when a matching line arrives: run on the reading thread.
    var reactions: [(matches: @Sendable (String) -> Bool, action: @Sendable () -> Void)] = []
    var nextID = 0
    /// Waits whose timer fired before they were registered.
    var expired: Set<Int> = []
  }

  /// Starts `arguments[0]` (a path) with `arguments`.
  init(arguments: [String]) throws(SocketError) {
    var ends: [Int32] = [0, 0]
    guard pipe(&ends) == 0 else { throw SocketError("pipe", errno) }
    setCloseOnExec(ends[0])
    setCloseOnExec(ends[1])
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_adddup2(&actions, ends[1], 1)
    posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
    closeEveryOtherDescriptor(&actions)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    posix_spawnattr_setpgroup(&attributes, 0)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for number in [SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT] { sigaddset(&defaults, number) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    var mask = sigset_t()
    sigemptyset(&mask)
    posix_spawnattr_setsigmask(&attributes, &mask)

    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] =
      ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for pointer in argv { free(pointer) }
      for pointer in envp { free(pointer) }
    }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
    close(ends[1])
    guard result == 0 else {
      close(ends[0])
      throw SocketError("posix_spawn \(arguments[0])", result)
    }
    self.pid = pid
    let reader = ends[0]
    Thread.detachNewThread { [self] in readLines(from: reader) }
    Thread.detachNewThread { [self] in reap() }
  }

  /// Every line the child has written so far.
  var lines: [String] { state.withLock { $0.lines } }

  /// How it ended, if it has.
  var exitStatus: ChildExit? { state.withLock { $0.exit } }

  /// Sends `signal` to the child itself.
  func send(_ signal: Int32) {
    guard exitStatus == nil else { return }
    kill(pid, signal)
  }

  /// SIGKILLs the child's whole process group (what it started too), if still there.
  func killGroup() {
    kill(-pid, SIGKILL)
  }

  /// Waits until a line matching `matches` has been written (earlier lines count), the output ends,
  /// or `timeout` passes. Returns the line, or `nil`.
  func waitForLine(timeout: Duration, matching matches: @escaping @Sendable (String) -> Bool) async -> String?
  {
    let id = state.withLock { state in
      state.nextID += 1
      return state.nextID
    }
    let timer = Task {
      try? await Task.sleep(for: timeout)
      // Timed out (or cancelled): take the waiter out, if it is still there, and resume it.
      let waiter: CheckedContinuation<String?, Never>? = state.withLock { state in
        guard let index = state.lineWaiters.firstIndex(where: { $0.id == id }) else {
          state.expired.insert(id)
          return nil
        }
        return state.lineWaiters.remove(at: index).continuation
      }
      waiter?.resume(returning: nil)
    }
    defer { timer.cancel() }
    return await withCheckedContinuation { continuation in
      // Decide under the lock; resume outside it.
      let immediate: String?? = state.withLock { state in
        if let line = state.lines.first(where: matches) { return .some(line) }
        if state.outputEnded || state.expired.remove(id) != nil { return .some(nil) }
        state.lineWaiters.append((id, matches, continuation))
        return nil
      }
      if let immediate { continuation.resume(returning: immediate) }
    }
  }

  /// Runs `action` once, on the thread that reads the output, as soon as a line matching `matches`
  /// has been written (at once if one already has). No task has to be scheduled for it, so the
  /// reaction comes within microseconds of the line however busy the caller's threads are.
  func whenLine(
    matching matches: @escaping @Sendable (String) -> Bool, _ action: @escaping @Sendable () -> Void
  ) {
    let now = state.withLock { state in
      if state.lines.contains(where: matches) { return true }
      state.reactions.append((matches, action))
      return false
    }
    if now { action() }
  }

  /// Waits until the child exits or `timeout` passes.
  func waitForExit(timeout: Duration) async -> ChildExit? {
    let id = state.withLock { state in
      state.nextID += 1
      return state.nextID
    }
    let timer = Task {
      try? await Task.sleep(for: timeout)
      let waiter: CheckedContinuation<ChildExit?, Never>? = state.withLock { state in
        guard let index = state.exitWaiters.firstIndex(where: { $0.id == id }) else {
          state.expired.insert(id)
          return nil
        }
        return state.exitWaiters.remove(at: index).continuation
      }
      waiter?.resume(returning: nil)
    }
    defer { timer.cancel() }
    return await withCheckedContinuation { continuation in
      let immediate: ChildExit?? = state.withLock { state in
        if let exit = state.exit { return .some(exit) }
        if state.expired.remove(id) != nil { return .some(nil) }
        state.exitWaiters.append((id, continuation))
        return nil
      }
      if let immediate { continuation.resume(returning: immediate) }
    }
  }

  private func readLines(from descriptor: Int32) {
    var pending: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = read(descriptor, &buffer, buffer.count)
      if count < 0 && errno == EINTR { continue }
      guard count > 0 else { break }
      pending.append(contentsOf: buffer[0..<count])
      while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
        deliver(String(decoding: pending[..<newline], as: UTF8.self))
        pending.removeSubrange(...newline)
      }
    }
    if !pending.isEmpty { deliver(String(decoding: pending, as: UTF8.self)) }
    close(descriptor)
    let waiters = state.withLock { state in
      state.outputEnded = true
      defer { state.lineWaiters.removeAll() }
      return state.lineWaiters
    }
    for waiter in waiters { waiter.continuation.resume(returning: nil) }
  }

  private func deliver(_ line: String) {
    let (matched, reactions) = state.withLock { state in
      state.lines.append(line)
      let matching = state.lineWaiters.filter { $0.matches(line) }
      state.lineWaiters.removeAll { $0.matches(line) }
      let reactions = state.reactions.filter { $0.matches(line) }
      state.reactions.removeAll { $0.matches(line) }
      return (matching, reactions)
    }
    for reaction in reactions { reaction.action() }
    for waiter in matched { waiter.continuation.resume(returning: line) }
  }

  private func reap() {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let now = monotonicNanoseconds()
    // WIFEXITED / WTERMSIG by hand: the C macros are not imported.
    let signal = status & 0x7F
    let exit =
      signal == 0
      ? ChildExit(code: (status >> 8) & 0xFF, signal: nil, at: now)
      : ChildExit(code: 128 + signal, signal: signal, at: now)
    let waiters = state.withLock { state in
      state.exit = exit
      defer { state.exitWaiters.removeAll() }
      return state.exitWaiters
    }
    for waiter in waiters { waiter.continuation.resume(returning: exit) }
  }
}
