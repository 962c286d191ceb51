import Patterns

// Temporary driver until the CLI engine lands.
let report = ScenarioRunner.runScripted(TokenScenarios.basic, pattern: "token", knobs: Knobs())
print(TextRenderer.render(report, width: 80, color: false), terminator: "")
