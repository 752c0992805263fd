// The rewriting options (changeOrigin, onResponse, rewriteLocation, cookieDomain, cookiePath),
// validated at createGateway: a bad static value throws a TypeError naming the option.

import type { RequestHead } from './h1/head.js'
import type { CookieRewrite } from './h1/rewrite.js'
import { fail } from './option-checks.js'

/** The final response head as onResponse sees it: a read-only copy. */
export interface ResponseView {
  readonly status: number
  readonly headers: readonly (readonly [name: string, value: string])[]
}

/**
 * Runs once the final response head passed every check, before a byte of it is relayed (never
 * for 1xx or 101). It may return `{ headers }`: per name, the value(s) that replace all fields of
 * that name, or null to remove them (the same rules as a route's `headers`).
 */
export type OnResponse = (
  response: ResponseView,
  request: RequestHead,
) => { headers?: Record<string, string | string[] | null> } | undefined | void

export interface RewriteOptions {
  /** Send every request with the chosen target's authority as Host (node-http-proxy's changeOrigin). */
  changeOrigin?: boolean
  onResponse?: OnResponse
  /** Absolute Location / Content-Location URLs at the target's origin go to the client-facing origin. */
  rewriteLocation?: boolean
  /** Set-Cookie Domain: every one to this value, or a map from → to (`'*'`: any; `''`: remove). */
  cookieDomain?: CookieRewrite
  /** Set-Cookie Path, the same way. */
  cookiePath?: CookieRewrite
}

export interface ResolvedRewrite {
  changeOrigin: boolean
  onResponse: OnResponse | null
  rewriteLocation: boolean
  cookieDomain: CookieRewrite | null
  cookiePath: CookieRewrite | null
}

export const REWRITE_KEYS = ['changeOrigin', 'onResponse', 'rewriteLocation', 'cookieDomain', 'cookiePath'] as const

/** cookie-av value bytes (RFC 6265 §4.1.1 av-octet: any CHAR but CTLs and ";"), no edge whitespace. */
function isAttributeValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c > 0x7e || c === 0x3b) return false
  }
  return s.trim() === s
}

function cookieRewrite(value: unknown, option: string): CookieRewrite | null {
  if (value === undefined) return null
  if (typeof value === 'string') {
    if (value === '' || !isAttributeValue(value))
      fail(option, 'must be a cookie attribute value (no ";", no control characters)')
    return value
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(option, 'must be a string or an object mapping values to values')
  }
  for (const [from, to] of Object.entries(value)) {
    if (from === '' || !isAttributeValue(from))
      fail(`${option}[${JSON.stringify(from)}]`, 'is not a cookie attribute value')
    if (typeof to !== 'string' || !isAttributeValue(to)) {
      fail(`${option}[${JSON.stringify(from)}]`, "must map to a cookie attribute value, or '' to remove the attribute")
    }
  }
  return value as Record<string, string>
}

function flag(value: unknown, option: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') fail(option, 'must be a boolean')
  return value === true
}

export function resolveRewrite(top: Record<string, unknown>): ResolvedRewrite {
  if (top.onResponse !== undefined && typeof top.onResponse !== 'function') fail('onResponse', 'must be a function')
  return {
    changeOrigin: flag(top.changeOrigin, 'changeOrigin'),
    onResponse: (top.onResponse as OnResponse | undefined) ?? null,
    rewriteLocation: flag(top.rewriteLocation, 'rewriteLocation'),
    cookieDomain: cookieRewrite(top.cookieDomain, 'cookieDomain'),
    cookiePath: cookieRewrite(top.cookiePath, 'cookiePath'),
  }
}
