// The reference recognizer's grammar layer on its own: the ABNF engine (RFC 5234) and the
// RFC 3986 / RFC 9110 rules for the request-target and Host, each case citing its rule.

import t from 'tap'
import { alt, lit, matchesAll, opt, quotedString, rep, seq, token } from './abnf.js'
import { IPv4address, IPv6address, isValidHost, targetForm } from './uri.js'

t.test('ABNF engine: alternation and repetition backtrack as RFC 5234 reads', async (t) => {
  // RFC 5234 §3.2: alternatives are not ordered; §3.6: repetition is greedy in no direction.
  t.ok(matchesAll(seq(rep(0, Infinity, lit('a')), lit('ab')), 'aaab'), '*"a" "ab" matches "aaab"')
  t.ok(matchesAll(seq(alt(lit('a'), lit('ab')), lit('c')), 'abc'), '("a" / "ab") "c" matches "abc"')
  t.notOk(matchesAll(rep(2, 3, lit('x')), 'x'), '2*3"x" needs two')
  t.notOk(matchesAll(rep(2, 3, lit('x')), 'xxxx'), '2*3"x" takes at most three')
  t.ok(matchesAll(seq(opt(lit('-')), lit('1')), '1'), '[ "-" ] "1"')
  // RFC 5234 §2.3: quoted strings are case-insensitive.
  t.ok(matchesAll(lit('http'), 'HtTp'))
  t.notOk(matchesAll(lit('HTTP', true), 'http'), '%s"HTTP" is case-sensitive (RFC 7405)')
  // An inner rule that can match empty does not loop.
  t.ok(matchesAll(rep(0, Infinity, rep(0, Infinity, lit('a'))), 'aaa'))
})

t.test('token and quoted-string (RFC 9110 §5.6.2, §5.6.4)', async (t) => {
  for (const ok of ['a', "!#$%&'*+-.^_`|~", 'GET', 'x1']) t.ok(matchesAll(token, ok), `token ${JSON.stringify(ok)}`)
  for (const bad of ['', 'a b', 'a:b', 'a"', 'é', 'a\x00', '(a)', 'a/b', '{}']) {
    t.notOk(matchesAll(token, bad), `not a token ${JSON.stringify(bad)}`)
  }
  for (const ok of ['""', '"a b\t"', '"\\""', '"\\\\"', '"\xe9"', '"a\\\tb"']) {
    t.ok(matchesAll(quotedString, ok), `quoted-string ${JSON.stringify(ok)}`)
  }
  for (const bad of ['"', '"a', 'a"', '"\\"', '"\x00"', '"\r"', '"\x7f"', '"a"b"']) {
    t.notOk(matchesAll(quotedString, bad), `not a quoted-string ${JSON.stringify(bad)}`)
  }
})

t.test('IPv4address and IPv6address (RFC 3986 §3.2.2)', async (t) => {
  for (const ok of ['0.0.0.0', '255.255.255.255', '10.1.20.199']) t.ok(matchesAll(IPv4address, ok), ok)
  for (const bad of ['256.1.1.1', '1.1.1', '01.1.1.1', '1.1.1.1.1', '1..1.1'])
    t.notOk(matchesAll(IPv4address, bad), bad)
  const v6 = [
    '1:2:3:4:5:6:7:8',
    '::',
    '::1',
    '1::',
    '1::8',
    '1:2::7:8',
    '::2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7::',
    '::ffff:1.2.3.4',
    '1:2:3:4:5:6:1.2.3.4',
    'ABCD:ef01::1',
    '1:2:3:4::5:1.2.3.4',
  ]
  for (const ok of v6) t.ok(matchesAll(IPv6address, ok), ok)
  const notV6 = [
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':1:2:3:4:5:6:7',
    '12345::',
    '1:2:3:4:5:6:7:1.2.3.4',
    'g::1',
    '::1.2.3',
  ]
  for (const bad of notV6) t.notOk(matchesAll(IPv6address, bad), bad)
})

t.test('Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2-3), as RULES.md decides', async (t) => {
  const valid = [
    'example.com',
    'example.com:8080',
    'a:', // port = *DIGIT: an empty port is a port
    '', // RULES.md: an empty Host is valid and forwarded
    '127.0.0.1:1',
    '[::1]',
    '[::1]:443',
    '[v7.fe:80]', // IPvFuture
    "a-b_c~d.e!$&'()*+,;=",
    'caf%C3%A9.example',
    '999.999.999.999', // not an IPv4address, but a reg-name
    'host:00080',
  ]
  for (const h of valid) t.ok(isValidHost(h), `valid Host ${JSON.stringify(h)}`)
  const invalid = [
    'a:b', // RULES.md: port digits only
    'a:80x',
    'a:-1',
    'user@a', // RULES.md: no userinfo
    'user:pw@a:80',
    '::1', // RULES.md: IPv6 in brackets
    '[::1', // unterminated IP-literal
    '[::1]x',
    '[1::2::3]',
    '[v.x]', // IPvFuture needs 1*HEXDIG
    'a b',
    'a/b',
    'a?b',
    'a#b',
    'caf\xe9', // no obs-text in a reg-name
    '%zz',
    '%4',
    'a:80:80',
    // RULES.md Decisions (issue 14, #17): an empty host with a port (RFC 9110 §4.2.1).
    ':80',
    ':',
    'a%00b'.replace('%00', '\x00'),
  ]
  for (const h of invalid) t.notOk(isValidHost(h), `invalid Host ${JSON.stringify(h)}`)
})

t.test('request-target forms (RFC 9112 §3.2, RFC 3986) with the named leniency', async (t) => {
  const forms: [string, ReturnType<typeof targetForm>][] = [
    ['/', 'origin'],
    ['/a/b;c=d/%20e', 'origin'],
    ['/a?b=c&d=/e?f', 'origin'],
    ["/!$&'()*+,;=:@-._~", 'origin'],
    ['//double', 'origin'],
    ['/?', 'origin'],
    // RULES.md: { } | ^ and backtick are accepted (WHATWG URL: browsers send them raw).
    ['/a{b}|c^d`e', 'origin'],
    ['/?q={x}|^`', 'origin'],
    ['http://example.com', 'absolute'],
    ['https://example.com:8443/p?q', 'absolute'],
    ['HTTP://example.com/', 'absolute'],
    ['http://[::1]:8080/', 'absolute'],
    ['http://a:/', 'absolute'],
    ['http://a?q', 'absolute'],
    ['*', 'asterisk'],
    // Never accepted: RULES.md lists these for every form.
    ['/a#b', null],
    ['/"', null],
    ['/<', null],
    ['/>', null],
    ['/\\', null],
    ['/%', null],
    ['/%4', null],
    ['/%zz', null],
    ['/%4g', null],
    ['/\xe9', null],
    ['/\x7f', null],
    ['a/b', null],
    ['', null],
    ['ftp://a/', null], // not an http(s) URI (RFC 9110 §4.2)
    ['http://user@a/', null], // userinfo (RFC 9110 §4.2.4)
    ['http:///', null], // empty host (RFC 9110 §4.2.1)
    ['http://:80/', null],
    ['http://a:b/', null], // port = *DIGIT
    ['http://a{b}/', null], // the leniency is for the path and query, not the authority
    ['http:/a', null],
    ['**', null],
    ['example.com:443', null], // authority-form is CONNECT's
  ]
  for (const [target, form] of forms) t.equal(targetForm(target), form, `${JSON.stringify(target)} → ${form}`)
})
