// swift-tools-version:6.2
import PackageDescription

// No package dependencies, by design: the library and the tool use the toolchain alone
// (standard library, Synchronization, Foundation, Dispatch, Swift Testing).
let package = Package(
  name: "shutdown-demo",
  products: [
    .library(name: "Patterns", targets: ["Patterns"]),
    .executable(name: "shutdown-demo", targets: ["shutdown-demo"]),
  ],
  targets: [
    .target(name: "Patterns"),
    .executableTarget(name: "shutdown-demo", dependencies: ["Patterns"]),
    .testTarget(name: "PatternsTests", dependencies: ["Patterns"]),
    .testTarget(
      name: "ShutdownDemoTests",
      dependencies: ["shutdown-demo", "Patterns"],
      exclude: ["__Snapshots__"]
    ),
  ],
  swiftLanguageModes: [.v6]
)
