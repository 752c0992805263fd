// The command line's rewriting flags (--route, --strip-prefix, --change-origin,
// --rewrite-location, --cookie-domain, --cookie-path, --request-header, --response-header),
// turned into the gateway's options: a route() of prefixes and an onResponse() of fixed edits.
// Every value is checked here, so a bad flag exits 2 with its name, never fails a request.

import { UsageError } from './cli-usage.js'
import { compileEdits } from './h1/edits.js'
import { originForm } from './h1/serialize.js'
import { isOriginForm } from './h1/uri.js'
import type { GatewayOptions, RouteOptions } from './options.js'

/** `--route PREFIX=URL`: requests whose path is PREFIX or below it go to URL. */
interface Prefix {
  readonly prefix: string
  readonly url: string
}

export interface RewriteFlags {
  route: string[]
  stripPrefix: boolean
  changeOrigin: boolean
  rewriteLocation: boolean
  cookieDomain: string[]
  cookiePath: string[]
  requestHeader: string[]
  responseHeader: string[]
}

function pair(flag: string, value: string, separator: string): [string, string] {
  const at = value.indexOf(separator)
  if (at <= 0) throw new UsageError(`--${flag} must be FROM${separator}TO, got ${JSON.stringify(value)}`)
  return [value.slice(0, at), value.slice(at + separator.length)]
}

/** `Name: value` lines into edits (an empty value removes the field), checked like any edit. */
function fieldEdits(flag: string, lines: string[]): Record<string, string[] | null> | null {
  if (lines.length === 0) return null
  const edits: Record<string, string[] | null> = {}
  const names = new Map<string, string>()
  for (const line of lines) {
    const [rawName, rawValue] = pair(flag, line, ':')
    const value = rawValue.trim()
    const name = names.get(rawName.toLowerCase()) ?? rawName
    names.set(name.toLowerCase(), name)
    if (value === '') edits[name] = null
    else edits[name] = [...(edits[name] ?? []), value]
  }
  try {
    compileEdits(edits, `--${flag}`, new Map([['host', 'use --change-origin']]))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  return edits
}

function cookieMap(flag: string, values: string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined
  return Object.fromEntries(values.map((v) => pair(flag, v, '=')))
}

/** Whether `path` is `prefix` or below it, on a segment boundary (`/api` holds `/api/x`, not `/apix`). */
function under(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false
  if (path.length === prefix.length || prefix.endsWith('/')) return true
  const next = path.charCodeAt(prefix.length)
  return next === 0x2f || next === 0x3f
}

/**
 * The options the rewriting flags make, and the targets the routes need besides --upstream.
 * Requests no prefix holds go to the --upstream targets (then there must be some, or a `/`
 * route).
 */
export function rewriteOptions(
  flags: RewriteFlags,
  upstreams: readonly string[],
): { options: Partial<GatewayOptions>; targets: string[] } {
  const routes: Prefix[] = flags.route.map((value) => {
    const [prefix, url] = pair('route', value, '=')
    if (!isOriginForm(prefix) || prefix.includes('?')) {
      throw new UsageError(`--route prefix must be a path starting with "/", got ${JSON.stringify(prefix)}`)
    }
    if (!/^(https?:\/\/|unix:\/)/.test(url)) {
      throw new UsageError(`--route target must be an http://, https:// or unix: URL, got ${JSON.stringify(url)}`)
    }
    return { prefix, url }
  })
  const targets = [...new Set(routes.map((r) => r.url))].filter((u) => !upstreams.includes(u))
  // Longest prefix first: the most specific route wins.
  routes.sort((a, b) => b.prefix.length - a.prefix.length)
  const catchAll = routes.some((r) => r.prefix === '/')
  if (routes.length > 0 && upstreams.length === 0 && !catchAll) {
    throw new UsageError('--route needs --upstream (or a --route /=URL) for the requests no prefix holds')
  }
  const requestEdits = fieldEdits('request-header', flags.requestHeader)
  const responseEdits = fieldEdits('response-header', flags.responseHeader)
  const options: Partial<GatewayOptions> = {}
  if (flags.changeOrigin) options.changeOrigin = true
  if (flags.rewriteLocation) options.rewriteLocation = true
  const domain = cookieMap('cookie-domain', flags.cookieDomain)
  if (domain !== undefined) options.cookieDomain = domain
  const path = cookieMap('cookie-path', flags.cookiePath)
  if (path !== undefined) options.cookiePath = path
  if (flags.stripPrefix && routes.length === 0) throw new UsageError('--strip-prefix needs --route')
  if (routes.length > 0 || requestEdits !== null) {
    const defaults = upstreams.length === 0 ? undefined : [...upstreams]
    const strip = flags.stripPrefix
    options.route = (request) => {
      const result: RouteOptions = {}
      if (requestEdits !== null) result.headers = requestEdits
      const target = originForm(request)
      const route = routes.find((r) => under(target, r.prefix))
      if (route === undefined) {
        if (defaults !== undefined && routes.length > 0) result.target = defaults
        return result
      }
      result.target = route.url
      if (strip && route.prefix !== '/') {
        const rest = target.slice(route.prefix.length)
        result.path = rest.startsWith('/') ? rest : `/${rest}`
      }
      return result
    }
  }
  if (responseEdits !== null) options.onResponse = () => ({ headers: responseEdits })
  return { options, targets }
}
