// Field edits (rewriting), validated like input and applied without any chance to inject a
// field, reframe a message or smuggle: names are tokens, values are field values (no CR, LF,
// NUL or other CTL but HTAB), and no edit may set or remove a framing, hop-by-hop or routing
// field (RFC 9110 §7.6.1, RFC 9112 §6) nor one the gateway adds itself.

import { isFieldValue, isToken } from './grammar.js'

/** Fields no edit may set or remove, in either direction. */
const PROTECTED = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'upgrade',
  'proxy-connection',
])

/**
 * A head's edits, compiled: the fields whose received lines are dropped (lowercased names), the
 * lines put in their place (after the received fields), and per received field a new value
 * (Location, Set-Cookie rewriting), by field index.
 */
export interface HeadEdit {
  /** Lowercased names, each once. */
  readonly drop: readonly string[] | null
  /** Field lines, each `Name: value` CRLF. */
  readonly lines: string
  readonly values: ReadonlyMap<number, string> | null
}

/** What the caller adds to PROTECTED: names that are the gateway's to write (Host, Via, X-Forwarded-*). */
export type Reserved = ReadonlyMap<string, string>

/**
 * Compile `headers` (per name: a value, a list of values, or null to remove) into an edit.
 * `reserved` maps lowercased names to why an edit may not touch them. Throws a TypeError that
 * starts with `what` and names the field.
 */
export function compileEdits(headers: unknown, what: string, reserved: Reserved): HeadEdit {
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw new TypeError(`${what} must be an object of field names`)
  }
  // (Per request for a hook's result: no iterator or entry arrays, names deduplicated in a list.)
  const record = headers as Record<string, unknown>
  const drop: string[] = []
  let lines = ''
  for (const name in record) {
    if (!Object.hasOwn(record, name)) continue
    const lower = name.toLowerCase()
    if (!isToken(name)) throw new TypeError(`${what}: field name ${JSON.stringify(name)} is not a token`)
    if (PROTECTED.has(lower)) {
      throw new TypeError(`${what}: ${name} is a framing or hop-by-hop field, which no edit may set or remove`)
    }
    const why = reserved.get(lower)
    if (why !== undefined) throw new TypeError(`${what}: ${name} cannot be edited (${why})`)
    if (drop.includes(lower)) throw new TypeError(`${what}: ${name} is given twice (names are case-insensitive)`)
    drop.push(lower)
    const value = record[name]
    if (value === null) continue
    if (typeof value === 'string') lines += line(what, name, value)
    else if (Array.isArray(value)) for (const v of value) lines += line(what, name, v)
    else line(what, name, value)
  }
  return { drop, lines, values: null }
}

/** `name: value` CRLF, or a TypeError when `value` is not a field value. */
function line(what: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || !isFieldValue(value)) {
    throw new TypeError(
      `${what}: ${name} must be a field value (no CR, LF, NUL or other control characters, no leading or trailing whitespace), a list of them, or null`,
    )
  }
  return `${name}: ${value}\r\n`
}

/** Both edits in one: `b`'s names and lines after `a`'s, `b` winning a name both touch. */
export function combineEdits(a: HeadEdit | null, b: HeadEdit | null): HeadEdit | null {
  if (a === null) return b
  if (b === null) return a
  const drop = [...new Set([...(a.drop ?? []), ...(b.drop ?? [])])]
  let lines = ''
  for (const line of a.lines.split('\r\n')) {
    if (line === '') continue
    const lower = line.slice(0, line.indexOf(':')).toLowerCase()
    if (b.drop?.includes(lower) !== true) lines += `${line}\r\n`
  }
  const values = a.values === null ? b.values : b.values === null ? a.values : new Map([...a.values, ...b.values])
  return { drop, lines: lines + b.lines, values }
}
