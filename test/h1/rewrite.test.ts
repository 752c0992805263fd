// Location and Set-Cookie rewriting (src/h1/rewrite.ts).
import t from 'tap'
import { normalOrigin, rewriteLocation, rewriteSetCookie } from '../../src/h1/rewrite.js'

t.test('normalOrigin: scheme and host lowercased, default ports dropped (RFC 3986 §6.2.2, §6.2.3)', async (t) => {
  t.equal(normalOrigin('HTTP', 'Example.COM:80'), 'http://example.com')
  t.equal(normalOrigin('https', 'example.com:443'), 'https://example.com')
  t.equal(normalOrigin('https', 'example.com:80'), 'https://example.com:80')
  t.equal(normalOrigin('http', '127.0.0.1:3000'), 'http://127.0.0.1:3000')
  t.equal(normalOrigin('http', '[::1]:80'), 'http://[::1]')
  t.equal(normalOrigin('http', '[::1]'), 'http://[::1]')
  t.equal(normalOrigin('http', ''), null)
  t.equal(normalOrigin('http', 'user@host'), null, 'userinfo is never an origin of ours')
})

t.test('rewriteLocation: an absolute URL at the target origin moves to the client origin', async (t) => {
  const from = 'http://127.0.0.1:3000'
  const to = 'https://gw.example'
  const cases: [string, string][] = [
    ['http://127.0.0.1:3000/a?b=1#c', 'https://gw.example/a?b=1#c'],
    ['HTTP://127.0.0.1:3000', 'https://gw.example'],
    ['http://127.0.0.1:3000?x', 'https://gw.example?x'],
    // Left alone: relative references, other origins, other schemes.
    ['/a', '/a'],
    ['a/b', 'a/b'],
    ['//127.0.0.1:3000/a', '//127.0.0.1:3000/a'],
    ['http://127.0.0.1:3001/a', 'http://127.0.0.1:3001/a'],
    ['https://127.0.0.1:3000/a', 'https://127.0.0.1:3000/a'],
    ['http://127.0.0.1:30000/a', 'http://127.0.0.1:30000/a'],
    ['http://user@127.0.0.1:3000/a', 'http://user@127.0.0.1:3000/a'],
    ['mailto:x@127.0.0.1:3000', 'mailto:x@127.0.0.1:3000'],
  ]
  for (const [value, expected] of cases) t.equal(rewriteLocation(value, from, to), expected, value)
  t.equal(rewriteLocation('http://example.com/x', 'http://example.com', 'http://gw'), 'http://gw/x', 'default port')
  t.equal(rewriteLocation('http://example.com:80/x', 'http://example.com', 'http://gw'), 'http://gw/x')
})

t.test('rewriteSetCookie: Domain and Path, each field on its own, other attributes kept', async (t) => {
  const v = 'id=1; Path=/app; Domain=.internal.test; HttpOnly; Secure; SameSite=Lax'
  t.equal(
    rewriteSetCookie(v, 'public.test', null),
    'id=1; Path=/app; Domain=public.test; HttpOnly; Secure; SameSite=Lax',
    'a string rewrites every Domain',
  )
  t.equal(
    rewriteSetCookie(v, null, '/'),
    'id=1; Path=/; Domain=.internal.test; HttpOnly; Secure; SameSite=Lax',
    'a string rewrites every Path',
  )
  t.equal(
    rewriteSetCookie(v, { 'internal.test': 'public.test' }, null),
    'id=1; Path=/app; Domain=public.test; HttpOnly; Secure; SameSite=Lax',
    'a leading dot does not keep a map entry from matching (RFC 6265 §5.2.3)',
  )
  t.equal(
    rewriteSetCookie(v, { '.INTERNAL.test': 'public.test' }, null),
    'id=1; Path=/app; Domain=public.test; HttpOnly; Secure; SameSite=Lax',
    'nor does case',
  )
  t.equal(rewriteSetCookie(v, { other: 'x' }, null), v, 'no match: the same value')
  t.equal(
    rewriteSetCookie(v, { other: 'x', '*': 'any.test' }, null),
    'id=1; Path=/app; Domain=any.test; HttpOnly; Secure; SameSite=Lax',
    "'*' matches any value",
  )
  t.equal(
    rewriteSetCookie(v, { '*': '' }, { '/app': '' }),
    'id=1; HttpOnly; Secure; SameSite=Lax',
    "'' removes the attribute with its separator",
  )
  t.equal(
    rewriteSetCookie('a=b;path=/x;DOMAIN=old', { old: 'new' }, { '/x': '/y' }),
    'a=b;path=/y;DOMAIN=new',
    'attribute names in any case, spacing as sent',
  )
  t.equal(rewriteSetCookie('a=b', 'x', '/'), 'a=b', 'no attributes: nothing to rewrite')
  t.equal(rewriteSetCookie('a=domain; x=1', 'x', '/'), 'a=domain; x=1', 'the cookie-pair is never an attribute')
  t.equal(rewriteSetCookie('a=b; Domain', 'x', null), 'a=b; Domain', 'an attribute without a value is left alone')
})
