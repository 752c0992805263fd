// The request-target and Host grammars (src/h1/uri.ts), from RFC 3986's ABNF, byte by byte.
import assert from 'node:assert/strict'
import fc from 'fast-check'
import t from 'tap'
import { AUTHORITY_CHARS, isAuthority, isHost, isHostIn, isIPv6, isOriginForm } from '../../src/h1/uri.js'
import { numRuns } from '../helpers/runs.js'

t.test('origin-form = absolute-path [ "?" query ] (RFC 9112 §3.2.1, RFC 3986 §3.3, §3.4)', async (t) => {
  for (const ok of [
    '/',
    '//',
    '/a/b/c',
    '/a%20b',
    '/%2F%2f',
    "/pchar-._~!$&'()*+,;=:@",
    '/p?q=1&r=2',
    '/p?q?r/s',
    '/a;b',
    // The named leniency: browsers send these raw (WHATWG URL standard).
    '/{x}',
    '/a|b',
    '/a^b',
    '/a`b',
  ]) {
    t.ok(isOriginForm(ok), JSON.stringify(ok))
  }
  for (const bad of [
    '',
    'a',
    '*',
    'http://a/',
    '/a#b',
    '/a"b',
    '/a<b',
    '/a>b',
    '/a\\b',
    '/a b',
    '/a\tb',
    '/a\x00b',
    '/a\x7fb',
    '/a\x80b',
    '/a\xffb',
    '/%',
    '/%2',
    '/%zz',
    '/%2g',
    '/a[b',
    '/a]b',
  ]) {
    t.notOk(isOriginForm(bad), JSON.stringify(bad))
  }
  // Every byte on its own, after "/": exactly the grammar's set.
  const allowed = new Set(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?{}|^`".split(''),
  )
  for (let c = 0; c < 256; c++) {
    const ch = String.fromCharCode(c)
    t.equal(isOriginForm(`/${ch}`), allowed.has(ch), `byte 0x${c.toString(16)}`)
  }
})

t.test('IPv6address (RFC 3986 §3.2.2)', async (t) => {
  for (const ok of [
    '::',
    '::1',
    '1::',
    '2001:db8::1',
    '2001:DB8:0:0:8:800:200C:417A',
    'ff01::101',
    '::ffff:192.0.2.1',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:1.2.3.4',
    '1::2:3:4:5:6:7',
  ]) {
    t.ok(isIPv6(ok), ok)
  }
  for (const bad of [
    '',
    ':',
    '1',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '12345::',
    'g::',
    '1:2:3:4:5:6:7::8',
    '::1.2.3',
    '::1.2.3.256',
    '::01.2.3.4',
    '1.2.3.4::',
  ]) {
    t.notOk(isIPv6(bad), bad)
  }
})

t.test('Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2)', async (t) => {
  for (const ok of [
    '',
    'example.com',
    'example.com:80',
    'EXAMPLE.com:8080',
    'a-b_c~d.e',
    "a!$&'()*+,;=b",
    'xn--bcher-kva.example',
    '192.0.2.1',
    '192.0.2.1:443',
    '[::1]',
    '[::1]:8080',
    '[v1.fe80::a+en1]',
    'a%20b',
    'example.com:',
  ]) {
    t.ok(isHost(ok), JSON.stringify(ok))
    t.ok(isHostIn(Buffer.from(`x${ok}y`, 'latin1'), 1, ok.length + 1), `bytes: ${JSON.stringify(ok)}`)
  }
  for (const bad of [
    'user@example.com',
    'user:pw@example.com',
    'example.com:80a',
    'example.com:http',
    'example.com:-1',
    'example.com:80:81',
    '::1',
    '[::1',
    '[::1]x',
    '[::1]:8a',
    '[zz]',
    'a b',
    'a/b',
    'a?b',
    'a#b',
    'a%2',
    'a%zz',
    'exa\tmple',
    'a\x80',
    // An empty host with a port: an http URI with an empty host (RFC 9110 §4.2.1; RULES.md Decisions).
    ':80',
    ':',
  ]) {
    t.notOk(isHost(bad), JSON.stringify(bad))
    t.notOk(isHostIn(Buffer.from(`x${bad}y`, 'latin1'), 1, bad.length + 1), `bytes: ${JSON.stringify(bad)}`)
  }
})

t.test('an absolute-form authority: uri-host [ ":" port ] with a host (RFC 9110 §4.2.1, §4.2.4)', async (t) => {
  for (const ok of ['a', 'a:', 'a:80', '[::1]:8080', '[v1.x]', '192.0.2.1', 'a%20b']) t.ok(isAuthority(ok), ok)
  for (const bad of ['', ':80', ':', 'u@a', 'a:b', '::1', '[::1', 'a{b}']) t.notOk(isAuthority(bad), bad)
  // The scanner's byte gate: every byte some authority may hold, and no other.
  const allowed = new Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%:[]".split(''))
  for (let c = 0; c < 256; c++)
    t.equal(AUTHORITY_CHARS[c], allowed.has(String.fromCharCode(c)) ? 1 : 0, `0x${c.toString(16)}`)
})

t.test('isHostIn (bytes, with a fast path) agrees with isHost on any value', async (t) => {
  const unit = fc.constantFrom(..."aZ09-._~!$&'()*+,;=%:[]@/ v.fF\x80".split(''))
  fc.assert(
    fc.property(fc.array(unit, { maxLength: 12 }), fc.nat({ max: 3 }), (chars, pad) => {
      const value = chars.join('')
      const buf = Buffer.from(`${'p'.repeat(pad)}${value}q`, 'latin1')
      assert.equal(isHostIn(buf, pad, pad + value.length), isHost(value), JSON.stringify(value))
    }),
    { numRuns: numRuns(2000) },
  )
  t.pass('agreed')
})
