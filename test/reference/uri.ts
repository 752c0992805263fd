// RFC 3986 and RFC 9110/9112 rules for the request-target and the Host field, transcribed one
// rule per constant from the ABNF (abnf.ts), with strictgate's decisions from RULES.md marked
// where they narrow or widen the RFC.

import { ALPHA, alt, DIGIT, HEXDIG, lit, matchesAll, oneOf, opt, type Rule, range, rep, seq } from './abnf.js'

const any = (rule: Rule) => rep(0, Infinity, rule)
const some = (rule: Rule) => rep(1, Infinity, rule)

// ---- RFC 3986 §2 characters ----------------------------------------------------------------------

/** pct-encoded = "%" HEXDIG HEXDIG (RFC 3986 §2.1) */
export const pctEncoded = seq(lit('%'), HEXDIG, HEXDIG)
/** unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (§2.3) */
export const unreserved = alt(ALPHA, DIGIT, oneOf('-._~'))
/** sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=" (§2.2) */
export const subDelims = oneOf("!$&'()*+,;=")
/** pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (§3.3) */
export const pchar = alt(unreserved, pctEncoded, subDelims, oneOf(':@'))

/**
 * RULES.md's one named leniency: "{ } | ^ and backtick are accepted and forwarded as received,
 * because browsers send them raw (WHATWG URL standard)". The reference allows them wherever a
 * pchar may stand in the path or the query of a request-target, never in an authority (the Host
 * grammar is strict: RULES.md names the leniency for the target's characters only).
 */
export const lenientChar = oneOf('{}|^`')
const targetPchar = alt(pchar, lenientChar)

// ---- RFC 3986 §3.2.2 host ---------------------------------------------------------------------

/** dec-octet = DIGIT / %x31-39 DIGIT / "1" 2DIGIT / "2" %x30-34 DIGIT / "25" %x30-35 */
export const decOctet = alt(
  DIGIT,
  seq(range(0x31, 0x39), DIGIT),
  seq(lit('1'), DIGIT, DIGIT),
  seq(lit('2'), range(0x30, 0x34), DIGIT),
  seq(lit('25'), range(0x30, 0x35)),
)
/** IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet */
export const IPv4address = seq(decOctet, lit('.'), decOctet, lit('.'), decOctet, lit('.'), decOctet)
/** h16 = 1*4HEXDIG */
export const h16 = rep(1, 4, HEXDIG)
/** ls32 = ( h16 ":" h16 ) / IPv4address */
export const ls32 = alt(seq(h16, lit(':'), h16), IPv4address)
const h16c = seq(h16, lit(':'))
const upTo = (n: number) => opt(seq(rep(0, n, h16c), h16))
/**
 * IPv6address =                            6( h16 ":" ) ls32
 *             /                       "::" 5( h16 ":" ) ls32
 *             / [               h16 ] "::" 4( h16 ":" ) ls32
 *             / [ *1( h16 ":" ) h16 ] "::" 3( h16 ":" ) ls32
 *             / [ *2( h16 ":" ) h16 ] "::" 2( h16 ":" ) ls32
 *             / [ *3( h16 ":" ) h16 ] "::"    h16 ":"   ls32
 *             / [ *4( h16 ":" ) h16 ] "::"              ls32
 *             / [ *5( h16 ":" ) h16 ] "::"              h16
 *             / [ *6( h16 ":" ) h16 ] "::"
 */
export const IPv6address = alt(
  seq(rep(6, 6, h16c), ls32),
  seq(lit('::'), rep(5, 5, h16c), ls32),
  seq(opt(h16), lit('::'), rep(4, 4, h16c), ls32),
  seq(upTo(1), lit('::'), rep(3, 3, h16c), ls32),
  seq(upTo(2), lit('::'), rep(2, 2, h16c), ls32),
  seq(upTo(3), lit('::'), h16c, ls32),
  seq(upTo(4), lit('::'), ls32),
  seq(upTo(5), lit('::'), h16),
  seq(upTo(6), lit('::')),
)
/** IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
export const IPvFuture = seq(lit('v'), some(HEXDIG), lit('.'), some(alt(unreserved, subDelims, lit(':'))))
/** IP-literal = "[" ( IPv6address / IPvFuture ) "]" */
export const IPliteral = seq(lit('['), alt(IPv6address, IPvFuture), lit(']'))
/** reg-name = *( unreserved / pct-encoded / sub-delims ) */
export const regName = any(alt(unreserved, pctEncoded, subDelims))
/** host = IP-literal / IPv4address / reg-name */
export const host = alt(IPliteral, IPv4address, regName)
/** port = *DIGIT (§3.2.3) */
export const port = any(DIGIT)
/** A host that is not empty (RFC 9110 §4.2.1: an http URI with an empty host is invalid). */
const nonEmptyHost: Rule = (s: string, i: number) => host(s, i).filter((e) => e > i)

// ---- RFC 9110 §7.2 Host ---------------------------------------------------------------------------

/**
 * Host = uri-host [ ":" port ], uri-host = host (RFC 9110 §4.1, §7.2). No userinfo (there is no
 * "@" in host), port digits only, an IPv6 address only inside brackets (":" is in no reg-name).
 * uri-host may be an empty reg-name: RULES.md "an empty Host is valid and forwarded" (RFC 9112
 * §3.2: a client with no authority sends Host with an empty value).
 */
export const Host = seq(host, opt(seq(lit(':'), port)))

/**
 * RULES.md Decisions (issue 14, #17): an empty uri-host with a port (`:80`, `:`) is refused, as
 * RFC 9110 §4.2.1 has a recipient reject an http URI with an empty host; only an entirely empty
 * Host is valid. (This recognizer accepted `:80` by the bare grammar above.)
 */
export function isValidHost(value: string): boolean {
  return value === '' || matchesAll(seq(nonEmptyHost, opt(seq(lit(':'), port))), value)
}

// ---- RFC 9112 §3.2 request-target -----------------------------------------------------------

/** segment = *pchar (with the named leniency) */
const segment = any(targetPchar)
/** query = *( pchar / "/" / "?" ) (RFC 3986 §3.4, with the named leniency) */
export const query = any(alt(targetPchar, oneOf('/?')))
/** absolute-path = 1*( "/" segment ) (RFC 9110 §4.1) */
export const absolutePath = some(seq(lit('/'), segment))
/** origin-form = absolute-path [ "?" query ] (RFC 9112 §3.2.1) */
export const originForm = seq(absolutePath, opt(seq(lit('?'), query)))
/** path-abempty = *( "/" segment ) (RFC 3986 §3.3) */
const pathAbempty = any(seq(lit('/'), segment))
/**
 * absolute-form = absolute-URI (RFC 9112 §3.2.2), narrowed by RFC 9110 §4.2 to the URIs a
 * gateway serves:
 *   http-URI  = "http"  "://" authority path-abempty [ "?" query ]
 *   https-URI = "https" "://" authority path-abempty [ "?" query ]
 * with authority = uri-host [ ":" port ]: a recipient treats userinfo as an error (§4.2.4) and
 * MUST reject an empty host (§4.2.1). The scheme is case-insensitive (RFC 3986 §3.1).
 */
export const absoluteForm = seq(
  alt(lit('http'), lit('https')),
  lit('://'),
  nonEmptyHost,
  opt(seq(lit(':'), port)),
  pathAbempty,
  opt(seq(lit('?'), query)),
)
/** asterisk-form = "*" (RFC 9112 §3.2.4: OPTIONS only) */
export const asteriskForm = lit('*')

export type TargetForm = 'origin' | 'absolute' | 'asterisk'

/**
 * Which form `target` is, or null when it is none strictgate accepts (authority-form is for
 * CONNECT, which is answered 501 before its target matters).
 */
export function targetForm(target: string): TargetForm | null {
  if (matchesAll(originForm, target)) return 'origin'
  if (matchesAll(absoluteForm, target)) return 'absolute'
  if (matchesAll(asteriskForm, target)) return 'asterisk'
  return null
}
