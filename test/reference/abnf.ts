// A tiny ABNF engine (RFC 5234) for the reference recognizer: every rule is a function from a
// string and a start index to ALL the indexes where a match of the rule starting there can end.
// Alternation and repetition then backtrack exactly as the ABNF reads, with no cleverness: slow
// and obvious on purpose. Strings are latin1 (one character per byte).
//
// This file and the recognizer (abnf, uri, rules, head, body, message) share no code with src/:
// they import nothing but each other. The comparison with strictgate (compare.ts) and the tests
// reach the parsers through test/helpers/split.ts only.

/** A grammar rule: the end indexes of every match of the rule that starts at `i`, ascending. */
export type Rule = (s: string, i: number) => number[]

function uniqueSorted(ends: Iterable<number>): number[] {
  return [...new Set(ends)].sort((a, b) => a - b)
}

/** One byte whose code is in [lo, hi] (ABNF %xLO-HI). */
export function range(lo: number, hi: number): Rule {
  return (s, i) => {
    if (i >= s.length) return []
    const c = s.charCodeAt(i)
    return c >= lo && c <= hi ? [i + 1] : []
  }
}

/** One byte out of `set` (an ABNF alternation of single-character literals). */
export function oneOf(set: string): Rule {
  return (s, i) => (i < s.length && set.includes(s[i]) ? [i + 1] : [])
}

/**
 * A literal: ABNF "quoted strings" are case-insensitive (RFC 5234 §2.3), %s"..." strings are
 * case-sensitive (RFC 7405).
 */
export function lit(text: string, caseSensitive = false): Rule {
  const want = caseSensitive ? text : text.toLowerCase()
  return (s, i) => {
    const got = s.slice(i, i + text.length)
    return (caseSensitive ? got : got.toLowerCase()) === want ? [i + text.length] : []
  }
}

/** Concatenation: `a b c`. */
export function seq(...rules: Rule[]): Rule {
  return (s, i) => {
    let ends = [i]
    for (const rule of rules) {
      const next: number[] = []
      for (const e of ends) next.push(...rule(s, e))
      ends = uniqueSorted(next)
      if (ends.length === 0) return []
    }
    return ends
  }
}

/** Alternation: `a / b / c` (every alternative is tried: ABNF alternation is not ordered). */
export function alt(...rules: Rule[]): Rule {
  return (s, i) => uniqueSorted(rules.flatMap((rule) => rule(s, i)))
}

/**
 * Repetition `min*max rule` (max may be Infinity). A repetition of the inner rule that matched
 * nothing adds no new end, so `*( x )` with an `x` that can match empty still terminates.
 */
export function rep(min: number, max: number, rule: Rule): Rule {
  return (s, i) => {
    const out = new Set<number>()
    if (min === 0) out.add(i)
    let frontier = [i]
    const seen = new Set<number>([i])
    for (let n = 1; n <= max && frontier.length > 0; n++) {
      const next = new Set<number>()
      for (const p of frontier) for (const e of rule(s, p)) next.add(e)
      // Past `min`, an end reached before is a repetition that consumed nothing new.
      frontier = [...next].filter((e) => n <= min || !seen.has(e))
      for (const e of frontier) seen.add(e)
      if (n >= min) for (const e of next) out.add(e)
    }
    return uniqueSorted(out)
  }
}

/** `[ rule ]` */
export const opt = (rule: Rule): Rule => rep(0, 1, rule)

/** A rule referenced before it is defined (recursive or forward references). */
export function ref(get: () => Rule): Rule {
  return (s, i) => get()(s, i)
}

/** The whole of `s` is one match of `rule`. */
export function matchesAll(rule: Rule, s: string): boolean {
  return rule(s, 0).includes(s.length)
}

// ---- RFC 5234 Appendix B.1 core rules -----------------------------------------------------------

/** ALPHA = %x41-5A / %x61-7A */
export const ALPHA = alt(range(0x41, 0x5a), range(0x61, 0x7a))
/** DIGIT = %x30-39 */
export const DIGIT = range(0x30, 0x39)
/** HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F" (case-insensitive: "a"-"f" too) */
export const HEXDIG = alt(DIGIT, range(0x41, 0x46), range(0x61, 0x66))
/** VCHAR = %x21-7E */
export const VCHAR = range(0x21, 0x7e)
/** SP = %x20, HTAB = %x09 */
export const SP = range(0x20, 0x20)
export const HTAB = range(0x09, 0x09)

// ---- RFC 9110 §5.5, §5.6 -------------------------------------------------------------------------

/** obs-text = %x80-FF */
export const obsText = range(0x80, 0xff)
/** tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA */
export const tchar = alt(oneOf("!#$%&'*+-.^_`|~"), DIGIT, ALPHA)
/** token = 1*tchar */
export const token = rep(1, Infinity, tchar)
/** OWS = *( SP / HTAB ); BWS = OWS */
export const OWS = rep(0, Infinity, alt(SP, HTAB))
export const BWS = OWS
/** qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text */
export const qdtext = alt(HTAB, SP, range(0x21, 0x21), range(0x23, 0x5b), range(0x5d, 0x7e), obsText)
/** quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
export const quotedPair = seq(lit('\\'), alt(HTAB, SP, VCHAR, obsText))
/** quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE */
export const quotedString = seq(lit('"'), rep(0, Infinity, alt(qdtext, quotedPair)), lit('"'))

// ---- byte predicates for the byte-by-byte parts of the recognizer (the same classes) ----------

const one = (rule: Rule) => (c: number) => c >= 0 && c <= 0xff && rule(String.fromCharCode(c), 0).length > 0

export const isDigit = one(DIGIT)
export const isHexdig = one(HEXDIG)
export const isTchar = one(tchar)
export const isVchar = one(VCHAR)
export const isObsText = one(obsText)
export const isQdtext = one(qdtext)
/** The byte after "\" in a quoted-pair. */
export const isQuotable = one(alt(HTAB, SP, VCHAR, obsText))
/** field-vchar = VCHAR / obs-text; with SP and HTAB, what a field value may hold (RFC 9110 §5.5). */
export const isFieldValueByte = one(alt(VCHAR, obsText, SP, HTAB))
/** reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) (RFC 9112 §4): the same bytes. */
export const isReasonByte = isFieldValueByte
export const isWhitespace = (c: number): boolean => c === 0x20 || c === 0x09

export const CR = 0x0d
export const LF = 0x0a
