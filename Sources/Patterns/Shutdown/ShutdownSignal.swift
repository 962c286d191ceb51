#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A Unix signal that asks a service to stop (or, for ``hangup``, to reload).
///
/// An extensible-enum struct, as swift-service-lifecycle's `UnixSignal`: the common signals are
/// static members, and any other number can be named with ``init(number:)`` (a public `enum` could
/// not grow a case without breaking every `switch` written against it).
///
/// ```swift
/// let signal = ShutdownSignal.terminate
/// print(signal)            // SIGTERM
/// print(128 + signal.number) // 143: the exit code of a process killed by it
/// ```
///
/// The numbers are the POSIX ones every Unix shares for these three (1, 2, 15); ``init(number:)``
/// takes the platform's number for anything else (`SIGUSR1` is 10 on Linux, 30 on macOS).
public struct ShutdownSignal: Sendable, Hashable, CustomStringConvertible {
  /// The signal's number, as `kill(2)` takes it.
  public let number: Int32

  /// The signal with this number. Names are known for the signals this library uses; others are
  /// shown as `SIG<number>`.
  public init(number: Int32) { self.number = number }

  /// `SIGINT` (2): Ctrl-C in a terminal.
  public static let interrupt = ShutdownSignal(number: 2)
  /// `SIGTERM` (15): what `kill`, systemd, Docker and the Kubernetes kubelet send to ask for a stop.
  public static let terminate = ShutdownSignal(number: 15)
  /// `SIGHUP` (1): by convention, "reload your configuration"; not a shutdown.
  public static let hangup = ShutdownSignal(number: 1)
  /// `SIGUSR1`: free for an application's own use; tests send it to themselves safely.
  public static let user1 = ShutdownSignal(number: SIGUSR1)
  /// `SIGUSR2`: free for an application's own use.
  public static let user2 = ShutdownSignal(number: SIGUSR2)

  /// The conventional name: `SIGTERM`, `SIGINT`, …
  public var name: String {
    switch number {
    case 1: "SIGHUP"
    case 2: "SIGINT"
    case 3: "SIGQUIT"
    case 9: "SIGKILL"
    case 13: "SIGPIPE"
    case 15: "SIGTERM"
    case SIGUSR1: "SIGUSR1"
    case SIGUSR2: "SIGUSR2"
    default: "SIG\(number)"
    }
  }

  /// The exit code a process reports when this signal ends it: 128 + the number (130 for SIGINT,
  /// 143 for SIGTERM), the shell's convention.
  public var exitCode: Int32 { 128 + number }

  /// The name, as ``name``.
  public var description: String { name }
}
