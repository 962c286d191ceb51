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
    // How the primitives stay fast in the modules that use them: `@inlinable` on their hot paths (the
    // sends, receives and waits, and the state transitions those call), not `-cross-module-optimization`.
    // They are generic (`MPSC<Element>`, `Broadcast<Element>`…); a caller in another module runs a
    // non-inlinable generic function unspecialized, through value witnesses (W3 once measured 432 ns
    // per delivery that way, 37 ns specialized). The flag would specialize them too, but it is an
    // unsafe flag, and SwiftPM refuses a package with unsafe flags as a versioned dependency; measured
    // with `scripts/instructions-per-op`, the annotations cost at most 0.7% (W7a: 8,992 against 8,927 instructions per round trip). CONTRIBUTING.md says
    // which code gets them.
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
