import Testing
@testable import shutdown_demo
@Test func placeholder() { #expect(Bool(true)) }
