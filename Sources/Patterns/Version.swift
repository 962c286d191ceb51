public enum PatternsLibrary { public static let version = "0.1.0" }
