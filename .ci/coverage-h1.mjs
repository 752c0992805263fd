// Holds the parser core (src/h1/) to at least 95% lines and branches, from tap's
// json-summary coverage report (tap's own thresholds in .taprc are global).
import { readFileSync } from 'node:fs'

const MIN = 95
const file = process.argv[2] ?? '.tap/report/coverage-summary.json'
const summary = JSON.parse(readFileSync(file, 'utf8'))
const totals = { lines: [0, 0], branches: [0, 0] }
for (const [path, data] of Object.entries(summary)) {
  if (!path.includes('/src/h1/')) continue
  for (const kind of ['lines', 'branches']) {
    totals[kind][0] += data[kind].covered
    totals[kind][1] += data[kind].total
  }
}
let ok = true
for (const [kind, [covered, total]] of Object.entries(totals)) {
  const pct = total === 0 ? 0 : (100 * covered) / total
  console.log(`src/h1 ${kind}: ${pct.toFixed(2)}% (${covered}/${total}), minimum ${MIN}%`)
  if (pct < MIN) ok = false
}
process.exit(ok ? 0 : 1)
