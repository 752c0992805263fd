// The upstream targets: one keep-alive pool each, passive health, and the balancing choice.
// A target that fails to connect (refused, timed out, reset before any response byte)
// `health.maxFails` times within `health.failWindow` is down for `health.failTimeout`, then
// gets one trial request; a single target is never marked down (as nginx does: there is no
// other target to prefer). Active health checks (ops/health-check.ts) mark a target down apart
// from that, a single one too (the operator named a path that says whether it is healthy, as
// HAProxy does); a target is used only while neither says down.

import type { CheckedTarget } from '../ops/health-check.js'
import type { Balance, ResolvedOptions, ResolvedTarget } from '../options.js'
import { type PoolWarning, UpstreamPool } from './pool.js'

export const enum Health {
  Up = 0,
  Down = 1,
  /** failTimeout is over: the next request tries it (and only that one). */
  TrialDue = 2,
  /** A trial request is in flight: no other request is sent to it meanwhile. */
  Trial = 3,
}

export class Target implements CheckedTarget {
  readonly config: ResolvedTarget
  readonly pool: UpstreamPool
  /** Passive health. */
  health = Health.Up
  /** Active health checks say down (markDown / markUp, from the checker). */
  activeDown = false
  requests = 0
  failures = 0
  /** Smooth weighted round-robin (nginx): current weight. */
  current = 0
  private downUntil = 0
  private readonly recentFailures: number[] = []

  constructor(config: ResolvedTarget, pool: UpstreamPool) {
    this.config = config
    this.pool = pool
  }

  /** Busy connections: what least-connections compares. */
  get active(): number {
    const s = this.pool.stats
    return s.open - s.idle + s.waiting
  }

  markDown(_reason: string): void {
    this.activeDown = true
  }

  markUp(): void {
    this.activeDown = false
  }

  available(now: number): boolean {
    if (this.activeDown) return false
    // Down until failTimeout is over; a trial that never came to a verdict (its client went
    // away first) is given up after the same time.
    if ((this.health === Health.Down || this.health === Health.Trial) && now >= this.downUntil) {
      this.health = Health.TrialDue
    }
    return this.health === Health.Up || this.health === Health.TrialDue
  }

  /** This target's one trial request starts now. */
  startTrial(now: number, failTimeout: number): void {
    this.health = Health.Trial
    this.downUntil = now + failTimeout
  }

  succeeded(): void {
    this.health = Health.Up
    // (Per response: truncate only when there is something to drop.)
    if (this.recentFailures.length > 0) this.recentFailures.length = 0
  }

  failed(now: number, health: ResolvedOptions['health'], single: boolean): void {
    this.failures++
    if (single) return
    const recent = this.recentFailures
    recent.push(now)
    while (recent.length > 0 && recent[0] <= now - health.failWindow) recent.shift()
    if (this.health === Health.Trial || recent.length >= health.maxFails) {
      this.health = Health.Down
      this.downUntil = now + health.failTimeout
      recent.length = 0
    }
  }
}

export interface TargetStats {
  url: string
  up: boolean
  active: number
  idle: number
  requests: number
  failures: number
}

export class Targets {
  readonly targets: Target[]
  private readonly balance: Balance
  private readonly health: ResolvedOptions['health']
  readonly retries: number
  private readonly byUrl = new Map<string, Target>()
  /** power-of-two-choices draws from this; tests pass a seeded one, so that a failure replays. */
  private readonly random: () => number

  /**
   * `warn`: where the pools report what happens on no exchange's connection (idle ones);
   * `random`: what power-of-two-choices draws from (tests pass a seeded one).
   */
  constructor(
    options: ResolvedOptions,
    warn?: PoolWarning,
    random: () => number = Math.random,
    previous: Targets | null = null,
  ) {
    this.random = random
    this.balance = options.balance
    this.health = options.health
    this.retries = options.retries
    this.targets = options.targets.map((config) => {
      const pool = {
        target: config,
        connectTimeout: options.timeouts.connect,
        keepAliveTimeout: options.timeouts.keepAlive,
        maxSockets: options.pool.maxSockets,
        maxIdle: options.pool.maxIdle,
        limits: options.limits,
      }
      // A target described the same way keeps its pool, idle connections and health; one
      // described otherwise starts afresh but for the active checks' verdict, which is about
      // the same URL (the checker keeps it, and tells only of changes).
      const kept = previous?.byUrl.get(config.url)
      if (kept !== undefined && sameJson(kept.pool.config, pool)) return kept
      const target = new Target(config, new UpstreamPool(pool, warn))
      if (kept !== undefined && options.health.check !== null) target.activeDown = kept.activeDown
      return target
    })
    // Without active checks, no target is held down by them (a kept one may have been).
    if (options.health.check === null) for (const target of this.targets) target.activeDown = false
    for (const target of this.targets) this.byUrl.set(target.config.url, target)
  }

  /**
   * The target for the next attempt among `allowed` (all when null), skipping `tried`; null when
   * none is available.
   */
  pick(tried: readonly Target[] | null, allowed: readonly Target[] | null = null): Target | null {
    const targets = allowed ?? this.targets
    if (this.targets.length === 1) return tried === null && !targets[0].activeDown ? targets[0] : null
    const now = Date.now()
    const candidates = targets.filter((t) => (tried === null || !tried.includes(t)) && t.available(now))
    if (candidates.length === 0) return null
    // A target back from failTimeout gets the next request, as its one trial.
    const due = candidates.find((t) => t.health === Health.TrialDue)
    if (due !== undefined) {
      due.startTrial(now, this.health.failTimeout)
      return due
    }
    switch (this.balance) {
      case 'least-connections': {
        let best = candidates[0]
        for (const t of candidates) if (t.active * best.config.weight < best.active * t.config.weight) best = t
        return best
      }
      case 'power-of-two-choices': {
        if (candidates.length === 1) return candidates[0]
        const a = Math.floor(this.random() * candidates.length)
        let b = Math.floor(this.random() * (candidates.length - 1))
        if (b >= a) b++
        const x = candidates[a]
        const y = candidates[b]
        return x.active * y.config.weight <= y.active * x.config.weight ? x : y
      }
      default: {
        // Smooth weighted round-robin: every candidate gains its weight, the largest is chosen
        // and loses the total (an even spread: a,a,b for weights 2,1, not a,b,a... bursts).
        let total = 0
        let best = candidates[0]
        for (const t of candidates) {
          t.current += t.config.weight
          total += t.config.weight
          if (t.current > best.current) best = t
        }
        best.current -= total
        return best
      }
    }
  }

  /**
   * Target URLs chosen per request (a route hook's result, proxy()'s `target`), as targets: null
   * for all (undefined); throws a TypeError naming `source` on anything else.
   */
  routed(result: unknown, source = 'route'): Target[] | null {
    if (result === undefined) return null
    const urls = typeof result === 'string' ? [result] : result
    if (!Array.isArray(urls) || urls.length === 0)
      throw new TypeError(`${source} must be a target URL, a list of them, or undefined`)
    return urls.map((url) => {
      const target = typeof url === 'string' ? this.byUrl.get(url) : undefined
      if (target === undefined)
        throw new TypeError(`${source} names ${JSON.stringify(url)}, which is not a configured upstream`)
      return target
    })
  }

  /**
   * `failed` failed this request before any response byte: count it for passive health and,
   * within the retry budget, pick another target not yet `tried` (which this extends). Null
   * when the request cannot move on.
   */
  next(failed: Target, tried: Target[], allowed: readonly Target[] | null): Target | null {
    this.failed(failed)
    tried.push(failed)
    if (tried.length > this.retries) return null
    return this.pick(tried, allowed)
  }

  failed(target: Target): void {
    target.failed(Date.now(), this.health, this.targets.length === 1)
  }

  stats(): { open: number; idle: number; waiting: number; targets: TargetStats[] } {
    let open = 0
    let idle = 0
    let waiting = 0
    const targets: TargetStats[] = []
    for (const t of this.targets) {
      const s = t.pool.stats
      open += s.open
      idle += s.idle
      waiting += s.waiting
      targets.push({
        url: t.config.url,
        up: t.health !== Health.Down && !t.activeDown,
        active: s.open - s.idle,
        idle: s.idle,
        requests: t.requests,
        failures: t.failures,
      })
    }
    return { open, idle, waiting, targets }
  }

  close(): void {
    for (const t of this.targets) t.pool.close()
  }

  /**
   * This set of targets replaces `previous` (reconfigure): the pools of the targets it dropped
   * close their idle connections; busy ones end with their exchanges.
   */
  retire(previous: Targets): void {
    for (const t of previous.targets) if (!this.targets.includes(t)) t.pool.close()
  }
}

/** Whether two plain option objects say the same (TLS keys and certificates compared as text). */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
