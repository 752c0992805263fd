// The URI pieces HTTP/1.1 carries in a head: the origin-form request-target (RFC 9112 §3.2.1)
// and the Host field value (RFC 9110 §7.2), each by the ABNF of RFC 3986. One named leniency:
// `{ } | ^` and backtick are accepted in a request-target (and forwarded as received), because
// browsers send them raw (WHATWG URL standard); nothing else outside the grammar is.

import { HEXDIG } from './grammar.js'

function table(chars: string): Uint8Array {
  const t = new Uint8Array(256)
  for (const ch of chars) t[ch.charCodeAt(0)] = 1
  return t
}

const ALPHA_DIGIT = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" */
const UNRESERVED = `${ALPHA_DIGIT}-._~`
/** sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=" */
const SUB_DELIMS = "!$&'()*+,;="
/** What browsers send raw in a path or query although RFC 3986 has no place for it. */
const BROWSER_RAW = '{}|^`'

/**
 * Bytes of an origin-form target other than pct-encoded ones: pchar = unreserved / sub-delims /
 * ":" / "@", and "/" and "?" (absolute-path [ "?" query ]), plus the browsers' raw characters.
 */
export const TARGET_CHARS = table(`${UNRESERVED}${SUB_DELIMS}:@/?${BROWSER_RAW}`)

/** reg-name = *( unreserved / pct-encoded / sub-delims ) (pct-encoded checked apart). */
const REG_NAME = table(`${UNRESERVED}${SUB_DELIMS}`)

/**
 * Bytes an absolute-form target's authority (RFC 9112 §3.2.2) may hold: those of reg-name,
 * pct-encoded, IP-literal (IPv6address, IPvFuture) and port. The byte-level gate of the scanner;
 * `isAuthority` checks the grammar once the authority is complete.
 */
export const AUTHORITY_CHARS = table(`${UNRESERVED}${SUB_DELIMS}%:[]`)

/** Whether `s[i, i + 3)` is pct-encoded: "%" HEXDIG HEXDIG. */
function pctEncoded(s: string, i: number): boolean {
  return (
    s.charCodeAt(i) === 0x25 &&
    i + 2 < s.length &&
    HEXDIG[s.charCodeAt(i + 1) & 0xff] === 1 &&
    HEXDIG[s.charCodeAt(i + 2) & 0xff] === 1 &&
    s.charCodeAt(i + 1) < 0x80 &&
    s.charCodeAt(i + 2) < 0x80
  )
}

/** origin-form = absolute-path [ "?" query ] (RFC 9112 §3.2.1), with the browsers' leniency. */
export function isOriginForm(s: string): boolean {
  if (s.charCodeAt(0) !== 0x2f) return false
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25) {
      if (!pctEncoded(s, i)) return false
      i += 2
    } else if (c > 0xff || TARGET_CHARS[c] !== 1) {
      return false
    }
  }
  return true
}

/** `s[from, to)` is reg-name (possibly empty), IPv4address included (its syntax is a reg-name's). */
function isRegName(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25) {
      if (!pctEncoded(s, i) || i + 2 >= to) return false
      i += 2
    } else if (c > 0xff || REG_NAME[c] !== 1) {
      return false
    }
  }
  return true
}

/**
 * IPv6address (RFC 3986 §3.2.2): up to eight h16 groups separated by ":", at most one "::"
 * standing for one or more zero groups, the last two groups possibly an IPv4address.
 */
export function isIPv6(s: string): boolean {
  const double = s.indexOf('::')
  if (double !== s.lastIndexOf('::')) return false
  const parts = double < 0 ? [s] : [s.slice(0, double), s.slice(double + 2)]
  let groups = 0
  for (let p = 0; p < parts.length; p++) {
    if (parts[p] === '') continue
    const pieces = parts[p].split(':')
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]
      const last = p === parts.length - 1 && i === pieces.length - 1
      if (last && piece.includes('.')) {
        if (!isIPv4(piece)) return false
        groups += 2
      } else if (/^[0-9A-Fa-f]{1,4}$/.test(piece)) {
        groups += 1
      } else {
        return false
      }
    }
  }
  return double < 0 ? groups === 8 : groups <= 7
}

/** IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet (no leading zeros). */
function isIPv4(s: string): boolean {
  const octets = s.split('.')
  return octets.length === 4 && octets.every((o) => /^(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/.test(o))
}

/** IP-literal = "[" ( IPv6address / IPvFuture ) "]"; `inner` is what stands between the brackets. */
function isIPLiteral(inner: string): boolean {
  // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
  const future = /^[vV][0-9A-Fa-f]+\.([A-Za-z0-9\-._~!$&'()*+,;=:]+)$/.test(inner)
  return future || isIPv6(inner)
}

/**
 * Host = uri-host [ ":" port ] (RFC 9110 §7.2); uri-host = IP-literal / IPv4address / reg-name,
 * port = *DIGIT (RFC 3986 §3.2.2, §3.2.3). No userinfo ("@" is not in reg-name); an IPv6 address
 * only in brackets. An empty Host is valid: the target URI has no authority (RFC 9112 §3.2). An
 * empty host with a port (`:80`) is not: it stands for an http URI with an empty host, which a
 * recipient MUST reject (RFC 9110 §4.2.1; RULES.md Decisions).
 */
export function isHost(s: string): boolean {
  return s === '' || isAuthority(s)
}

/**
 * `isHost` of the latin1 bytes `buf[start, end)` (a field value): the usual reg-name [ ":" port ]
 * is decided by a table lookup per byte; anything else (an IP literal, pct-encoding, an empty
 * host, a byte outside the grammar) by `isHost` on the decoded value.
 */
export function isHostIn(buf: Buffer, start: number, end: number): boolean {
  let i = start
  while (i < end && REG_NAME[buf[i]] === 1) i++
  if (i > start) {
    if (i === end) return true
    if (buf[i] === 0x3a) {
      let j = i + 1
      while (j < end && buf[j] >= 0x30 && buf[j] <= 0x39) j++
      if (j === end) return true
    }
  }
  return isHost(buf.toString('latin1', start, end))
}

/**
 * uri-host [ ":" port ] with a non-empty uri-host: a Host that is not empty, and the authority of
 * an absolute-form target (RFC 9110 §4.2.1: an http URI with an empty host is invalid; §4.2.4:
 * userinfo is an error).
 */
export function isAuthority(s: string): boolean {
  let hostEnd = s.length
  if (s.charCodeAt(0) === 0x5b) {
    const close = s.indexOf(']')
    if (close < 0 || !isIPLiteral(s.slice(1, close))) return false
    hostEnd = close + 1
    if (hostEnd < s.length && s.charCodeAt(hostEnd) !== 0x3a) return false
  } else {
    const colon = s.indexOf(':')
    if (colon >= 0) hostEnd = colon
    if (hostEnd === 0 || !isRegName(s, 0, hostEnd)) return false
  }
  for (let i = hostEnd + 1; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}
