import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Output into a closed pipe must end the run quietly: see `writeAll`.
signal(SIGPIPE, SIG_IGN)
exit(ShutdownDemo.tool.run(arguments: Array(CommandLine.arguments.dropFirst()), context: .live()))
