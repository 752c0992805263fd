// What one request takes upstream besides the client's own head: where it may go (proxy()'s
// options, else the route hook's result, checked the same way in both modes) and the fields the
// gateway adds. Rewriting (RouteOptions.path / host / headers) belongs here, for both modes; until
// it exists those options are refused, never ignored.

import type { RequestHead } from '../h1/head.js'
import { requestFields } from '../h1/plan.js'
import type { RouteOptions } from '../options.js'
import type { ExchangeClient } from './client.js'
import type { GatewayContext } from './context.js'
import type { Target } from './targets.js'

const ROUTE_KEYS = ['target', 'path', 'host', 'headers']
/** Route options typed already, whose behaviour (rewriting) is not built yet. */
const NOT_YET = new Set(['path', 'host', 'headers'])

/**
 * Check route options given as an object (handler()'s or proxy()'s options, a route hook's
 * result): every key known, none of the rewriting ones. Throws a TypeError naming the option;
 * `source` says whose option it is.
 */
export function checkRouteOptions(options: object, source: string): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${source} must be an object`)
  }
  for (const [key, value] of Object.entries(options)) {
    if (!ROUTE_KEYS.includes(key)) {
      throw new TypeError(`${source} "${key}" is not a known option (known: ${ROUTE_KEYS.join(', ')})`)
    }
    if (NOT_YET.has(key) && value !== undefined) {
      throw new TypeError(`${source} "${key}" is not supported yet (rewriting path, host and headers is not built)`)
    }
  }
}

/**
 * The targets a request may go to (null: all): `options.target` when given, else the route
 * hook's choice. Throws a TypeError saying what is wrong (the exchange answers it with a 502
 * GATEWAY_INTERNAL_ERROR before anything is sent upstream).
 */
export function routeTargets(
  ctx: GatewayContext,
  request: RequestHead,
  options: RouteOptions | undefined,
): Target[] | null {
  if (options !== undefined) {
    checkRouteOptions(options, 'proxy option')
    if (options.target !== undefined) return ctx.targets.routed(options.target, 'proxy option "target"')
  }
  const route = ctx.options.route
  if (route === null) return null
  let result: unknown
  try {
    result = route(request)
  } catch (err) {
    throw new TypeError(`route hook threw: ${(err as Error)?.message ?? String(err)}`)
  }
  if (typeof result === 'object' && result !== null && !Array.isArray(result)) {
    checkRouteOptions(result, 'route hook result')
    result = (result as RouteOptions).target
  }
  return ctx.targets.routed(result, 'route hook result')
}

/** The fields the gateway adds to the request: Via, X-Forwarded-*, then Host and framing. */
export function forwardedFields(
  ctx: GatewayContext,
  request: RequestHead,
  client: ExchangeClient,
  target: Target,
): string {
  let extra = ctx.viaField
  if (ctx.options.xForwarded) {
    extra += `X-Forwarded-For: ${client.remoteAddress}\r\nX-Forwarded-Proto: ${client.protocol}\r\n`
    if (request.host !== '') extra += `X-Forwarded-Host: ${request.host}\r\n`
  }
  return extra + requestFields(request, target.config.hostHeader)
}
