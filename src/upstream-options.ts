// The upstream targets as options: URLs, { host, port }, weights and TLS settings, parsed and
// validated into ResolvedTarget.

import { checkKeys, checkObject, fail, positiveInt } from './option-checks.js'

export interface UpstreamTarget {
  host: string
  port: number
}

/** TLS settings for `https:` upstreams (node:tls connect options; SNI defaults to the target host). */
export interface UpstreamTlsOptions {
  ca?: string | Buffer | (string | Buffer)[]
  cert?: string | Buffer
  key?: string | Buffer
  servername?: string
  /** Verify the upstream's certificate (default true). */
  rejectUnauthorized?: boolean
}

/** One upstream in a list: a URL (`http://`, `https://`, `unix:/path`), a weight, its own TLS settings. */
export interface WeightedUpstream {
  url: string
  weight?: number
  tls?: UpstreamTlsOptions
}

/** One upstream target, resolved. */
export interface ResolvedTarget {
  /** As given, for logs and stats. */
  url: string
  kind: 'tcp' | 'tls' | 'unix'
  host: string
  port: number
  /** Unix socket path (kind 'unix'). */
  path: string
  /** Host field sent when the client's request has none (HTTP/1.0). */
  hostHeader: string
  weight: number
  tls: UpstreamTlsOptions | null
}

const TLS_KEYS = ['ca', 'cert', 'key', 'servername', 'rejectUnauthorized']

export function parseTls(value: unknown, option: string): UpstreamTlsOptions | undefined {
  if (value === undefined) return undefined
  const obj = checkObject(value, option)
  checkKeys(obj, TLS_KEYS, option)
  if (obj.rejectUnauthorized !== undefined && typeof obj.rejectUnauthorized !== 'boolean') {
    fail(`${option}.rejectUnauthorized`, 'must be a boolean')
  }
  if (obj.servername !== undefined && (typeof obj.servername !== 'string' || obj.servername === '')) {
    fail(`${option}.servername`, 'must be a non-empty string')
  }
  return obj as UpstreamTlsOptions
}

function parseTarget(value: unknown, option: string, tls: UpstreamTlsOptions | undefined): ResolvedTarget {
  let weight = 1
  if (typeof value === 'object' && value !== null && 'url' in value) {
    const obj = checkObject(value, option)
    checkKeys(obj, ['url', 'weight', 'tls'], option)
    weight = positiveInt(obj.weight, `${option}.weight`, 1)
    tls = parseTls(obj.tls, `${option}.tls`) ?? tls
    value = obj.url
  }
  if (typeof value === 'string') {
    if (value.startsWith('unix:')) {
      const path = value.slice(5)
      if (!path.startsWith('/')) fail(option, `unix: target needs an absolute path, got ${JSON.stringify(value)}`)
      return { url: value, kind: 'unix', host: 'localhost', port: 0, path, hostHeader: 'localhost', weight, tls: null }
    }
    let url: URL
    try {
      url = new URL(value)
    } catch {
      fail(option, `must be an http://, https:// or unix: URL or { host, port }, got ${JSON.stringify(value)}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      fail(option, `must use http:, https: or unix: (got ${url.protocol})`)
    }
    if (url.username !== '' || url.password !== '') fail(option, 'must not contain credentials')
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
      fail(option, 'must not have a path, query or fragment')
    }
    const secure = url.protocol === 'https:'
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port)
    return {
      url: value,
      kind: secure ? 'tls' : 'tcp',
      host,
      port,
      path: '',
      hostHeader: url.host,
      weight,
      tls: secure ? (tls ?? {}) : null,
    }
  }
  const obj = checkObject(value, option)
  if (value === undefined) fail(option, 'is required')
  checkKeys(obj, ['host', 'port'], option)
  if (typeof obj.host !== 'string' || obj.host === '') fail(`${option}.host`, 'must be a non-empty string')
  const port = obj.port
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    fail(`${option}.port`, 'must be an integer 1-65535')
  }
  const host = obj.host
  const hostHeader = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  return { url: `http://${hostHeader}`, kind: 'tcp', host, port, path: '', hostHeader, weight, tls: null }
}

export function parseUpstreams(value: unknown, tls: UpstreamTlsOptions | undefined): ResolvedTarget[] {
  if (!Array.isArray(value)) return [parseTarget(value, 'upstream', tls)]
  if (value.length === 0) fail('upstream', 'must name at least one target')
  return value.map((v, i) => parseTarget(v, `upstream[${i}]`, tls))
}
