import Patterns

/// S: the wall time of every scripted scenario, run in this process, and how much faster than real
/// time the virtual clock makes it.
enum ScenarioBench {
  struct Row: Sendable {
    var name: String
    var medianWall: Duration
    var virtual: Duration

    var speedUp: Double { seconds(virtual) / max(seconds(medianWall), 1e-9) }
  }

  static func run(repetitions: Int) -> [Row] {
    let clock = ContinuousClock()
    var rows: [Row] = []
    for catalog in ShutdownDemo.catalogs {
      for scenario in catalog.scenarios {
        var walls: [Duration] = []
        var virtual = Duration.zero
        for _ in 0..<repetitions {
          let start = clock.now
          let report = ScenarioRunner.runScripted(scenario, command: catalog.command, knobs: catalog.defaults)
          walls.append(start.duration(to: clock.now))
          virtual = report.events.last?.time ?? .zero
        }
        walls.sort()
        rows.append(
          Row(
            name: "\(catalog.command) \(scenario.name)", medianWall: walls[walls.count / 2], virtual: virtual)
        )
      }
    }
    return rows
  }
}

func seconds(_ duration: Duration) -> Double {
  let (whole, attoseconds) = duration.components
  return Double(whole) + Double(attoseconds) / 1e18
}
