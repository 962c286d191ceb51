/// Every pitfall, in the order the list shows them and `pitfalls all` runs them: from the first
/// moments of a shutdown (noticing the signal) to the last (the exit status).
enum PitfallCatalog {
  static let all: [Pitfall] = [
    BlockingPitfalls.blockingWait,
    BlockingPitfalls.slowSignalHandler,
    LifetimePitfalls.tokenNotPassed,
    LifetimePitfalls.taskNotInherited,
    BlockingPitfalls.swallowedCancellation,
    DeadlinePitfalls.sleepOutGrace,
    DeadlinePitfalls.graceShorterThanSlowest,
    DrainPitfalls.racyDrain,
    DrainPitfalls.readinessAfterClose,
    DrainPitfalls.poolClosedFirst,
    ChannelPitfalls.streamNeverFinished,
    ChannelPitfalls.lastSenderKept,
    ChannelPitfalls.broadcastTooSmall,
    LifetimePitfalls.unawaitedTask,
    ExitPitfalls.tornStateWrite,
    ExitPitfalls.nonzeroExit,
  ]

  static func pitfall(named name: String) -> Pitfall? { all.first { $0.name == name } }
}
