// The byte classes of src/h1/grammar.ts, checked for all 256 bytes against the ABNF of RFC 9110
// §5.6.2 / §5.5 and RFC 9112 §4, written out here independently (the request-target's: uri.test.ts).

import t from 'tap'
import {
  DIGIT,
  equalsLower,
  FIELD_VALUE,
  HEXDIG,
  isFieldValue,
  isToken,
  owsEnd,
  owsStart,
  REASON,
  TOKEN,
} from '../../src/h1/grammar.js'

const ALPHA = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const DIGITS = '0123456789'
// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
const TCHAR = `!#$%&'*+-.^_\`|~${DIGITS}${ALPHA}`

function members(table: Uint8Array): number[] {
  const out: number[] = []
  for (let c = 0; c < 256; c++) if (table[c] === 1) out.push(c)
  return out
}

const codes = (s: string) => [...s].map((ch) => ch.charCodeAt(0)).sort((a, b) => a - b)
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

t.test('byte classes match the RFC grammar for every byte', async (t) => {
  t.same(members(TOKEN), codes(TCHAR), 'tchar')
  // VCHAR = %x21-7E, obs-text = %x80-FF
  t.same(members(REASON), [0x09, 0x20, ...range(0x21, 0x7e), ...range(0x80, 0xff)], 'HTAB / SP / VCHAR / obs-text')
  t.same(members(FIELD_VALUE), members(REASON), 'field-vchar / SP / HTAB')
  t.same(members(DIGIT), codes(DIGITS))
  t.same(members(HEXDIG), codes(`${DIGITS}ABCDEFabcdef`))
})

t.test('isToken and isFieldValue', async (t) => {
  t.ok(isToken('Content-Type'))
  t.ok(isToken(TCHAR))
  t.notOk(isToken(''), 'a token is not empty')
  for (const bad of ['a b', 'a:b', 'a\tb', 'a(b', 'é', 'a\u0100', '"a"']) t.notOk(isToken(bad), JSON.stringify(bad))
  t.ok(isFieldValue(''))
  t.ok(isFieldValue('text/html; charset=utf-8'))
  t.ok(isFieldValue('a \t b'), 'SP and HTAB inside')
  t.ok(isFieldValue('caf\xe9'), 'obs-text')
  for (const bad of [' a', 'a ', '\ta', 'a\t', 'a\r\nb', 'a\nb', 'a\x00b', 'a\x7fb', 'a\u0100']) {
    t.notOk(isFieldValue(bad), JSON.stringify(bad))
  }
})

t.test('OWS trimming and case-insensitive comparison', async (t) => {
  const buf = Buffer.from(' \t chunked \t', 'latin1')
  const start = owsStart(buf, 0, buf.length)
  const end = owsEnd(buf, start, buf.length)
  t.same([start, end], [3, 10])
  t.equal(buf.toString('latin1', start, end), 'chunked')
  const blank = Buffer.from(' \t ', 'latin1')
  t.equal(owsEnd(blank, owsStart(blank, 0, 3), 3), 3, 'all OWS: an empty range')
  t.ok(equalsLower(Buffer.from('ChUnKeD'), 0, 7, 'chunked'))
  t.notOk(equalsLower(Buffer.from('chunked'), 0, 6, 'chunked'), 'length differs')
  t.notOk(equalsLower(Buffer.from('chunkex'), 0, 7, 'chunked'))
})
