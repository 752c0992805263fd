// Rewriting, per exchange: what `route()` returned (or `proxy()` was given) validated into a
// RouteDecision, the request head that goes upstream, and the edit of a final response head
// (rewriteLocation, cookieDomain, cookiePath, onResponse). Every check is the one a static option gets at createGateway; here a
// failure throws a TypeError, which the exchange answers with 502 GATEWAY_INTERNAL_ERROR before
// any byte moves.

import { combineEdits, compileEdits, type HeadEdit, type Reserved } from '../h1/edits.js'
import { equalsLower } from '../h1/grammar.js'
import { headerPairs, type RequestHead, type ResponseHead } from '../h1/head.js'
import { requestFields } from '../h1/plan.js'
import { normalOrigin, rewriteLocation, rewriteSetCookie } from '../h1/rewrite.js'
import { type Allocator, type RequestRewrite, serializeRequestHead } from '../h1/serialize.js'
import { isHost, isOriginForm } from '../h1/uri.js'
import type { ResolvedOptions, ResponseView, RouteOptions } from '../options.js'
import type { ExchangeClient } from './client.js'
import type { Config } from './config.js'
import type { Target, Targets } from './targets.js'

/** How one request is routed and reshaped. */
export interface RouteDecision {
  /** The targets it may go to (null: all). */
  readonly targets: Target[] | null
  /** The request-target to send; null: the client's. */
  readonly path: string | null
  /** The Host to send; null: the client's, unless hostFromTarget. */
  readonly host: string | null
  /** Send the chosen target's authority as Host (changeOrigin, or `host: 'target'`). */
  readonly hostFromTarget: boolean
  readonly edit: HeadEdit | null
}

const ROUTE_KEYS = ['target', 'path', 'host', 'headers']

/**
 * Check route options as an object (`{ target, path, host, headers }`, and `extra` keys the
 * caller handles itself) and compile them; `method` null: no request yet (a static option), so
 * `*` may stand as a path. Throws a TypeError naming the option: `source "key" ...`.
 */
function routeOptions(
  r: Record<string, unknown>,
  method: string | null,
  targets: Targets,
  options: ResolvedOptions,
  reserved: Reserved,
  source: string,
  extra: readonly string[],
): RouteDecision {
  for (const key in r) {
    if (!ROUTE_KEYS.includes(key) && !extra.includes(key) && Object.hasOwn(r, key)) {
      throw new TypeError(`${source} "${key}" is not a known option (known: ${ROUTE_KEYS.join(', ')})`)
    }
  }
  let path: string | null = null
  if (r.path !== undefined) {
    const p = r.path
    const valid =
      typeof p === 'string' &&
      p.length <= options.limits.maxUrlBytes &&
      (isOriginForm(p) || (p === '*' && (method === null || method === 'OPTIONS')))
    if (!valid) throw new TypeError(`${source} "path" must be an origin-form request-target (or "*" for OPTIONS)`)
    path = p as string
  }
  let host: string | null = null
  let hostFromTarget = options.changeOrigin
  if (r.host === 'target') hostFromTarget = true
  else if (r.host !== undefined) {
    if (typeof r.host !== 'string' || r.host === '' || !isHost(r.host) || r.host.startsWith(':')) {
      throw new TypeError(`${source} "host" must be a Host (uri-host [ ":" port ]) or 'target'`)
    }
    host = r.host
    hostFromTarget = false
  }
  return {
    targets: r.target === undefined ? null : targets.routed(r.target, `${source} "target"`),
    path,
    host,
    hostFromTarget,
    edit: r.headers === undefined ? null : compileEdits(r.headers, `${source} "headers"`, reserved),
  }
}

/**
 * Validate what a route hook returned, or proxy()'s options (`source` names which, for the
 * message): a target URL, a list of them, `{ target, path, host, headers }`, or undefined. Null
 * when nothing changes for this request.
 */
export function decideRoute(
  result: unknown,
  request: RequestHead,
  targets: Targets,
  options: ResolvedOptions,
  reserved: Reserved,
  source: string,
): RouteDecision | null {
  if (result === undefined || result === null) {
    return options.changeOrigin ? { targets: null, path: null, host: null, hostFromTarget: true, edit: null } : null
  }
  if (typeof result === 'string' || Array.isArray(result)) {
    const routed = targets.routed(result, source)
    return { targets: routed, path: null, host: null, hostFromTarget: options.changeOrigin, edit: null }
  }
  if (typeof result !== 'object') throw new TypeError(`${source} must be a target URL, a list of them, or an object`)
  return routeOptions(result as Record<string, unknown>, request.method, targets, options, reserved, source, [])
}

/**
 * Check route options given ahead of any request (handler()'s static options): the same rules,
 * `*` allowed as a path. Throws a TypeError naming the option.
 */
export function checkRouteOptions(
  route: Record<string, unknown>,
  cfg: Config,
  source: string,
  extra: readonly string[] = [],
): void {
  routeOptions(route, null, cfg.targets, cfg.options, cfg.reserved.request, source, extra)
}

/**
 * How a request goes: proxy()'s options when given, else (or for the targets, when they name
 * none) the route hook's result. Throws a TypeError saying what is wrong.
 */
export function routeFor(cfg: Config, request: RequestHead, given: RouteOptions | undefined): RouteDecision | null {
  const { options, targets } = cfg
  const reserved = cfg.reserved.request
  const decision = given === undefined ? null : decideRoute(given, request, targets, options, reserved, 'proxy option')
  const hook = options.route
  if (hook === null)
    return given === undefined ? decideRoute(undefined, request, targets, options, reserved, '') : decision
  if (given !== undefined && given.target !== undefined) return decision
  let result: unknown
  try {
    result = hook(request)
  } catch (err) {
    throw new TypeError(`route hook threw: ${(err as Error)?.message ?? String(err)}`)
  }
  const routed = decideRoute(result, request, targets, options, reserved, 'route hook result')
  if (decision === null) return routed
  return { ...decision, targets: routed?.targets ?? null }
}

/**
 * The request head sent to `target`: rewritten as `decision` says, with the fields the gateway
 * adds (Via, X-Forwarded-*, Host, framing), in memory from `alloc`.
 */
export function upstreamHead(
  cfg: Config,
  alloc: Allocator,
  request: RequestHead,
  decision: RouteDecision | null,
  target: Target,
  client: ExchangeClient,
): Buffer {
  const rewrite = requestRewrite(decision, target)
  const fields = requestFields(request, {
    via: cfg.requestVia,
    forwarded: cfg.options.xForwarded ? { for: client.remoteAddress, proto: client.protocol } : null,
    defaultHost: rewrite?.host != null ? null : target.config.hostHeader,
  })
  return serializeRequestHead(request, fields, alloc, rewrite)
}

/** The request as it goes to `target`: null when nothing is rewritten. */
function requestRewrite(decision: RouteDecision | null, target: Target): RequestRewrite | null {
  if (decision === null) return null
  const host = decision.host ?? (decision.hostFromTarget ? target.config.hostHeader : null)
  if (decision.path === null && host === null && decision.edit === null) return null
  return { path: decision.path, host, edit: decision.edit }
}

/**
 * The edit of a final response head (not 1xx, not 101) that `target` sent for `request`, which
 * came over a `protocol` connection: Location / Content-Location and Set-Cookie values
 * rewritten in place, then what onResponse returns. Throws a TypeError for a bad hook result.
 */
export function responseEdit(
  cfg: Config,
  head: ResponseHead,
  request: RequestHead,
  target: Target,
  protocol: 'http' | 'https',
): HeadEdit | null {
  const { options } = cfg
  let values: Map<number, string> | null = null
  const { raw, fields } = head
  const from = options.rewriteLocation ? targetOrigin(target) : null
  const to = from !== null && request.host !== '' ? `${protocol}://${request.host}` : null
  const cookies = options.cookieDomain !== null || options.cookiePath !== null
  for (let i = 0; (to !== null || cookies) && i < fields.length >> 2; i++) {
    const s = fields[4 * i]
    const e = fields[4 * i + 1]
    const location = to !== null && (equalsLower(raw, s, e, 'location') || equalsLower(raw, s, e, 'content-location'))
    if (!location && !(cookies && equalsLower(raw, s, e, 'set-cookie'))) continue
    const value = raw.toString('latin1', fields[4 * i + 2], fields[4 * i + 3])
    const next = location
      ? rewriteLocation(value, from as string, to as string)
      : rewriteSetCookie(value, options.cookieDomain, options.cookiePath)
    if (next !== value) (values ??= new Map()).set(i, next)
  }
  const rewritten: HeadEdit | null = values === null ? null : { drop: null, lines: '', values }
  const hook = options.onResponse
  if (hook === null) return rewritten
  const result = hook(new ResponseCopy(head), request)
  if (result === undefined || result === null) return rewritten
  if (typeof result !== 'object') throw new TypeError('onResponse must return { headers } or nothing')
  for (const key in result) {
    if (key !== 'headers' && Object.hasOwn(result, key)) {
      throw new TypeError(`onResponse: ${key} is not something it may return (only headers)`)
    }
  }
  if (result.headers === undefined) return rewritten
  return combineEdits(rewritten, compileEdits(result.headers, 'onResponse headers', cfg.reserved.response))
}

const origins = new WeakMap<Target, string | null>()

/** A target's origin as normalOrigin writes it; null for a Unix socket (no origin to match). */
function targetOrigin(target: Target): string | null {
  let origin = origins.get(target)
  if (origin === undefined) {
    const c = target.config
    origin = c.kind === 'unix' ? null : normalOrigin(c.kind === 'tls' ? 'https' : 'http', c.hostHeader)
    origins.set(target, origin)
  }
  return origin
}

/**
 * What onResponse sees: the status, and a read-only copy of the fields made when first asked
 * for (a hook that only adds fields costs no copy).
 */
class ResponseCopy implements ResponseView {
  readonly status: number
  private readonly head: ResponseHead
  private copy: readonly (readonly [string, string])[] | null = null

  constructor(head: ResponseHead) {
    this.status = head.status
    this.head = head
  }

  get headers(): readonly (readonly [string, string])[] {
    this.copy ??= Object.freeze(headerPairs(this.head).map((pair) => Object.freeze(pair)))
    return this.copy
  }
}
