// Temporary until the CLI engine lands.
func formatDuration(_ duration: Duration) -> String {
  let (seconds, attoseconds) = duration.components
  let ms = seconds * 1000 + attoseconds / 1_000_000_000_000_000
  if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
  if ms % 1000 == 0 { return "\(ms / 1000)s" }
  if ms < 1000 { return "\(ms)ms" }
  var fraction = String(ms % 1000)
  while fraction.count < 3 { fraction = "0" + fraction }
  while fraction.hasSuffix("0") { fraction.removeLast() }
  return "\(ms / 1000).\(fraction)s"
}
