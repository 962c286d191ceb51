import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Output into a closed pipe must end the run quietly, and any other write error must be reported:
// see `OutputFailures`.
signal(SIGPIPE, SIG_IGN)
let outputFailures = OutputFailures()
let code = ShutdownDemo.tool.run(
  arguments: Array(CommandLine.arguments.dropFirst()), context: .live(failures: outputFailures))
exit(outputFailures.finalStatus(after: code))
