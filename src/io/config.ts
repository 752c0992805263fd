// One configuration of the gateway, as the io/ classes use it: the resolved options and what is
// built from them (targets with their pools, the Via field, the fields edits may not touch).
// reconfigure() builds a new one; an exchange keeps the one it started with to its end.

import type { Reserved } from '../h1/edits.js'
import type { ResolvedOptions } from '../options.js'
import type { PoolWarning } from './pool.js'
import { Targets } from './targets.js'

export interface Config {
  readonly options: ResolvedOptions
  readonly targets: Targets
  /** `Via: ...\r\n` for requests, or '' when none is added to them. */
  readonly requestVia: string
  /** `Via: ...\r\n` for responses, or '' when none is added to them. */
  readonly responseVia: string
  /** Fields the gateway writes itself, which no edit may touch (rewriting.ts). */
  readonly reserved: { readonly request: Reserved; readonly response: Reserved }
  /** Response rewriting is configured (rewriteLocation, cookies, onResponse). */
  readonly rewritesResponses: boolean
}

/**
 * The configuration for `options`. With `previous`, its targets are kept where the new options
 * describe them the same way (pools, idle connections and health carry over); `warn` is where
 * the pools report what happens on no exchange's connection.
 */
export function makeConfig(options: ResolvedOptions, previous: Config | null, warn: PoolWarning): Config {
  return {
    options,
    targets: new Targets(options, warn, Math.random, previous?.targets ?? null),
    requestVia: options.via.request === null ? '' : `Via: ${options.via.request}\r\n`,
    responseVia: options.via.response === null ? '' : `Via: ${options.via.response}\r\n`,
    reserved: reservedFields(options),
    rewritesResponses: rewritesResponses(options),
  }
}

/** What edits of each direction may not touch: the fields the gateway writes itself. */
export function reservedFields(options: ResolvedOptions): { request: Reserved; response: Reserved } {
  const request = new Map([['host', 'set `host` instead']])
  const response = new Map<string, string>()
  if (options.via.request !== null) request.set('via', 'the gateway adds Via: set the `via` option')
  if (options.via.response !== null) response.set('via', 'the gateway adds Via: set the `via` option')
  if (options.xForwarded) {
    for (const name of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']) {
      request.set(name, 'the gateway adds it: turn `xForwarded` off to set it yourself')
    }
  }
  return { request, response }
}

/** Whether any response rewriting is configured (otherwise `responseEdit` is never called). */
export function rewritesResponses(options: ResolvedOptions): boolean {
  return (
    options.rewriteLocation ||
    options.cookieDomain !== null ||
    options.cookiePath !== null ||
    options.onResponse !== null
  )
}
