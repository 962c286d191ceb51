import Testing
@testable import Patterns
@Test func libraryHasAVersion() { #expect(!PatternsLibrary.version.isEmpty) }
