// Rewriting what an upstream says about itself so the client sees the gateway instead: absolute
// Location / Content-Location URLs at the target's origin (RFC 9110 §10.2.2, §8.7), and the
// Domain and Path attributes of Set-Cookie (RFC 6265 §4.1). Pure: values in, values out; a
// value that is not rewritten is returned as it is (the same string).

/** A cookie attribute rewrite: every value becomes this one, or a map from → to (`'*'`: any; `''`: remove). */
export type CookieRewrite = string | Readonly<Record<string, string>>

const DEFAULT_PORT: Readonly<Record<string, string>> = { http: '80', https: '443' }

/**
 * `scheme://authority` in the form origins are compared in: scheme and host lowercased, the
 * scheme's default port dropped (RFC 3986 §6.2.2, §6.2.3). Null for anything else.
 */
export function normalOrigin(scheme: string, authority: string): string | null {
  const s = scheme.toLowerCase()
  let a = authority.toLowerCase()
  const colon = a.lastIndexOf(':')
  if (colon >= 0 && colon > a.lastIndexOf(']') && a.slice(colon + 1) === (DEFAULT_PORT[s] ?? '')) a = a.slice(0, colon)
  if (a === '' || a.includes('@')) return null
  return `${s}://${a}`
}

const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s

/**
 * `value` with its origin replaced by `to` when it is an absolute URL at `from` (a normalOrigin);
 * relative references and other origins are left alone.
 */
export function rewriteLocation(value: string, from: string, to: string): string {
  const m = ABSOLUTE.exec(value)
  if (m === null || normalOrigin(m[1], m[2]) !== from) return value
  return to + m[3]
}

/** Domain attribute values compare without case and without a leading dot (RFC 6265 §5.2.3). */
function domainKey(value: string): string {
  return (value.startsWith('.') ? value.slice(1) : value).toLowerCase()
}

function mapped(rewrite: CookieRewrite, value: string, domain: boolean): string | undefined {
  if (typeof rewrite === 'string') return rewrite
  const key = domain ? domainKey(value) : value
  for (const [from, to] of Object.entries(rewrite)) {
    if (from !== '*' && (domain ? domainKey(from) : from) === key) return to
  }
  return rewrite['*']
}

/**
 * One Set-Cookie field value with its Domain and Path attributes rewritten: each attribute is
 * replaced (same name as sent, new value) or removed with its ";", other attributes and their
 * order kept.
 */
export function rewriteSetCookie(value: string, domain: CookieRewrite | null, path: CookieRewrite | null): string {
  const parts = value.split(';')
  let changed = false
  const out = [parts[0]]
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]
    const eq = part.indexOf('=')
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase()
    const rewrite = name === 'domain' ? domain : name === 'path' ? path : null
    if (rewrite === null || eq < 0) {
      out.push(part)
      continue
    }
    const current = part.slice(eq + 1).trim()
    const next = mapped(rewrite, current, name === 'domain')
    if (next === undefined || next === current) {
      out.push(part)
      continue
    }
    changed = true
    if (next !== '') out.push(`${part.slice(0, eq + 1)}${next}`)
  }
  return changed ? out.join(';') : value
}
