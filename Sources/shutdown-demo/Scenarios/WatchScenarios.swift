import Patterns

enum WatchScenarios {
  static let catalog = PatternCatalog(pattern: "watch", scenarios: [BroadcastScenarios.basic])
}
