// Byte classes of RFC 9110 §5.6.2 (token), §5.5 (field-value) and RFC 9112 §4 (reason-phrase),
// as 256-entry lookup tables so the hot loops are one load per byte. (The request-target's and
// Host's: uri.ts.)

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256)
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0
  return t
}

const TCHAR_PUNCT = "!#$%&'*+-.^_`|~"

/** tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
export const TOKEN = table(
  (c) =>
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    TCHAR_PUNCT.includes(String.fromCharCode(c)),
)

/** reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) */
export const REASON = table((c) => c === 0x09 || c === 0x20 || (c >= 0x21 && c <= 0x7e) || c >= 0x80)

/** field-vchar / SP / HTAB: what a field value may hold (no CTL but HTAB, obs-text allowed). */
export const FIELD_VALUE = REASON

export const DIGIT = table((c) => c >= 0x30 && c <= 0x39)

export const HEXDIG = table((c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66))

export function isToken(s: string): boolean {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff || TOKEN[c] === 0) return false
  }
  return true
}

/** A field value users may supply: visible characters, SP and HTAB, no leading/trailing whitespace. */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0xff || FIELD_VALUE[c] === 0) return false
  }
  return s.length === 0 || (s.charCodeAt(0) > 0x20 && s.charCodeAt(s.length - 1) > 0x20)
}

/** Start of `buf[start, end)` with RFC 9110 OWS (SP / HTAB) trimmed from its front. */
export function owsStart(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === 0x20 || buf[start] === 0x09)) start++
  return start
}

/** End of `buf[start, end)` with OWS trimmed from its back (`start` from `owsStart` trims both ends). */
export function owsEnd(buf: Uint8Array, start: number, end: number): number {
  while (end > start && (buf[end - 1] === 0x20 || buf[end - 1] === 0x09)) end--
  return end
}

/**
 * Whether `buf[start, end)` is `lower` (a lowercase string) but for the case of its letters:
 * only A-Z are folded, so any token compares right (equalsLower, faster, folds bit 0x20 of every
 * byte and suits names of letters and '-' only).
 */
export function equalsIgnoringCase(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    const c = buf[start + i]
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(i)) return false
  }
  return true
}

/** ASCII case-insensitive comparison of `buf[start, end)` with a lowercase ASCII string. */
export function equalsLower(buf: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    if ((buf[start + i] | 0x20) !== lower.charCodeAt(i)) return false
  }
  return true
}
