import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

exit(ShutdownDemo.tool.run(arguments: Array(CommandLine.arguments.dropFirst()), context: .live()))
