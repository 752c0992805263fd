// A parser of the Prometheus text exposition format 0.0.4, written from the format's
// description (https://prometheus.io/docs/instrumenting/exposition_formats/) and independent
// of src/: tests read metrics by parsing them, never by matching text by eye. It is strict
// where the format is, and stricter than Prometheus where leniency would hide an exporter bug:
//   - every line ends with LF, the last one too; `# HELP` and `# TYPE` at most once per family,
//     TYPE before the family's first sample; a family's samples are consecutive;
//   - escapes: `\\`, `\"`, `\n` in label values, `\\`, `\n` in HELP; any other is an error;
//   - no label name twice in a sample, no label set twice in a family;
//   - histograms: every label set has `_bucket` lines with `le` ascending, counts cumulative
//     (non-decreasing), a `le="+Inf"` bucket equal to `_count`, and a `_sum`.

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  /** The sample's own name (`x_bucket`, `x_sum`... for histograms). */
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
  readonly timestamp: number | undefined
}

export interface Family {
  readonly name: string
  help: string | undefined
  type: MetricType
  readonly samples: Sample[]
}

export class ExpositionError extends Error {
  override name = 'ExpositionError'
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/
const FLOAT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped']

/** Go's ParseFloat, as far as the format uses it: decimal floats, Inf with a sign or not, NaN. */
export function parseValue(text: string): number {
  if (FLOAT.test(text)) return Number(text)
  if (/^[+]?inf$/i.test(text)) return Number.POSITIVE_INFINITY
  if (/^-inf$/i.test(text)) return Number.NEGATIVE_INFINITY
  if (/^nan$/i.test(text)) return Number.NaN
  throw new ExpositionError(`not a float: ${JSON.stringify(text)}`)
}

function unescapeText(text: string, quoteAllowed: boolean): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === '\\') return '\\'
    if (c === 'n') return '\n'
    if (c === '"' && quoteAllowed) return '"'
    throw new ExpositionError(`invalid escape \\${c}`)
  })
}

/** The family a sample name belongs to: a histogram's or summary's suffixed series go to it. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name)
  if (direct !== undefined) return direct
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue
    const f = families.get(name.slice(0, -suffix.length))
    if (f?.type === 'histogram' || (f?.type === 'summary' && suffix !== '_bucket')) return f
  }
  return undefined
}

function parseSample(line: string): Sample {
  const m = METRIC_NAME.exec(line)
  if (m === null) throw new ExpositionError('no metric name')
  const name = m[0]
  let pos = name.length
  const labels: Record<string, string> = {}
  if (line[pos] === '{') {
    pos++
    while (line[pos] !== '}') {
      const ln = LABEL_NAME.exec(line.slice(pos))
      if (ln === null) throw new ExpositionError(`bad label name at column ${pos + 1}`)
      pos += ln[0].length
      if (line.slice(pos, pos + 2) !== '="') throw new ExpositionError(`expected =" after ${ln[0]}`)
      pos += 2
      let end = pos
      while (end < line.length && line[end] !== '"') end += line[end] === '\\' ? 2 : 1
      if (end >= line.length) throw new ExpositionError(`unterminated value of label ${ln[0]}`)
      if (Object.hasOwn(labels, ln[0])) throw new ExpositionError(`label ${ln[0]} given twice`)
      labels[ln[0]] = unescapeText(line.slice(pos, end), true)
      pos = end + 1
      if (line[pos] === ',') pos++
      else if (line[pos] !== '}') throw new ExpositionError(`expected , or } at column ${pos + 1}`)
    }
    pos++
  }
  const rest = line.slice(pos)
  const fields = rest.trim().split(/[ \t]+/)
  if (!/^[ \t]/.test(rest) || fields.length < 1 || fields.length > 2) {
    throw new ExpositionError('expected a value (and an optional timestamp) after the name and labels')
  }
  const value = parseValue(fields[0])
  let timestamp: number | undefined
  if (fields.length === 2) {
    if (!/^-?[0-9]+$/.test(fields[1])) throw new ExpositionError(`bad timestamp ${fields[1]}`)
    timestamp = Number(fields[1])
  }
  return { name, labels, value, timestamp }
}

function labelKey(labels: Readonly<Record<string, string>>, without?: string): string {
  return JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== without)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  )
}

/** Check the histogram rules of the header comment for one family. */
function checkHistogram(f: Family): void {
  const series = new Map<string, { les: number[]; counts: number[]; sum?: number; count?: number }>()
  const get = (key: string) => {
    let s = series.get(key)
    if (s === undefined) series.set(key, (s = { les: [], counts: [] }))
    return s
  }
  for (const s of f.samples) {
    if (s.name === `${f.name}_bucket`) {
      if (s.labels.le === undefined) throw new ExpositionError(`${f.name}: bucket without le`)
      const entry = get(labelKey(s.labels, 'le'))
      entry.les.push(parseValue(s.labels.le))
      entry.counts.push(s.value)
    } else if (s.name === `${f.name}_sum`) get(labelKey(s.labels)).sum = s.value
    else if (s.name === `${f.name}_count`) get(labelKey(s.labels)).count = s.value
    else throw new ExpositionError(`${f.name}: ${s.name} is not a histogram series`)
  }
  for (const [key, s] of series) {
    const what = `${f.name}${key}`
    for (let i = 1; i < s.les.length; i++) {
      if (!(s.les[i] > s.les[i - 1])) throw new ExpositionError(`${what}: le not strictly ascending`)
      if (s.counts[i] < s.counts[i - 1]) throw new ExpositionError(`${what}: bucket counts not cumulative`)
    }
    if (s.les.at(-1) !== Number.POSITIVE_INFINITY) throw new ExpositionError(`${what}: no le="+Inf" bucket`)
    if (s.count === undefined || s.sum === undefined) throw new ExpositionError(`${what}: _sum or _count missing`)
    if (s.counts.at(-1) !== s.count) throw new ExpositionError(`${what}: +Inf bucket differs from _count`)
  }
}

/** Parse an exposition; throws ExpositionError naming the line on anything the format forbids. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  if (text !== '' && !text.endsWith('\n')) throw new ExpositionError('the last line does not end with LF')
  const lines = text.split('\n').slice(0, -1)
  /** Families whose samples are over (another family's sample came after them). */
  const finished = new Set<Family>()
  const seenHelp = new Set<string>()
  const seenSeries = new Set<string>()
  let current: Family | undefined
  lines.forEach((line, index) => {
    const at = (message: string) => new ExpositionError(`line ${index + 1}: ${message}: ${JSON.stringify(line)}`)
    try {
      if (/^[ \t]*$/.test(line)) return
      if (line.startsWith('#')) {
        const m = /^#[ \t]+(HELP|TYPE)[ \t]+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:[ \t]+([^\n]*)|[ \t]*)$/.exec(line)
        if (m === null) return // any other comment
        const [, keyword, name, rest = ''] = m
        let f = families.get(name)
        if (f !== undefined && f.samples.length > 0 && keyword === 'TYPE') throw at('TYPE after samples')
        if (f === undefined) families.set(name, (f = { name, help: undefined, type: 'untyped', samples: [] }))
        if (keyword === 'HELP') {
          if (seenHelp.has(name)) throw at('second HELP')
          seenHelp.add(name)
          f.help = unescapeText(rest, false)
        } else {
          if (f.type !== 'untyped' || !TYPES.includes(rest.trim())) throw at('bad or second TYPE')
          f.type = rest.trim() as MetricType
        }
        return
      }
      const sample = parseSample(line)
      let f = familyOf(sample.name, families)
      if (f === undefined)
        families.set(sample.name, (f = { name: sample.name, help: undefined, type: 'untyped', samples: [] }))
      if (f !== current) {
        if (finished.has(f)) throw at(`samples of ${f.name} are not together`)
        if (current !== undefined) finished.add(current)
        current = f
      }
      const series = `${sample.name}${labelKey(sample.labels)}`
      if (seenSeries.has(series)) throw at('the same series twice')
      seenSeries.add(series)
      if (f.type === 'histogram' && sample.name === f.name) throw at('a histogram sample needs a suffix')
      f.samples.push(sample)
    } catch (err) {
      if (err instanceof ExpositionError && !err.message.startsWith('line ')) throw at(err.message)
      throw err
    }
  })
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

/** The family `name`; throws when the exposition has none. */
export function family(families: Map<string, Family>, name: string): Family {
  const f = families.get(name)
  if (f === undefined) throw new Error(`no metric family ${name} (have: ${[...families.keys()].join(', ')})`)
  return f
}

/** Whether `labels` has exactly the given label values (and no other labels). */
function sameLabels(labels: Readonly<Record<string, string>>, want: Readonly<Record<string, string>>): boolean {
  return labelKey(labels) === labelKey(want)
}

/** The value of the one sample `name` with exactly these labels; throws when there is none. */
export function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values()) {
    for (const s of f.samples) if (s.name === name && sameLabels(s.labels, labels)) return s.value
  }
  throw new Error(`no sample ${name}${JSON.stringify(labels)}`)
}

export interface HistogramSeries {
  /** [le, cumulative count] in order, +Inf last. */
  buckets: [number, number][]
  sum: number
  count: number
}

/** One histogram series (by its labels other than `le`). */
export function histogram(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): HistogramSeries {
  const f = family(families, name)
  if (f.type !== 'histogram') throw new Error(`${name} is a ${f.type}, not a histogram`)
  const buckets: [number, number][] = []
  for (const s of f.samples) {
    if (s.name !== `${name}_bucket`) continue
    const { le, ...rest } = s.labels
    if (sameLabels(rest, labels)) buckets.push([parseValue(le), s.value])
  }
  return { buckets, sum: value(families, `${name}_sum`, labels), count: value(families, `${name}_count`, labels) }
}
