// strictgate's own metrics. Two kinds of source, kept apart on purpose:
// - what happens per exchange (status class, duration, error code) is fed by plain method calls
//   from the exchange's end and the error path. Those calls bump numbers on children resolved
//   in the constructor: no string is built and no map is consulted per request.
// - what the gateway already counts (connections, per-target state, requests and failures per
//   target) is read from its stats() at scrape time, never maintained a second time, so the two
//   can never disagree.

import { ERROR_CODES, type ErrorCode } from '../errors.js'
import type { TargetStats } from '../io/targets.js'
import { Counter, type CounterChild, Gauge, Histogram, type HistogramChild, Registry } from './metrics.js'
import { type ProcessMetrics, registerProcessMetrics } from './process-metrics.js'

/** The shape of `gateway.stats()` this module reads. */
export interface GatewayStats {
  clients: number
  upstream: { open: number; idle: number; waiting: number }
  targets: readonly TargetStats[]
  /** TLS handshakes with clients that failed so far (listeners with `tls`); 0 when absent. */
  tlsHandshakeFailures?: number
}

/**
 * Request duration buckets (seconds): from 0.5 ms, a hit on a local upstream's keep-alive
 * connection, to 60 s, the default response timeout, roughly ×2.5 apart.
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
]

/** `code_class` label values by index: status / 100 for 1xx-5xx, 0 for an aborted exchange. */
const CODE_CLASSES = ['aborted', '1xx', '2xx', '3xx', '4xx', '5xx'] as const

export interface GatewayMetricsOptions {
  /** The gateway's stats(), called once per scrape. Without it the stats-based metrics are absent. */
  stats?: () => GatewayStats
  /** Include the process metrics (default true). */
  processMetrics?: boolean
  /** Override the duration histogram's buckets (seconds). */
  buckets?: readonly number[]
}

export class GatewayMetrics {
  readonly registry = new Registry()
  private readonly byClass: CounterChild[]
  private readonly byCode: Readonly<Record<string, CounterChild>>
  private readonly duration: HistogramChild
  private readonly healthChecks: Counter
  private readonly process: ProcessMetrics | null

  constructor(options: GatewayMetricsOptions = {}) {
    const r = this.registry
    const requests = r.register(
      new Counter({
        name: 'strictgate_requests_total',
        help: 'Exchanges ended, by the class of the status the client got (aborted: the connection was cut).',
        labelNames: ['code_class'],
      }),
    )
    this.byClass = CODE_CLASSES.map((c) => requests.labels(c))
    const errors = r.register(
      new Counter({
        name: 'strictgate_errors_total',
        help: 'Failures reported to onError and strictgate:error, by code.',
        labelNames: ['code'],
      }),
    )
    const byCode: Record<string, CounterChild> = {}
    for (const code of ERROR_CODES) byCode[code] = errors.labels(code)
    this.byCode = byCode
    this.duration = r
      .register(
        new Histogram({
          name: 'strictgate_request_duration_seconds',
          help: 'Time from the request head to the end of the exchange, in seconds.',
          buckets: options.buckets ?? DURATION_BUCKETS,
        }),
      )
      .labels()
    this.healthChecks = r.register(
      new Counter({
        name: 'strictgate_health_check_total',
        help: 'Active health check probes, by target and result (success or failure).',
        labelNames: ['target', 'result'],
      }),
    )
    if (options.stats !== undefined) this.registerStats(options.stats)
    this.process = options.processMetrics === false ? null : registerProcessMetrics(r)
  }

  /** An exchange ended with `status` (0: the client connection was aborted) after `durationMs`. */
  exchange(status: number, durationMs: number): void {
    // status / 100 truncated is the class; anything outside 100-599 is never sent, and is
    // counted with the aborted ones rather than indexing past the table.
    const i = status >= 100 && status <= 599 ? (status / 100) | 0 : 0
    this.byClass[i].value++
    this.duration.observe(durationMs / 1000)
  }

  /** A failure was reported (what onError and `strictgate:error` see). */
  error(code: ErrorCode): void {
    const child = this.byCode[code]
    if (child !== undefined) child.value++
  }

  /** An active health check probe of `target` (its URL) ended. Once per probe: not a hot path. */
  healthCheck(target: string, ok: boolean): void {
    this.healthChecks.labels(target, ok ? 'success' : 'failure').value++
  }

  /** The exposition text (format 0.0.4). */
  render(): string {
    return this.registry.render()
  }

  /** Stop the event-loop sampler of the process metrics. */
  close(): void {
    this.process?.close()
  }

  private registerStats(stats: () => GatewayStats): void {
    const r = this.registry
    // One stats() call per scrape, taken by the first of these metrics (registration order).
    let s: GatewayStats
    const clients = r.register(
      new Gauge({
        name: 'strictgate_client_connections',
        help: 'Client connections open.',
        collect: () => {
          s = stats()
          clients.set(s.clients)
        },
      }),
    )
    const tls = r.register(
      new Counter({
        name: 'strictgate_tls_handshake_failures_total',
        help: 'TLS handshakes with clients that failed.',
        collect: () => {
          tls.labels().value = s.tlsHandshakeFailures ?? 0
        },
      }),
    )
    // Per target: cleared and refilled at each scrape, so that targets a reconfigure removed go.
    const up: Gauge = r.register(
      new Gauge({
        name: 'strictgate_upstream_up',
        help: 'Whether a target is up (1) or down (0).',
        labelNames: ['target'],
        collect: () => {
          up.clear()
          for (const t of s.targets) up.labels(t.url).set(t.up ? 1 : 0)
        },
      }),
    )
    const connections: Gauge = r.register(
      new Gauge({
        name: 'strictgate_upstream_connections',
        help: 'Connections to a target, by state: active (busy with an exchange) or idle (pooled).',
        labelNames: ['target', 'state'],
        collect: () => {
          connections.clear()
          for (const t of s.targets) {
            connections.labels(t.url, 'active').set(t.active)
            connections.labels(t.url, 'idle').set(t.idle)
          }
        },
      }),
    )
    const requests: Counter = r.register(
      new Counter({
        name: 'strictgate_upstream_requests_total',
        help: 'Requests sent to a target.',
        labelNames: ['target'],
        collect: () => {
          requests.clear()
          for (const t of s.targets) requests.labels(t.url).value = t.requests
        },
      }),
    )
    const failures: Counter = r.register(
      new Counter({
        name: 'strictgate_upstream_failures_total',
        help: 'Failures counted against a target by passive health (connect errors, resets before a response).',
        labelNames: ['target'],
        collect: () => {
          failures.clear()
          for (const t of s.targets) failures.labels(t.url).value = t.failures
        },
      }),
    )
  }
}
