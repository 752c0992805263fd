// The config file (src/ops/config-file.ts): parsing with errors that name the file and the key,
// validation through the gateway's own resolveOptions, flags over the file, and reloads that
// keep the running configuration when the file is bad. Real files in a temp directory.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import {
  type Config,
  ConfigError,
  ConfigReloader,
  FILE_OPTIONS,
  loadConfigFile,
  mergeConfig,
  parseConfig,
  parseHostPort,
} from '../../src/ops/config-file.js'
import { type GatewayOptions, resolveOptions } from '../../src/options.js'
import { numRuns } from '../helpers/runs.js'

function tempDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const EXAMPLE = {
  listen: '0.0.0.0:8080',
  admin: '[::1]:9090',
  upstream: ['http://10.0.0.1:3000', { url: 'http://10.0.0.2:3000', weight: 2 }],
  balance: 'least-connections',
  health: { maxFails: 3, failTimeout: 5000, check: { path: '/healthz', interval: 2000, timeout: 500 } },
  timeouts: { connect: 1000, response: 30000 },
  limits: { maxHeaderBytes: 8192 },
  via: { request: false },
  xForwarded: true,
  changeOrigin: true,
  cookieDomain: 'example.com',
}

t.test('parses options, listen and admin', async (t) => {
  const { listen, admin, ...options } = EXAMPLE
  t.same(parseConfig(JSON.stringify(EXAMPLE), 'gw.json'), {
    options,
    listen: { host: '0.0.0.0', port: 8080 },
    admin: { host: '::1', port: 9090 },
  })
  t.same(parseConfig('\uFEFF{"upstream": "http://a:1"}', 'bom.json'), { options: { upstream: 'http://a:1' } }, 'a BOM')
  t.same(parseConfig('{}', 'empty.json'), { options: {} })
  for (const name of FILE_OPTIONS) {
    t.same(parseConfig(`{"${name}": 1}`, 'x.json').options, { [name]: 1 }, `${name} is accepted`)
  }
})

t.test('host:port', async (t) => {
  t.same(parseHostPort('127.0.0.1:0'), { host: '127.0.0.1', port: 0 })
  t.same(parseHostPort('localhost:65535'), { host: 'localhost', port: 65535 })
  t.same(parseHostPort('[::]:80'), { host: '::', port: 80 })
  for (const bad of ['8080', ':8080', 'host:', 'host:65536', 'host:8o', '::1:80', '[::1]', 'a b:1', 'host:123456']) {
    t.equal(parseHostPort(bad), null, bad)
  }
})

t.test('errors name the file and the key', async (t) => {
  const cases: [string, string | undefined, RegExp][] = [
    ['{"upstream": "x",}', undefined, /is not valid JSON: .*line 1 column 18/],
    ['{\n  "upstream": "x"\n  "balance": "y"\n}', undefined, /is not valid JSON: .*line 3 column 3/],
    ['', undefined, /is not valid JSON/],
    ['[1, 2]', undefined, /must hold a JSON object of options/],
    ['null', undefined, /must hold a JSON object/],
    ['{"upstrem": "http://a:1"}', 'upstrem', /is not a known option \(known: upstream, /],
    ['{"onError": "log"}', 'onError', /is a function option/],
    ['{"route": {}}', 'route', /is a function option/],
    ['{"listen": 8080}', 'listen', /must be "host:port" .*got 8080/],
    ['{"admin": "localhost"}', 'admin', /must be "host:port" .*got "localhost"/],
  ]
  for (const [text, key, message] of cases) {
    const err = t.throws(() => parseConfig(text, '/etc/strictgate.json')) as ConfigError
    t.ok(err instanceof ConfigError, `${text}: a ConfigError`)
    t.equal(err.file, '/etc/strictgate.json')
    t.equal(err.key, key)
    t.match(err.message, /^strictgate: config file \/etc\/strictgate\.json: /)
    if (key !== undefined) t.match(err.message, `"${key}" `)
    t.match(err.message, message, text)
  }
})

t.test('loadConfigFile reads a file; an unreadable one is a ConfigError', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'gw.json')
  writeFileSync(file, JSON.stringify(EXAMPLE))
  t.same((await loadConfigFile(file)).listen, { host: '0.0.0.0', port: 8080 })
  await t.rejects(loadConfigFile(join(dir, 'missing.json')), {
    name: 'ConfigError',
    message: new RegExp(`config file ${join(dir, 'missing.json')}: cannot be read: ENOENT`),
  })
})

t.test('flags override the file: key by key in groups, whole lists, addresses', async (t) => {
  const file = parseConfig(JSON.stringify(EXAMPLE), 'gw.json')
  const before = JSON.stringify(file)
  const flags: Config = {
    options: { upstream: ['http://127.0.0.1:1'], timeouts: { connect: 50 }, health: { check: { interval: 10 } } },
    listen: { host: '127.0.0.1', port: 1 },
  }
  const merged = mergeConfig(file, flags)
  t.same(merged.options.upstream, ['http://127.0.0.1:1'], 'a list replaces the list')
  t.same(merged.options.timeouts, { connect: 50, response: 30000 })
  t.same(merged.options.health, {
    maxFails: 3,
    failTimeout: 5000,
    check: { path: '/healthz', interval: 10, timeout: 500 },
  })
  t.same(merged.listen, { host: '127.0.0.1', port: 1 })
  t.same(merged.admin, { host: '::1', port: 9090 }, 'what flags do not set stays')
  t.equal(JSON.stringify(file), before, 'the file config is not changed')
  t.same(mergeConfig(file, { options: { via: false } }).options.via, false, 'a scalar replaces an object')
  t.same(mergeConfig({ options: {} }, { options: {} }), { options: {} })
})

t.test('merge is a deep override, whatever the shapes', async () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.oneof(fc.integer(), fc.boolean(), fc.string(), fc.constant(null)),
      fc.array(tie('value'), { maxLength: 3 }),
      tie('object'),
    ),
    object: fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), tie('value'), { maxKeys: 4 }),
  })).object as fc.Arbitrary<Record<string, unknown>>
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
  // The reference: at every path, the flag's value if the flags reach it as a non-object,
  // else the file's; objects met on both sides are merged.
  const check = (file: unknown, flags: unknown, merged: unknown): void => {
    if (!isObject(flags) || !isObject(file)) {
      assert.deepEqual(merged, flags === undefined ? file : flags)
      return
    }
    assert.ok(isObject(merged))
    assert.deepEqual(Object.keys(merged).sort(), [...new Set([...Object.keys(file), ...Object.keys(flags)])].sort())
    for (const k of Object.keys(merged)) check(file[k], flags[k], merged[k])
  }
  fc.assert(
    fc.property(json, json, (file, flags) => {
      const snapshot = JSON.stringify([file, flags])
      check(file, flags, mergeConfig({ options: file }, { options: flags }).options)
      assert.equal(JSON.stringify([file, flags]), snapshot, 'inputs unchanged')
    }),
    { numRuns: numRuns(300) },
  )
})

const validate = (c: Config) => resolveOptions(c.options as unknown as GatewayOptions)

t.test('the reloader: load, reload on a good file, keep the old one on a bad file', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'gw.json')
  const put = (o: unknown) => writeFileSync(file, typeof o === 'string' ? o : JSON.stringify(o))
  put({ upstream: 'http://127.0.0.1:3000', timeouts: { connect: 1000 }, listen: '127.0.0.1:8080' })
  const applied: Config[] = []
  const logs: string[] = []
  const reloader = new ConfigReloader(file, (c) => void applied.push(c), {
    flags: { options: { timeouts: { response: 5000 } } },
    validate,
    log: (m) => logs.push(m),
  })
  const first = await reloader.load()
  t.same(first.options, { upstream: 'http://127.0.0.1:3000', timeouts: { connect: 1000, response: 5000 } })
  t.same(applied, [], 'load() does not apply: the caller creates the gateway from it')
  t.equal(reloader.current, first)

  put({ upstream: 'http://127.0.0.1:4000', timeouts: { connect: 1000 }, listen: '127.0.0.1:8081' })
  const good = await reloader.reload()
  t.ok(good.ok)
  if (good.ok) t.same(good.changed, ['upstream', 'listen'], 'what changed (listen needs a restart)')
  t.same(applied.at(-1)?.options, { upstream: 'http://127.0.0.1:4000', timeouts: { connect: 1000, response: 5000 } })

  const current = reloader.current
  const bad: [unknown, RegExp][] = [
    ['{"upstream": ', /is not valid JSON/],
    [{ upstream: 'http://127.0.0.1:4000', retries: -1 }, /option "retries" must be a non-negative integer/],
    [{ upstream: 'ftp://x' }, /option "upstream" must use http:, https: or unix:/],
    [{ upstream: 'http://127.0.0.1:4000', timeouts: { conect: 1 } }, /option "timeouts.conect" is not a known option/],
    [{ upstream: 'http://127.0.0.1:4000', bogus: 1 }, /"bogus" is not a known option/],
  ]
  for (const [content, why] of bad) {
    put(content)
    const r = await reloader.reload()
    t.notOk(r.ok, `refused: ${why}`)
    if (!r.ok) {
      t.match(r.error.message, why)
      t.match(r.error.message, `config file ${file}: `, 'names the file')
    }
    t.equal(reloader.current, current, 'the running configuration stays')
    t.match(logs.at(-1), /^strictgate: reload refused, the configuration stays as it was: strictgate: config file /)
  }
  t.equal(applied.length, 1, 'nothing bad was applied')
  rmSync(file)
  t.notOk((await reloader.reload()).ok, 'a file gone is refused too')
})

t.test('the reloader: a failing apply keeps the old configuration; reloads run one at a time', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'gw.json')
  writeFileSync(file, '{"upstream": "http://127.0.0.1:1"}')
  let running = 0
  let overlapped = false
  const order: string[] = []
  let fail = false
  const reloader = new ConfigReloader(file, async (c) => {
    running++
    overlapped ||= running > 1
    await new Promise((resolve) => setImmediate(resolve))
    running--
    if (fail) throw new Error('reconfigure refused it')
    order.push(String(c.options.upstream))
  })
  await reloader.load()
  const results = await Promise.all([reloader.reload(), reloader.reload(), reloader.reload()])
  t.same(
    results.map((r) => r.ok),
    [true, true, true],
  )
  t.notOk(overlapped, 'never two applies at once')
  t.same(order, Array(3).fill('http://127.0.0.1:1'))
  fail = true
  const before = reloader.current
  writeFileSync(file, '{"upstream": "http://127.0.0.1:2"}')
  const r = await reloader.reload()
  t.same([r.ok, !r.ok && r.error.message], [false, 'reconfigure refused it'])
  t.equal(reloader.current, before)
  await t.rejects(new ConfigReloader(join(dir, 'none.json'), () => {}).load(), { name: 'ConfigError' }, 'load() throws')
})
