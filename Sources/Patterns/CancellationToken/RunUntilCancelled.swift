extension CancellationToken {
  /// Runs `operation` until it finishes or this token is cancelled, whichever comes first.
  ///
  /// - Returns: the operation's value, or `nil` when the token was cancelled first. When the token is
  ///   already cancelled, returns `nil` without starting the operation.
  /// - Throws: what the operation throws, if it finishes (by throwing) before the token fires.
  ///
  /// The operation runs in a child task. When the token fires first, that task is cancelled and this
  /// call returns `nil` *once the operation has returned*: structured concurrency cannot drop a running
  /// child the way Tokio drops a future, so an operation that ignores Swift task cancellation holds this
  /// call until it ends. The calling task's own cancellation reaches the operation too (it is a child),
  /// and then whatever the operation returns or throws is passed on.
  ///
  /// Tokio's `run_until_cancelled`. Ours takes a `sending` closure (it runs in another task) and uses
  /// typed throws where the Rust version returns the future's output.
  public func runUntilCancelled<T: Sendable, Failure: Error>(
    _ operation: sending @escaping () async throws(Failure) -> T
  ) async throws(Failure) -> T? {
    if isCancelled { return nil }
    let name = Task.name
    // `operation` was handed over (`sending`) and only the child below touches it; the task group's
    // body closure hides that from region checking, so say it here.
    nonisolated(unsafe) let operation = operation
    let outcome = await withTaskGroup(of: RunOutcome<T, Failure>.self) { group in
      group.addTask(name: name) {
        do throws(Failure) {
          return .finished(.success(try await operation()))
        } catch {
          return .finished(.failure(error))
        }
      }
      group.addTask(name: name) { [self] in
        await cancelled()
        // `cancelled()` also returns when the task is cancelled: say which it was.
        return isCancelled ? .tokenFired : .waiterCancelled
      }
      while let next = await group.next() {
        switch next {
        case .finished, .tokenFired:
          group.cancelAll()  // stop the other child; the group's end waits for it
          return next
        case .waiterCancelled:
          continue  // the caller was cancelled: the operation saw it too; wait for its answer
        }
      }
      return .tokenFired  // unreachable: the operation's child always reports
    }
    switch outcome {
    case .finished(.success(let value)): return value
    case .finished(.failure(let error)): throw error
    case .tokenFired, .waiterCancelled: return nil
    }
  }
}

/// What the first child of `runUntilCancelled` to finish had to say.
private enum RunOutcome<T: Sendable, Failure: Error>: Sendable {
  case finished(Result<T, Failure>)
  case tokenFired
  case waiterCancelled
}
