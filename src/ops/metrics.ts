// A small Prometheus exporter: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Why our own and not prom-client: the library keeps zero runtime dependencies, and prom-client
// (with its tdigest and bintrees dependencies, summaries, pushgateway, cluster aggregation and
// OpenMetrics) is far more than a gateway needs. The 0.0.4 text format is small and has been
// stable since 2014: `# HELP` / `# TYPE` lines, then one `name{label="value"} number` line per
// sample, with three escapes. What we need of it fits in this file.
//
// Cost model: the hot path never builds strings or looks up maps. `labels(...)` resolves a
// child once (a Map lookup, at set-up time); the caller keeps the child and bumps a number on
// it. Strings are built only at scrape time.

/** `[a-zA-Z_:][a-zA-Z0-9_:]*` (exposition format, "metric names"). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
/** `[a-zA-Z_][a-zA-Z0-9_]*`; names starting with `__` are reserved for Prometheus itself. */
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Label values escape `\`, `"` and newline as `\\`, `\"`, `\n` (the format's only escapes there). */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`)) : value
}

/** HELP text escapes `\` and newline only (a `"` stands as is there). */
export function escapeHelp(text: string): string {
  return /[\\\n]/.test(text) ? text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\')) : text
}

/** A sample value as the format writes it: Go's float syntax, `+Inf`, `-Inf`, `NaN`. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

function checkNames(name: string, labelNames: readonly string[], reserved: readonly string[]): void {
  if (!METRIC_NAME.test(name)) throw new TypeError(`metric name ${JSON.stringify(name)} is not valid`)
  const seen = new Set<string>()
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith('__') || reserved.includes(label)) {
      throw new TypeError(`${name}: label name ${JSON.stringify(label)} is not valid here`)
    }
    if (seen.has(label)) throw new TypeError(`${name}: label ${JSON.stringify(label)} given twice`)
    seen.add(label)
  }
}

/** `{a="1",b="2"}` for a child's labels, '' when there are none; built once per child. */
function labelText(names: readonly string[], values: readonly string[]): string {
  if (names.length === 0) return ''
  return `{${names.map((n, i) => `${n}="${escapeLabelValue(values[i])}"`).join(',')}}`
}

export interface MetricOptions {
  name: string
  help: string
  labelNames?: readonly string[]
  /**
   * Called before each scrape: set the values that are read rather than counted (from a stats()
   * callback, process.memoryUsage()...). Children it does not set again are left as they were;
   * call `clear()` first when the set of label values can change.
   */
  collect?: () => void
}

type MetricType = 'counter' | 'gauge' | 'histogram'

abstract class Metric<Child> {
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  abstract readonly type: MetricType
  private readonly collector: (() => void) | undefined
  /** Children by their label values (JSON of the array: unambiguous whatever the values hold). */
  private readonly byKey = new Map<string, { labels: string; child: Child }>()

  constructor(options: MetricOptions, reserved: readonly string[] = []) {
    checkNames(options.name, options.labelNames ?? [], reserved)
    this.name = options.name
    this.help = options.help
    this.labelNames = options.labelNames ?? []
    this.collector = options.collect
  }

  protected abstract newChild(): Child
  protected abstract renderChild(out: string[], labels: string, child: Child): void

  /** The child for these label values (one per label name, in order): resolve once, keep it. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) {
      throw new TypeError(`${this.name}: ${this.labelNames.length} label values expected, got ${values.length}`)
    }
    const key = JSON.stringify(values)
    let entry = this.byKey.get(key)
    if (entry === undefined) {
      entry = { labels: labelText(this.labelNames, values), child: this.newChild() }
      this.byKey.set(key, entry)
    }
    return entry.child
  }

  /** Forget every child (for label sets that come and go, such as targets after a reconfigure). */
  clear(): void {
    this.byKey.clear()
  }

  /** Append this metric's lines, HELP and TYPE first. */
  render(out: string[]): void {
    this.collector?.()
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`)
    for (const { labels, child } of this.byKey.values()) this.renderChild(out, labels, child)
  }
}

export class CounterChild {
  value = 0
  inc(n = 1): void {
    this.value += n
  }
}

/** A value that only goes up (it restarts at zero with the process, which Prometheus expects). */
export class Counter extends Metric<CounterChild> {
  readonly type = 'counter'
  private readonly unlabelled: CounterChild | null

  constructor(options: MetricOptions) {
    super(options)
    // A metric without labels always has its one sample, even at zero.
    this.unlabelled = this.labelNames.length === 0 ? this.labels() : null
  }

  inc(n = 1): void {
    if (this.unlabelled === null) throw new TypeError(`${this.name} has labels: use labels(...).inc()`)
    this.unlabelled.value += n
  }

  protected newChild(): CounterChild {
    return new CounterChild()
  }

  protected renderChild(out: string[], labels: string, child: CounterChild): void {
    out.push(`${this.name}${labels} ${formatValue(child.value)}\n`)
  }
}

export class GaugeChild {
  value = 0
  set(v: number): void {
    this.value = v
  }
  inc(n = 1): void {
    this.value += n
  }
  dec(n = 1): void {
    this.value -= n
  }
}

/** A value that goes up and down; usually set at scrape time by `collect`. */
export class Gauge extends Metric<GaugeChild> {
  readonly type = 'gauge'
  private readonly unlabelled: GaugeChild | null

  constructor(options: MetricOptions) {
    super(options)
    this.unlabelled = this.labelNames.length === 0 ? this.labels() : null
  }

  set(v: number): void {
    if (this.unlabelled === null) throw new TypeError(`${this.name} has labels: use labels(...).set()`)
    this.unlabelled.value = v
  }

  protected newChild(): GaugeChild {
    return new GaugeChild()
  }

  protected renderChild(out: string[], labels: string, child: GaugeChild): void {
    out.push(`${this.name}${labels} ${formatValue(child.value)}\n`)
  }
}

export class HistogramChild {
  /** Observations per bucket, not cumulative (one increment per observation); the last is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  private readonly bounds: Float64Array

  constructor(bounds: Float64Array) {
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }

  /** Record one observation (NaN is ignored: it belongs in no bucket and would poison `_sum`). */
  observe(v: number): void {
    if (Number.isNaN(v)) return
    // A linear scan: a dozen or so bounds, most observations land in the first few.
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && v > bounds[i]) i++
    this.counts[i]++
    this.sum += v
    this.count++
  }
}

export interface HistogramOptions extends MetricOptions {
  /** Upper bounds (`le`), strictly increasing and finite; `+Inf` is added. */
  buckets: readonly number[]
}

/**
 * Distribution of observations: `_bucket{le="..."}` cumulative counts ending with `le="+Inf"`
 * (equal to `_count`), then `_sum` and `_count`.
 */
export class Histogram extends Metric<HistogramChild> {
  readonly type = 'histogram'
  private readonly bounds: Float64Array
  /** `le="0.005"` for each bound and `le="+Inf"`, formatted once. */
  private readonly leTexts: string[]
  private readonly unlabelled: HistogramChild | null

  constructor(options: HistogramOptions) {
    // `le` is the bucket label (exposition format, "histograms and summaries").
    super(options, ['le'])
    const b = options.buckets
    if (b.length === 0) throw new TypeError(`${options.name}: buckets must not be empty`)
    for (let i = 0; i < b.length; i++) {
      if (!Number.isFinite(b[i]) || (i > 0 && b[i] <= b[i - 1])) {
        throw new TypeError(`${options.name}: buckets must be finite and strictly increasing`)
      }
    }
    this.bounds = Float64Array.from(b)
    this.leTexts = [...b.map((v) => `le="${formatValue(v)}"`), 'le="+Inf"']
    this.unlabelled = this.labelNames.length === 0 ? this.labels() : null
  }

  observe(v: number): void {
    if (this.unlabelled === null) throw new TypeError(`${this.name} has labels: use labels(...).observe()`)
    this.unlabelled.observe(v)
  }

  protected newChild(): HistogramChild {
    return new HistogramChild(this.bounds)
  }

  protected renderChild(out: string[], labels: string, child: HistogramChild): void {
    // The child's labels with `le` appended: `{a="1",le="0.5"}` or `{le="0.5"}`.
    const open = labels === '' ? '{' : `${labels.slice(0, -1)},`
    let cumulative = 0
    for (let i = 0; i < this.leTexts.length; i++) {
      cumulative += child.counts[i]
      out.push(`${this.name}_bucket${open}${this.leTexts[i]}} ${formatValue(cumulative)}\n`)
    }
    out.push(`${this.name}_sum${labels} ${formatValue(child.sum)}\n`)
    out.push(`${this.name}_count${labels} ${formatValue(child.count)}\n`)
  }
}

export type AnyMetric = Counter | Gauge | Histogram

/** The Content-Type of the text exposition format 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** A set of metrics rendered together; names are unique within it. */
export class Registry {
  private readonly metrics = new Map<string, AnyMetric>()

  register<M extends AnyMetric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new TypeError(`metric ${metric.name} is already registered`)
    this.metrics.set(metric.name, metric)
    return metric
  }

  /** The exposition text: every metric in registration order, each line ending in `\n`. */
  render(): string {
    const out: string[] = []
    for (const metric of this.metrics.values()) metric.render(out)
    return out.join('')
  }
}
