// The `health` option: passive health (failures of real requests) and, with `check`, active
// health checks (a probe per target and interval: ops/health-check.ts), validated into
// ResolvedHealth. A bad value throws a TypeError naming the option.

import { checkKeys, checkObject, fail, positiveInt } from './option-checks.js'

/** Active health checks: `GET path` to every target every `interval` ms (jittered ±10%). */
export interface HealthCheckOptions {
  /** Request path (origin-form: `/healthz`, `/status?full=1`). */
  path: string
  /** Time between the end of one probe and the start of the next (ms, default 5000), jittered ±10%. */
  interval?: number
  /** A probe's whole time, connect to the end of the response (ms, default 2000). */
  timeout?: number
  /** Statuses that count as healthy (default: any 2xx or 3xx). */
  expectStatus?: number | readonly number[]
}

/**
 * Passive health: a target failing `maxFails` times within `failWindow` ms is down for
 * `failTimeout` ms. With `check`, active health checks too: `maxFails` consecutive failed
 * probes mark a target down, one success marks it up; a target is used only while both say up.
 */
export interface HealthOptions {
  maxFails?: number
  failWindow?: number
  failTimeout?: number
  check?: HealthCheckOptions
}

export interface ResolvedHealthCheck {
  path: string
  interval: number
  timeout: number
  /** null: any 2xx or 3xx. */
  expectStatus: readonly number[] | null
}

export interface ResolvedHealth {
  maxFails: number
  failWindow: number
  failTimeout: number
  /** null: no active checks. */
  check: ResolvedHealthCheck | null
}

/** Defaults of `health` (the CLI's --help shows them). */
export const DEFAULT_HEALTH = { maxFails: 1, failWindow: 10_000, failTimeout: 10_000 }
export const DEFAULT_HEALTH_CHECK = { interval: 5_000, timeout: 2_000 }

/** origin-form (RFC 9112 §3.2.1): an absolute path of pchar and `/`, then an optional query. */
const ORIGIN_FORM = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/

/**
 * Validate `health.check` (undefined: no active checks). Throws TypeError naming the option.
 */
export function resolveHealthCheck(value: unknown, option = 'health.check'): ResolvedHealthCheck | null {
  if (value === undefined) return null
  const obj = checkObject(value, option)
  checkKeys(obj, ['path', 'interval', 'timeout', 'expectStatus'], option)
  if (typeof obj.path !== 'string' || !ORIGIN_FORM.test(obj.path)) {
    fail(`${option}.path`, 'must be a path starting with / (origin-form: no spaces, no fragment)')
  }
  const interval = positiveInt(obj.interval, `${option}.interval`, DEFAULT_HEALTH_CHECK.interval)
  const timeout = positiveInt(obj.timeout, `${option}.timeout`, DEFAULT_HEALTH_CHECK.timeout)
  let expectStatus: number[] | null = null
  if (obj.expectStatus !== undefined) {
    const list = Array.isArray(obj.expectStatus) ? obj.expectStatus : [obj.expectStatus]
    if (list.length === 0 || !list.every((s) => Number.isInteger(s) && s >= 100 && s <= 599)) {
      fail(`${option}.expectStatus`, 'must be a status 100-599 or a non-empty list of them')
    }
    expectStatus = list as number[]
  }
  return { path: obj.path, interval, timeout, expectStatus }
}

/** Validate `health`. Throws TypeError naming the option. */
export function resolveHealth(value: unknown): ResolvedHealth {
  const h = checkObject(value, 'health')
  checkKeys(h, ['maxFails', 'failWindow', 'failTimeout', 'check'], 'health')
  return {
    maxFails: positiveInt(h.maxFails, 'health.maxFails', DEFAULT_HEALTH.maxFails),
    failWindow: positiveInt(h.failWindow, 'health.failWindow', DEFAULT_HEALTH.failWindow),
    failTimeout: positiveInt(h.failTimeout, 'health.failTimeout', DEFAULT_HEALTH.failTimeout),
    check: resolveHealthCheck(h.check),
  }
}
