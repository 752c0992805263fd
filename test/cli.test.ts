// The command line as users run it: the built dist/cli.js (npm test builds first) and `npm start`.
// The CLI only ever runs in processes of its own, so the tests that exercise src/cli.ts's paths
// (a usage error, checked against the built CLI; the demo and its log; the workers) run it from source
// under the TypeScript loader tap runs this file with (this process's execArgv): tap's
// processinfo follows spawned processes and collects their coverage, and with the same loader
// the source maps are the same as the in-process tests' (another loader's would blur the report).
// The others run the built CLI: a start under the loader costs seconds of CPU (about 5 s).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { helpText, parseCli } from '../src/cli-args.js'
import { VERSION } from '../src/version.js'
import { cli, cliFromSource, exited, root, startCli } from './helpers/cli-process.js'
import { eventually, RawClient } from './helpers/raw-client.js'

function run(args: string[], entry: string[] = [cli]) {
  return spawnSync(process.execPath, [...entry, ...args], { encoding: 'utf8', timeout: 30_000 })
}

t.test('version matches package.json', async (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  t.equal(VERSION, pkg.version)
  const r = run(['--version'])
  t.equal(r.status, 0)
  t.equal(r.stdout.trim(), pkg.version)
})

t.test('--help lists every flag with its default, and the README shows it', async (t) => {
  const r = run(['--help'])
  t.equal(r.status, 0)
  t.equal(r.stdout, helpText())
  for (const flag of [
    '--listen',
    '--upstream',
    '--demo',
    '--connect-timeout',
    '--max-header-bytes',
    '--workers',
    '--log',
  ]) {
    t.match(r.stdout, flag)
  }
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  t.ok(
    readme.includes(`<!-- cli-help -->\n\`\`\`text\n${r.stdout.trimEnd()}\n\`\`\``),
    'README shows the current --help',
  )
})

t.test('the built dist/cli.js is the CLI of src/cli.ts: a bad flag', async (t) => {
  // --version and --help of the built CLI are checked against src/ above (VERSION, helpText()).
  const built = run(['--bogus'])
  const source = run(['--bogus'], cliFromSource)
  t.same([built.status, built.stdout, built.stderr], [source.status, source.stdout, source.stderr])
  t.equal(source.status, 2)
})

t.test('bad flags and values exit 2 with a message naming the flag, no stack trace', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /bogus/],
    [['--upstream', 'http://127.0.0.1:1', '--connect-timeout', 'soon'], /--connect-timeout must be a positive integer/],
    [['--upstream', 'http://127.0.0.1:1', '--listen', 'nowhere'], /--listen must be host:port/],
    [['--upstream', 'ftp://127.0.0.1:1'], /option "upstream" must use http:/],
    [['--listen', '127.0.0.1:0'], /--upstream is required/],
    [['--upstream', 'http://127.0.0.1:1', '--log', 'xml'], /--log must be text or json/],
    [['--upstream', 'http://127.0.0.1:1', '--balance', 'random'], /option "balance"/],
    [['--upstream', 'http://127.0.0.1:1', '--retries', 'x'], /--retries must be a non-negative integer/],
    [['--upstream', 'http://127.0.0.1:1', '--via', 'a\r\nb'], /option "via"/],
    [['--upstream', 'http://127.0.0.1:1', '--admin', 'nowhere'], /--admin must be host:port/],
    [['--upstream', 'http://127.0.0.1:1', '--tls-cert', 'c.pem'], /--tls-cert and --tls-key go together/],
    [['--upstream', 'http://127.0.0.1:1', '--health-check', 'healthz'], /option "health.check.path"/],
    [
      ['--upstream', 'http://127.0.0.1:1', '--health-check', '/h', '--health-check-interval', '0'],
      /--health-check-interval must be a positive integer/,
    ],
    [['--upstream', 'http://127.0.0.1:1', '--health-check-interval', '100'], /option "health.check.path"/],
    [['--config', '/nonexistent/strictgate.json'], /config file \/nonexistent\/strictgate.json.*cannot be read/],
    [
      ['--upstream', 'http://127.0.0.1:1', '--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem'],
      /cannot read --tls-cert/,
    ],
  ]
  for (const [args, message] of cases) {
    const r = run(args)
    t.equal(r.status, 2, `${args.join(' ')} exits 2`)
    t.match(r.stderr, message)
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace')
  }
})

t.test('parseCli maps flags onto gateway options', async (t) => {
  const c = parseCli([
    '--upstream',
    'http://127.0.0.1:3000',
    '--response-timeout',
    '1500',
    '--max-sockets',
    '4',
    '--no-via',
    '--x-forwarded',
  ])
  t.same(c.flags.options, {
    timeouts: { response: 1500 },
    pool: { maxSockets: 4 },
    via: false,
    xForwarded: true,
    upstream: 'http://127.0.0.1:3000',
  })
  t.equal(c.flags.listen, undefined, 'no --listen: the file or the default decides')
  t.same(parseCli(['--demo', '--listen', '[::1]:0']).flags.listen, { host: '::1', port: 0 })
  const several = parseCli([
    '--upstream',
    'http://127.0.0.1:3001',
    '--upstream',
    'unix:/run/app.sock',
    '--balance',
    'least-connections',
    '--max-fails',
    '3',
    '--fail-timeout',
    '2000',
    '--retries',
    '0',
  ])
  t.same(several.flags.options.upstream, ['http://127.0.0.1:3001', 'unix:/run/app.sock'])
  t.same(several.flags.options.health, { maxFails: 3, failTimeout: 2000 })
  t.equal(several.flags.options.balance, 'least-connections')
  t.equal(several.flags.options.retries, 0)
  const ops = parseCli([
    '--config',
    'gw.json',
    '--admin',
    '127.0.0.1:9090',
    '--access-log',
    '--health-check',
    '/healthz',
    '--health-check-interval',
    '250',
    '--tls-cert',
    'c.pem',
    '--tls-key',
    'k.pem',
    '--no-via-request',
  ])
  t.equal(ops.configFile, 'gw.json', '--config: no --upstream needed, the file names it')
  t.same(ops.flags.admin, { host: '127.0.0.1', port: 9090 })
  t.equal(ops.accessLog, true)
  t.same(ops.flags.options.health, { check: { path: '/healthz', interval: 250 } })
  t.same(ops.tls, { cert: 'c.pem', key: 'k.pem' })
  t.same(ops.flags.options.via, { request: false })
  t.same(parseCli(['--demo', '--no-via-request', '--via', '1.1 edge']).flags.options.via, {
    value: '1.1 edge',
    request: false,
  })
})

t.test('--demo serves valid and broken routes, logs errors, stops on SIGTERM', async (t) => {
  const { child, ready, output } = startCli(
    ['--demo', '--listen', '127.0.0.1:0'],
    /listening on (http:\/\/127\.0\.0\.1:\d+)/,
    t,
    cliFromSource,
  )
  const [, url] = await ready
  const ok = await fetch(`${url}/hello`)
  t.equal(ok.status, 200)
  t.equal(await ok.text(), 'Hello from the strictgate demo upstream!\n')
  const bad = await fetch(`${url}/broken/duplicate-content-length`)
  t.equal(bad.status, 502)
  t.equal(
    bad.headers.get('proxy-status'),
    'strictgate; error=http_protocol_error; details="UPSTREAM_INVALID_CONTENT_LENGTH"',
  )
  await bad.text()
  const index = await fetch(`${url}/`)
  t.match(await index.text(), /\/broken\/obs-fold/)
  await eventually(() => /UPSTREAM_INVALID_CONTENT_LENGTH/.test(output()), 'the error to be logged')
  t.match(
    output(),
    /127\.0\.0\.1 GET \/broken\/duplicate-content-length 502 UPSTREAM_INVALID_CONTENT_LENGTH http:\/\/127\.0\.0\.1:\d+/,
  )
  child.kill('SIGTERM')
  t.equal(await exited(child), 0)
})

t.test('--log json writes one JSON object per error', async (t) => {
  const { child, ready, output } = startCli(
    ['--demo', '--listen', '127.0.0.1:0', '--log', 'json'],
    /listening on (http:\/\/127\.0\.0\.1:\d+)/,
    t,
  )
  const [, url] = await ready
  await (await fetch(`${url}/broken/version`)).text()
  await eventually(() => output().includes('UPSTREAM_INVALID_VERSION'), 'the error to be logged')
  const line = output()
    .split('\n')
    .find((l) => l.startsWith('{')) as string
  const entry = JSON.parse(line)
  t.equal(entry.code, 'UPSTREAM_INVALID_VERSION')
  t.equal(entry.status, 502)
  t.equal(entry.target, '/broken/version')
  child.kill('SIGINT')
  t.equal(await exited(child), 0)
})

/** Processes whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid) out.push(Number(entry))
    } catch {
      // Gone meanwhile.
    }
  }
  return out
}

/** The remote ports of the TCP sockets process `pid` holds with local port `port` (Linux /proc). */
function peersHeldBy(pid: number, port: number): number[] {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m !== null) inodes.add(m[1])
    } catch {
      // Closed meanwhile.
    }
  }
  const peers: number[] = []
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 10 || !inodes.has(f[9])) continue
    if (Number.parseInt(f[1].split(':')[1], 16) === port) peers.push(Number.parseInt(f[2].split(':')[1], 16))
  }
  return peers
}

t.test(
  '--workers 2 shares the port between two processes, and both serve',
  { skip: existsSync('/proc/self/net/tcp') ? false : 'no Linux /proc: cannot see which worker holds a connection' },
  async (t) => {
    const { child, ready } = startCli(
      ['--demo', '--listen', '127.0.0.1:0', '--workers', '2'],
      /listening on (http:\/\/127\.0\.0\.1:(\d+)) .*\(2 workers\)/,
      t,
      cliFromSource,
    )
    const [, , port] = await ready
    const workers = childrenOf(child.pid as number)
    t.equal(workers.length, 2, 'two worker processes')
    // Keep-alive connections, one request each: each stays held by the worker that served it.
    // Which worker gets a connection is the scheduler's choice (round-robin, or the kernel's
    // hash with reusePort): open more, up to a bound, until both hold one.
    const served = new Set<number>()
    for (let i = 0; i < 32 && served.size < 2; i++) {
      const client = await RawClient.connect(t, Number(port))
      client.write('GET /hello HTTP/1.1\r\nHost: example.test\r\n\r\n')
      t.equal((await client.response()).status, 200, `connection ${i} answered`)
      const local = client.socket.localPort as number
      for (const w of workers) if (peersHeldBy(w, Number(port)).includes(local)) served.add(w)
    }
    t.same([...served].sort(), [...workers].sort(), 'each worker served a connection')
    child.kill('SIGTERM')
    t.equal(await exited(child), 0)
  },
)

t.test("npm start builds, then serves the demo (the README's first command)", async (t) => {
  // Spawning `npm start` itself would rebuild dist/ under the other test files that import it
  // (npm test has just built it): its steps are checked, and the one after the build is run.
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  t.match(readme, /npm install && npm start/, 'the README starts with npm start')
  const [build, ...rest] = (pkg.scripts.start as string).split(' && ')
  t.equal(build, 'npm run build', 'first the build')
  t.equal(rest.length, 1, 'then one command')
  const [node, script, ...args] = rest[0].split(' ')
  t.equal(node, 'node')
  t.equal(script, pkg.bin.strictgate.replace(/^\.\//, ''), "the package's own bin")
  const { child, ready } = startCli(
    [...args, '--listen', '127.0.0.1:0'],
    /listening on (http:\/\/127\.0\.0\.1:\d+) -> http/,
    t,
    [script],
  )
  const [, url] = await ready
  const hello = await fetch(`${url}/hello`)
  t.equal(await hello.text(), 'Hello from the strictgate demo upstream!\n', 'the demo answers')
  child.kill('SIGTERM')
  t.equal(await exited(child), 0)
})
