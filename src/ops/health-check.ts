// Active health checks: each target is probed with `GET path` on a fresh connection, and the
// response is read by the gateway's own strict ResponseParser, so a target that answers with
// bytes the gateway would refuse to relay is not healthy either. A target is marked down after
// `health.maxFails` consecutive failed probes (the passive option's number, reused) and up
// after one success. Probes of one target never overlap: the next is scheduled when one ends,
// an interval later, jittered ±10% so that several gateways (or cluster workers) started
// together do not probe in lockstep.

import diagnostics from 'node:diagnostics_channel'
import type net from 'node:net'
import type { ErrorCode } from '../errors.js'
import type { ResponseHead } from '../h1/head.js'
import { DEFAULT_LIMITS, type Limits } from '../h1/limits.js'
import { ResponseParser } from '../h1/response-parser.js'
import type { ResolvedHealthCheck } from '../health-options.js'
import { connectErrorCode, connectTarget } from '../io/connect.js'
import type { ResolvedTarget } from '../upstream-options.js'

/**
 * What the checker needs of a target: where it is (its ResolvedTarget) and two state
 * changes. `markDown`/`markUp` are called on transitions of the active view only, never
 * twice in a row with the same verdict; how they combine with passive health is the target's.
 */
export interface CheckedTarget {
  /** Where the target is (connected to as the pool connects). */
  readonly config: ResolvedTarget
  markDown(reason: string): void
  markUp(): void
}

/** A probe's failure that is not one of the gateway's error codes: a status outside expectStatus. */
export type ProbeCode = ErrorCode | 'UNEXPECTED_STATUS'

export type ProbeResult =
  | { readonly ok: true; readonly status: number }
  | { readonly ok: false; readonly status: number; readonly code: ProbeCode; readonly reason: string }

/** Published on `strictgate:health` when a target's active health changes. */
export interface HealthMessage {
  target: string
  up: boolean
  /** Why: the failing probe's code and detail, or the status of the probe that succeeded. */
  reason: string
}

export const healthChannel = diagnostics.channel('strictgate:health')

/** The next probe's delay: `interval` ±10%, `r` uniform in [0, 1). */
export function nextDelay(interval: number, r: number): number {
  return Math.round(interval * (0.9 + 0.2 * r))
}

/** The first probe's delay: within the first tenth of an interval, spread so targets do not start together. */
export function firstDelay(interval: number, r: number): number {
  return Math.round(interval * 0.1 * r)
}

/** Consecutive failures → down; one success → up. Starts up (the gateway starts with every target up). */
export class HealthState {
  up = true
  failures = 0
  constructor(private readonly maxFails: number) {}

  /** Record a probe; returns the transition it causes, if any. */
  record(ok: boolean): 'up' | 'down' | null {
    if (ok) {
      this.failures = 0
      if (this.up) return null
      this.up = true
      return 'up'
    }
    this.failures++
    if (!this.up || this.failures < this.maxFails) return null
    this.up = false
    return 'down'
  }
}

/** A socket error: a connect failure means what it means anywhere (io/connect.ts); later, a close. */
function socketErrorCode(err: NodeJS.ErrnoException, connected: boolean): ErrorCode {
  const code = connectErrorCode(err)
  if (!connected || code === 'UPSTREAM_TLS_ERROR' || code === 'UPSTREAM_TLS_CERTIFICATE_ERROR') return code
  return 'UPSTREAM_CLOSED'
}

/**
 * One probe: connect, send the request, read the whole response with `parser`. Resolves (never
 * rejects) when the response is complete or the probe failed. `cancel` ends it at once (stop()).
 */
export function probe(
  target: CheckedTarget,
  check: ResolvedHealthCheck,
  parser: ResponseParser,
): { result: Promise<ProbeResult>; cancel: () => void } {
  let finish: (r: ProbeResult) => void = () => {}
  const result = new Promise<ProbeResult>((resolve) => {
    finish = resolve
  })
  let socket: net.Socket
  try {
    socket = connectTarget(target.config)
  } catch (err) {
    // tls.connect throws at once on settings it cannot use (a malformed certificate...).
    const reason = `UPSTREAM_TLS_ERROR: ${(err as Error).message}`
    return { result: Promise.resolve({ ok: false, status: 0, code: 'UPSTREAM_TLS_ERROR', reason }), cancel() {} }
  }
  const ready = target.config.kind === 'tls' ? 'secureConnect' : 'connect'
  let connected = false
  let done = false
  let head: ResponseHead | null = null
  let completed = false
  const end = (r: ProbeResult) => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.destroy()
    finish(r)
  }
  const failure = (code: ProbeCode, detail: string) =>
    end({ ok: false, status: head?.status ?? 0, code, reason: `${code}: ${detail}` })
  const complete = () => {
    const status = head?.status ?? 0
    const expected = check.expectStatus === null ? status >= 200 && status < 400 : check.expectStatus.includes(status)
    if (expected) end({ ok: true, status })
    else failure('UNEXPECTED_STATUS', `status ${status}`)
  }
  parser.expect(
    { method: 'GET', upgrade: [] },
    {
      onHead: (h) => {
        if (!h.interim) head = h
      },
      onBody: () => {},
      onTrailers: () => {},
      onComplete: () => {
        completed = true
      },
    },
  )
  const timer = setTimeout(() => {
    const code = !connected
      ? 'UPSTREAM_CONNECT_TIMEOUT'
      : head !== null
        ? 'UPSTREAM_IDLE_TIMEOUT'
        : 'UPSTREAM_RESPONSE_TIMEOUT'
    failure(code, `no complete response within ${check.timeout} ms`)
  }, check.timeout)
  timer.unref()
  socket.once(ready, () => {
    connected = true
    socket.write(
      `GET ${check.path} HTTP/1.1\r\nHost: ${target.config.hostHeader}\r\nUser-Agent: strictgate-health-check\r\nAccept: */*\r\nConnection: close\r\n\r\n`,
    )
  })
  socket.on('data', (chunk: Buffer) => {
    if (done) return
    const f = parser.execute(chunk) < 0 ? parser.failure : null
    // Bytes after a complete response are a warning (RULES.md B5): the response stands.
    if (f !== null && !completed) failure(f.code, f.reason)
    else if (completed) complete()
  })
  socket.on('end', () => {
    if (done) return
    const f = parser.finish()
    if (f !== null) failure(f.code, f.reason)
    else complete()
  })
  socket.on('error', (err: NodeJS.ErrnoException) => failure(socketErrorCode(err, connected), err.message))
  socket.on('close', () => failure('UPSTREAM_CLOSED', 'connection closed before the response was complete'))
  return { result, cancel: () => end({ ok: false, status: 0, code: 'UPSTREAM_CLOSED', reason: 'cancelled' }) }
}

export interface HealthCheckerOptions {
  check: ResolvedHealthCheck
  /** Consecutive failed probes that mark a target down (`health.maxFails`). */
  maxFails: number
  /** The gateway's parser limits (header size and count, interim responses). */
  limits?: Limits
  /** Uniform in [0, 1), for the jitter (default Math.random; tests pass fast-check's). */
  random?: () => number
  /** Every probe's outcome (for metrics: GatewayMetrics#healthCheck). */
  onProbe?: (target: CheckedTarget, result: ProbeResult) => void
}

/** One target's probe loop. */
class Prober {
  target: CheckedTarget
  readonly state: HealthState
  private timer: NodeJS.Timeout | null = null
  private inFlight: (() => void) | null = null
  private parser: ResponseParser | null = null
  private stopped = false

  constructor(
    target: CheckedTarget,
    private readonly options: HealthCheckerOptions,
  ) {
    this.target = target
    this.state = new HealthState(options.maxFails)
  }

  schedule(delay: number): void {
    if (this.stopped) return
    this.timer = setTimeout(() => void this.run(), delay)
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.inFlight?.()
    this.parser?.destroy()
    this.parser = null
  }

  private async run(): Promise<void> {
    this.timer = null
    const { check, limits, random = Math.random } = this.options
    this.parser ??= new ResponseParser(
      { onHead() {}, onBody() {}, onTrailers() {}, onComplete() {} },
      limits ?? DEFAULT_LIMITS,
    )
    const p = probe(this.target, check, this.parser)
    this.inFlight = p.cancel
    const result = await p.result
    this.inFlight = null
    if (this.stopped) return
    // The next probe is scheduled even if a callback throws (its error still surfaces).
    try {
      this.options.onProbe?.(this.target, result)
      const change = this.state.record(result.ok)
      if (change !== null) {
        const reason = result.ok ? `status ${result.status}` : result.reason
        if (change === 'down') this.target.markDown(reason)
        else this.target.markUp()
        if (healthChannel.hasSubscribers) {
          healthChannel.publish({ target: this.target.config.url, up: change === 'up', reason } satisfies HealthMessage)
        }
      }
    } finally {
      this.schedule(nextDelay(check.interval, random()))
    }
  }
}

/** Active health checks of a set of targets. Timers are unref'd: they never keep a process alive. */
export class HealthChecker {
  private readonly probers = new Map<string, Prober>()
  private running = false

  constructor(
    targets: readonly CheckedTarget[],
    private readonly options: HealthCheckerOptions,
  ) {
    this.setTargets(targets)
  }

  /** Start probing every target (the first probes within a tenth of an interval). */
  start(): void {
    if (this.running) return
    this.running = true
    for (const p of this.probers.values()) this.startProber(p)
  }

  /**
   * Stop: probes in flight are cancelled (and report nothing), timers cleared, parsers freed,
   * and the active view forgotten; a later start() begins afresh, every target up.
   */
  stop(): void {
    this.running = false
    for (const [url, p] of this.probers) {
      p.stop()
      this.probers.set(url, new Prober(p.target, this.options))
    }
  }

  /**
   * Replace the targets (reconfigure). A target whose URL stays keeps its state and its probe
   * loop (and gets the new object); removed ones stop; new ones start up, probed soon.
   */
  setTargets(targets: readonly CheckedTarget[]): void {
    const urls = new Set(targets.map((t) => t.config.url))
    for (const [url, p] of this.probers) {
      if (urls.has(url)) continue
      p.stop()
      this.probers.delete(url)
    }
    for (const target of targets) {
      const existing = this.probers.get(target.config.url)
      if (existing !== undefined) {
        existing.target = target
        continue
      }
      const p = new Prober(target, this.options)
      this.probers.set(target.config.url, p)
      if (this.running) this.startProber(p)
    }
  }

  /** A target's active view since start(): up or down, and its consecutive failures; undefined for an unknown URL. */
  state(url: string): { up: boolean; failures: number } | undefined {
    const s = this.probers.get(url)?.state
    return s === undefined ? undefined : { up: s.up, failures: s.failures }
  }

  private startProber(p: Prober): void {
    p.schedule(firstDelay(this.options.check.interval, (this.options.random ?? Math.random)()))
  }
}
