import Patterns

print("shutdown-demo \(PatternsLibrary.version)")
