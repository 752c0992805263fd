// Gateway options: types, defaults, and resolveOptions(), which validates everything at once and
// throws a TypeError naming the option (never later, on the first request).

import type { GatewayError } from './errors.js'
import { isFieldValue, isToken } from './h1/grammar.js'
import type { RequestHead } from './h1/head.js'
import { DEFAULT_LIMITS, type Limits } from './h1/limits.js'
import { type HealthOptions, type ResolvedHealth, resolveHealth } from './health-options.js'
import { checkKeys, checkObject, fail, positiveInt } from './option-checks.js'
import { REWRITE_KEYS, type ResolvedRewrite, type RewriteOptions, resolveRewrite } from './rewrite-options.js'
import {
  parseTls,
  parseUpstreams,
  type ResolvedTarget,
  type UpstreamTarget,
  type UpstreamTlsOptions,
  type WeightedUpstream,
} from './upstream-options.js'

export type { HealthCheckOptions, HealthOptions } from './health-options.js'
export { DEFAULT_HEALTH, DEFAULT_HEALTH_CHECK } from './health-options.js'
export type { OnResponse, ResponseView, RewriteOptions } from './rewrite-options.js'
export type { ResolvedTarget, UpstreamTarget, UpstreamTlsOptions, WeightedUpstream } from './upstream-options.js'

export interface Timeouts {
  /** Connecting to the upstream (ms): UPSTREAM_CONNECT_TIMEOUT, 504. */
  connect?: number
  /** From the request being sent to the response head being complete (ms): 504. */
  response?: number
  /** No upstream body byte for this long while relaying (ms): abort. Also bounds a stalled request body. */
  idle?: number
  /** A client's request head must be complete within this (ms): 408. */
  request?: number
  /** Idle keep-alive connections (client side and pooled upstream sockets) are closed after this (ms). */
  keepAlive?: number
  /** `close()` waits this long for in-flight exchanges before destroying them (ms). */
  shutdown?: number
}

export interface GatewayLimits {
  maxHeaderBytes?: number
  maxHeaderCount?: number
  maxUrlBytes?: number
  /** Largest request body (bytes); unlimited when absent. */
  maxRequestBodyBytes?: number
  /** Client connections at once; beyond it the gateway answers 503 and closes. */
  maxConnections?: number
  /** 1xx responses allowed before the final one. */
  maxInterimResponses?: number
}

export interface PoolOptions {
  /** Upstream connections per target, busy and idle together. */
  maxSockets?: number
  /** Idle keep-alive upstream connections kept per target. */
  maxIdle?: number
}

/** What an `onError` hook may return to replace the gateway's own error response. */
export interface ErrorResponse {
  status?: number
  headers?: Record<string, string>
  body?: string | Buffer
}

export type OnError = (err: GatewayError, request: RequestHead | undefined) => ErrorResponse | undefined | void

export type Balance = 'round-robin' | 'least-connections' | 'power-of-two-choices'

/**
 * Where one request goes and how it is reshaped: what `route(request)` may return, and what
 * `proxy()` / `upgrade()` take as options. Every field is optional; an absent one changes nothing.
 */
export interface RouteOptions {
  /** Target URL(s) among the configured upstreams (as given in `upstream`); a list is balanced. */
  target?: string | string[]
  /** The request-target sent upstream: origin-form, or `*` for OPTIONS. */
  path?: string
  /** The Host sent upstream; 'target' for the chosen target's authority. */
  host?: string
  /** Per field name: replace all fields of that name (a list: several lines); null removes it. */
  headers?: Record<string, string | string[] | null>
}

/** Options of `proxy()` and `upgrade()` (embedding in node:http and frameworks). */
export interface ProxyOptions extends RouteOptions {
  /** The request body to send, when a body parser already consumed the request's. */
  body?: Buffer | Uint8Array | string | null
}

/** What a `route` hook may return: a target URL, a list of them, a RouteOptions object, or undefined. */
export type RouteResult = string | string[] | RouteOptions | undefined

/**
 * Where Via goes (RFC 9110 §7.6.3): `value` (default `1.1 strictgate`) added to requests
 * (`request`, default true) and to responses (`response`, default true).
 */
export interface ViaOptions {
  value?: string
  request?: boolean
  response?: boolean
}

export interface GatewayOptions extends RewriteOptions {
  /** `http://host:port`, `https://host:port`, `unix:/path`, `{ host, port }`, or a list of them (balanced). */
  upstream: string | UpstreamTarget | (string | UpstreamTarget | WeightedUpstream)[]
  /** How a list of upstreams is balanced (default weighted round-robin). */
  balance?: Balance
  health?: HealthOptions
  /** Further targets tried for one request after a failure that allows it (default: every other target once). */
  retries?: number
  /** TLS settings for every `https:` upstream (a target object's own `tls` overrides them). */
  tls?: UpstreamTlsOptions
  /**
   * Per-request choice among the configured targets: return a target's URL (as given in
   * `upstream`), a list of them (balanced), or undefined for all. Anything else is a 502
   * GATEWAY_INTERNAL_ERROR for that request.
   */
  route?: (request: RequestHead) => RouteResult
  timeouts?: Timeouts
  limits?: GatewayLimits
  pool?: PoolOptions
  /**
   * The Via field added both ways (a string: its value; default `1.1 strictgate`), `false` for
   * none, or `{ value, request, response }` to choose the directions (`{ request: false }`: on
   * responses only).
   */
  via?: string | false | ViaOptions
  /** Add X-Forwarded-For / -Proto / -Host (default false: only behind trusted chains). */
  xForwarded?: boolean
  /** Named leniencies: none exist yet, and every one will be off by default. */
  lenient?: Record<string, never>
  /** Observe per-request failures; may return a custom error response. */
  onError?: OnError
}

export interface ResolvedOptions extends ResolvedRewrite {
  targets: ResolvedTarget[]
  balance: Balance
  health: ResolvedHealth
  retries: number
  route: ((request: RequestHead) => RouteResult) | null
  timeouts: Required<Timeouts>
  limits: Limits
  pool: Required<PoolOptions>
  /** The Via value added to requests and to responses; null: none that way. */
  via: { request: string | null; response: string | null }
  xForwarded: boolean
  onError: OnError | null
}

export const DEFAULT_TIMEOUTS: Required<Timeouts> = {
  connect: 5_000,
  response: 60_000,
  idle: 60_000,
  request: 30_000,
  keepAlive: 5_000,
  shutdown: 10_000,
}

/** Defaults of `pool` (of `limits`: h1/limits.ts; of `health`: health-options.ts); the CLI's --help shows them. */
export const DEFAULT_POOL = { maxSockets: 256, maxIdle: 64 }

/** Every top-level option name createGateway takes. */
export const OPTION_NAMES: readonly string[] = [
  'upstream',
  'balance',
  'health',
  'retries',
  'tls',
  'route',
  'timeouts',
  'limits',
  'pool',
  'via',
  'xForwarded',
  'lenient',
  'onError',
  ...REWRITE_KEYS,
]

/** The options that are functions: code sets them, a config file cannot. */
export const FUNCTION_OPTIONS: readonly string[] = ['route', 'onError', 'onResponse']

export function resolveOptions(input: GatewayOptions): ResolvedOptions {
  const top = checkObject(input, 'options')
  checkKeys(top, OPTION_NAMES, 'options')
  const targets = parseUpstreams(top.upstream, parseTls(top.tls, 'tls'))
  const balance = top.balance ?? 'round-robin'
  if (balance !== 'round-robin' && balance !== 'least-connections' && balance !== 'power-of-two-choices') {
    fail('balance', 'must be round-robin, least-connections or power-of-two-choices')
  }
  const health = resolveHealth(top.health)
  let retries = targets.length - 1
  if (top.retries !== undefined) {
    if (typeof top.retries !== 'number' || !Number.isInteger(top.retries) || top.retries < 0) {
      fail('retries', 'must be a non-negative integer')
    }
    retries = top.retries
  }

  const t = checkObject(top.timeouts, 'timeouts')
  checkKeys(t, Object.keys(DEFAULT_TIMEOUTS), 'timeouts')
  const timeouts = {} as Required<Timeouts>
  for (const key of Object.keys(DEFAULT_TIMEOUTS) as (keyof Timeouts)[]) {
    timeouts[key] = positiveInt(t[key], `timeouts.${key}`, DEFAULT_TIMEOUTS[key])
  }

  const l = checkObject(top.limits, 'limits')
  checkKeys(l, Object.keys(DEFAULT_LIMITS), 'limits')
  const limits: { -readonly [K in keyof Limits]: number } = { ...DEFAULT_LIMITS }
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    limits[key] = positiveInt(l[key], `limits.${key}`, DEFAULT_LIMITS[key])
  }

  const p = checkObject(top.pool, 'pool')
  checkKeys(p, ['maxSockets', 'maxIdle'], 'pool')
  const pool = {
    maxSockets: positiveInt(p.maxSockets, 'pool.maxSockets', DEFAULT_POOL.maxSockets),
    maxIdle: positiveInt(p.maxIdle, 'pool.maxIdle', DEFAULT_POOL.maxIdle),
  }

  const via = resolveVia(top.via)

  if (top.xForwarded !== undefined && typeof top.xForwarded !== 'boolean') fail('xForwarded', 'must be a boolean')
  const lenient = checkObject(top.lenient, 'lenient')
  checkKeys(lenient, [], 'lenient')
  if (top.onError !== undefined && typeof top.onError !== 'function') fail('onError', 'must be a function')
  if (top.route !== undefined && typeof top.route !== 'function') fail('route', 'must be a function')

  return {
    targets,
    balance,
    health,
    retries,
    route: (top.route as ResolvedOptions['route'] | undefined) ?? null,
    timeouts,
    limits,
    pool,
    via,
    xForwarded: top.xForwarded === true,
    onError: (top.onError as OnError | undefined) ?? null,
    ...resolveRewrite(top),
  }
}

const DEFAULT_VIA = '1.1 strictgate'

function viaValue(value: unknown, option: string): string {
  // A CR or LF here would split the message (response splitting): refuse it now.
  if (typeof value !== 'string' || value === '' || !isFieldValue(value)) {
    fail(option, 'must be a non-empty field value (visible characters, SP, HTAB)')
  }
  return value
}

/** `via`: a value both ways, false for none, or `{ value, request, response }`. */
function resolveVia(v: unknown): ResolvedOptions['via'] {
  if (v === undefined) return { request: DEFAULT_VIA, response: DEFAULT_VIA }
  if (v === false) return { request: null, response: null }
  if (typeof v === 'string') {
    const value = viaValue(v, 'via')
    return { request: value, response: value }
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    fail('via', 'must be a field value, false, or { value, request, response }')
  }
  const o = v as Record<string, unknown>
  checkKeys(o, ['value', 'request', 'response'], 'via')
  const value = o.value === undefined ? DEFAULT_VIA : viaValue(o.value, 'via.value')
  for (const side of ['request', 'response']) {
    if (o[side] !== undefined && typeof o[side] !== 'boolean') fail(`via.${side}`, 'must be a boolean')
  }
  return { request: o.request === false ? null : value, response: o.response === false ? null : value }
}

/** Validate what an onError hook returned; throws TypeError (the gateway then answers its own page). */
export function checkErrorResponse(r: ErrorResponse): void {
  if (r.status !== undefined && (!Number.isInteger(r.status) || r.status < 400 || r.status > 599)) {
    throw new TypeError('onError: status must be an integer 400-599')
  }
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (!isToken(name)) throw new TypeError(`onError: header name ${JSON.stringify(name)} is not a token`)
    if (typeof value !== 'string' || !isFieldValue(value)) {
      throw new TypeError(`onError: header ${name} has an invalid value (CR, LF or other control characters)`)
    }
  }
  if (r.body !== undefined && typeof r.body !== 'string' && !Buffer.isBuffer(r.body)) {
    throw new TypeError('onError: body must be a string or Buffer')
  }
}
