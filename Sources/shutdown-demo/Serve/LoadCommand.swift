import Foundation
import Patterns

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `shutdown-demo load`: closed-loop clients against a URL, every request's fate counted.
enum LoadCommand {
  static let command = CommandSpec(
    name: "load",
    abstract: "Closed-loop HTTP load; counts every request's fate.",
    discussion: """
      Each of --concurrency clients sends a request, waits for the full response and sends the \
      next (over keep-alive unless --no-keep-alive). Counts ok (2xx), HTTP errors by status, refused \
      (the connection was never accepted), failed after accept (reset or closed before a full \
      response: what users see as 502s) and timed out; prints latency percentiles, requests per \
      second and a row per second, so the moment of a SIGTERM shows. 127.0.0.1 only.
      """,
    options: [
      OptionSpec(
        name: "url", valueName: "url", help: "What to request: http://127.0.0.1:PORT/path.", kind: .text),
      OptionSpec(
        name: "concurrency", valueName: "n", help: "How many clients (and connections) at once.",
        kind: .integer(1...10_000), defaultValue: "64"),
      OptionSpec(
        name: "duration", valueName: "duration", help: "How long to run (unless --requests is given).",
        kind: .duration(Duration.milliseconds(1)...Duration.seconds(3600)), defaultValue: "10s"),
      OptionSpec(
        name: "requests", valueName: "n", help: "Stop after this many requests instead.",
        kind: .integer(1...100_000_000)),
      OptionSpec(name: "no-keep-alive", help: "A new connection for every request.", kind: .flag),
      OptionSpec(
        name: "timeout", valueName: "duration", help: "How long one request may take.",
        kind: .duration(Duration.milliseconds(1)...Duration.seconds(3600)), defaultValue: "10s"),
      OptionSpec(
        name: "format", valueName: "format", help: "How to print the result.",
        kind: .choice(["text", "json"]),
        defaultValue: "text"),
    ]
  ) { parsed, context in
    guard let urlText = parsed.text("url") else { throw UsageError("Missing '--url <url>'") }
    guard let target = LoadTarget(urlText), target.host.hasPrefix("127.") else {
      throw UsageError(
        "The value '\(urlText)' is invalid for '--url <url>': expected http://127.0.0.1:PORT/path")
    }
    if parsed.wasGiven("duration") && parsed.wasGiven("requests") {
      throw UsageError("Give '--duration' or '--requests', not both")
    }
    var configuration = LoadConfiguration(target: target)
    configuration.concurrency = parsed.integer("concurrency")
    configuration.keepAlive = !parsed.flag("no-keep-alive")
    configuration.timeout = parsed.duration("timeout")
    configuration.requestLimit = parsed.wasGiven("requests") ? parsed.integer("requests") : nil
    let duration: Duration? = parsed.wasGiven("requests") ? nil : parsed.duration("duration")
    raiseOpenFilesLimit()
    let generator = try LoadGenerator(configuration)
    let onTerminal = isatty(STDERR_FILENO) == 1
    if onTerminal {
      let lastCount = Shared(0)
      generator.progress = { second, counts in
        let previous = lastCount.update { count in
          defer { count = counts.total }
          return count
        }
        context.writeError(
          "\r\u{1B}[K  \(second)s  \(counts.total - previous) req/s  \(counts.total) requests  "
            + "\(counts.errors) errors")
      }
    }
    let result = blockingRun { await generator.run(duration: duration) }
    if onTerminal { context.writeError("\r\u{1B}[K") }
    let report = LoadReport(result: result, configuration: configuration)
    context.write(parsed.choice("format") == "json" ? report.json() + "\n" : report.text())
    return 0
  }
}

/// Runs async work from a synchronous command and waits for it. Call only from the main thread (or
/// another thread that is not one of Swift's cooperative threads).
func blockingRun<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
  let result = Shared<T?>(nil)
  // Deliberate: the waiting thread is the main thread of a synchronous command, never a cooperative
  // one, so the pool that runs `work` is not starved.
  let done = DispatchSemaphore(value: 0)
  Task {
    let value = await work()
    result.update { $0 = value }
    done.signal()
  }
  done.wait()
  return result.value!
}

/// The printed form of a `LoadResult`.
struct LoadReport {
  var result: LoadResult
  var configuration: LoadConfiguration

  var seconds: Double { Double(result.elapsedNanoseconds) / 1e9 }
  var requestsPerSecond: Double { seconds > 0 ? Double(result.counts.total) / seconds : 0 }

  /// The latency at `fraction` (0.5 for the median) in milliseconds, nearest-rank.
  static func percentile(_ sorted: [UInt64], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((fraction * Double(sorted.count)).rounded(.up))
    return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1e6
  }

  var latencySummary: (p50: Double, p90: Double, p99: Double, max: Double) {
    let sorted = result.latencies.sorted()
    return (
      Self.percentile(sorted, 0.5), Self.percentile(sorted, 0.9), Self.percentile(sorted, 0.99),
      Double(sorted.last ?? 0) / 1e6
    )
  }

  func text() -> String {
    let counts = result.counts
    let latency = latencySummary
    var out = "load: GET \(configuration.target.url), \(configuration.concurrency) connections, "
    out += configuration.keepAlive ? "keep-alive" : "a new connection per request"
    out += "\n\n  second       ok   errors\n"
    for (index, row) in result.perSecond.enumerated() {
      out += pad("\(index + 1)", 8) + pad("\(row.ok)", 9) + pad("\(row.errors)", 9) + "\n"
    }
    out += "\n"
    out += "requests     \(counts.total) in \(String(format: "%.2f", seconds))s = "
    out += "\(String(format: "%.0f", requestsPerSecond)) req/s\n"
    out += "ok           \(counts.ok)\n"
    let statuses = counts.httpErrors.keys.sorted().map { "\($0): \(counts.httpErrors[$0]!)" }
    out +=
      "HTTP errors  \(counts.httpErrorTotal)\(statuses.isEmpty ? "" : " (\(statuses.joined(separator: ", ")))")\n"
    out += "refused      \(counts.refused)\n"
    out += "failed after accept  \(counts.failedAfterAccept)\n"
    out += "timed out    \(counts.timedOut)\n"
    if counts.connectErrors > 0 { out += "connect errors  \(counts.connectErrors)\n" }
    out += "latency      p50 \(ms(latency.p50))  p90 \(ms(latency.p90))  p99 \(ms(latency.p99))  "
    out += "max \(ms(latency.max))\n"
    return out
  }

  func json() -> String {
    let counts = result.counts
    let latency = latencySummary
    let statuses = counts.httpErrors.keys.sorted().map { "\"\($0)\":\(counts.httpErrors[$0]!)" }
    let rows = result.perSecond.enumerated().map {
      #"{"second":\#($0.offset + 1),"ok":\#($0.element.ok),"errors":\#($0.element.errors)}"#
    }
    return """
      {"url":"\(configuration.target.url)","concurrency":\(configuration.concurrency),\
      "keep_alive":\(configuration.keepAlive),"seconds":\(String(format: "%.3f", seconds)),\
      "requests":\(counts.total),"requests_per_second":\(String(format: "%.1f", requestsPerSecond)),\
      "ok":\(counts.ok),"http_errors":{\(statuses.joined(separator: ","))},"refused":\(counts.refused),\
      "failed_after_accept":\(counts.failedAfterAccept),"timed_out":\(counts.timedOut),\
      "connect_errors":\(counts.connectErrors),"latency_ms":{"p50":\(String(format: "%.3f", latency.p50)),\
      "p90":\(String(format: "%.3f", latency.p90)),"p99":\(String(format: "%.3f", latency.p99)),\
      "max":\(String(format: "%.3f", latency.max))},"per_second":[\(rows.joined(separator: ","))]}
      """
  }

  private func ms(_ value: Double) -> String { String(format: value < 10 ? "%.2fms" : "%.1fms", value) }
}

/// Right-aligns `text` in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
  String(repeating: " ", count: max(width - text.count, 0)) + text
}
