// Operating the command line as nginx or HAProxy is operated, end to end in one process of the
// CLI (from source: its coverage counts): a --config file under flags, TLS terminated with
// --tls-cert/--tls-key, --access-log as JSON lines, --admin's /metrics (parsed) and /healthz,
// active health checks, SIGHUP reloading the file under load with no failed request, a bad file
// on reload keeping what runs, and SIGTERM draining with /healthz answering 503 meanwhile.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { cliFromSource, exited, startCli } from './helpers/cli-process.js'
import { startHttpUpstream } from './helpers/http-upstream.js'
import { parseExposition, value } from './helpers/prometheus.js'
import { eventually } from './helpers/raw-client.js'
import { needsOpenssl, selfSigned } from './helpers/tls-certs.js'

interface Reply {
  status: number
  body: string
}

/** GET over HTTPS through `agent`, trusting `ca`. */
function httpsGet(port: number, path: string, ca: string, agent: https.Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        body += d
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

async function adminGet(url: string): Promise<Reply & { type: string | null }> {
  const res = await fetch(url)
  return { status: res.status, type: res.headers.get('content-type'), body: await res.text() }
}

/** The JSON lines of the CLI's stdout (the startup lines are text and skipped). */
function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

t.test(
  '--config, TLS, access log, admin, health checks, SIGHUP reload, SIGTERM drain',
  { skip: needsOpenssl },
  async (t) => {
    let healthy = true
    const upstream = (name: string) =>
      startHttpUpstream(t, (req, res) => {
        if (req.url === '/health') {
          res.statusCode = name === 'b' && !healthy ? 500 : 200
          res.end('health')
        } else if (req.url === '/slow') setTimeout(() => res.end(`${name} slow`), 1_500)
        else res.end(name)
      })
    const a = await upstream('a')
    const b = await upstream('b')
    const { cert, key } = selfSigned()
    const dir = mkdtempSync(join(tmpdir(), 'strictgate-cli-operate-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const certFile = join(dir, 'cert.pem')
    const keyFile = join(dir, 'key.pem')
    writeFileSync(certFile, cert)
    writeFileSync(keyFile, key)
    const configFile = join(dir, 'strictgate.json')
    const config = (target: string) =>
      JSON.stringify({
        upstream: target,
        listen: '127.0.0.1:0',
        admin: '127.0.0.1:0',
        timeouts: { response: 10_000, shutdown: 10_000 },
        health: { maxFails: 2 },
      })
    writeFileSync(configFile, config(a.url))

    const gw = startCli(
      [
        '--config',
        configFile,
        '--tls-cert',
        certFile,
        '--tls-key',
        keyFile,
        '--access-log',
        '--log',
        'json',
        '--health-check',
        '/health',
        '--health-check-interval',
        '100',
      ],
      /admin on (http:\/\/127\.0\.0\.1:\d+)[^\n]*\n[^\n]*listening on https:\/\/127\.0\.0\.1:(\d+) -> (\S+)\n/,
      t,
      cliFromSource,
    )
    const [, admin, portText, shown] = await gw.ready
    const port = Number(portText)
    t.equal(shown, a.url, 'the upstream comes from the file')
    const agent = new https.Agent({ keepAlive: true, maxSockets: 4 })
    t.teardown(() => agent.destroy())

    // TLS terminated; the access log has the exchange, as JSON.
    t.same(await httpsGet(port, '/hello?x=1', cert, agent), { status: 200, body: 'a' })
    await eventually(() => jsonLines(gw.output()).some((l) => l.target === '/hello?x=1'), 'the access log line')
    const line = jsonLines(gw.output()).find((l) => l.target === '/hello?x=1') as Record<string, unknown>
    t.match(line, { client: '127.0.0.1', method: 'GET', status: 200, upstream: a.url, code: null })
    t.ok((line.bytesSent as number) > 0 && (line.durationMs as number) >= 0, 'bytes sent and duration')

    // The admin listener: Prometheus exposition (parsed), and /healthz.
    const metrics = await adminGet(`${admin}/metrics`)
    t.equal(metrics.status, 200)
    t.equal(metrics.type, 'text/plain; version=0.0.4; charset=utf-8')
    const m = parseExposition(metrics.body)
    t.ok(value(m, 'strictgate_requests_total', { code_class: '2xx' }) >= 1, 'the request is counted')
    t.equal(value(m, 'strictgate_upstream_up', { target: a.url }), 1)
    t.equal((await adminGet(`${admin}/healthz`)).status, 200)

    // SIGHUP under load: the file now names b; no request fails while it is applied.
    let load = true
    const replies: Reply[] = []
    const worker = async () => {
      while (load) replies.push(await httpsGet(port, '/', cert, agent))
    }
    const workers = [worker(), worker()]
    await eventually(() => replies.length >= 20, 'load before the reload')
    writeFileSync(configFile, config(b.url))
    gw.child.kill('SIGHUP')
    await eventually(() => replies.at(-1)?.body === 'b', 'requests to reach b after the reload')
    const after = replies.length
    await eventually(() => replies.length >= after + 20, 'load after the reload')
    load = false
    await Promise.all(workers)
    t.same(
      replies.filter((r) => r.status !== 200 || (r.body !== 'a' && r.body !== 'b')),
      [],
      `no failed request among ${replies.length}`,
    )
    t.same(
      replies.slice(after),
      replies.slice(after).map(() => ({ status: 200, body: 'b' })),
      'after the switch, only b',
    )
    // The log line may come after the new configuration is in use: the log is written in batches.
    await eventually(() => jsonLines(gw.output()).some((l) => l.event === 'reload'), 'the reload to be logged')
    const reload = jsonLines(gw.output()).find((l) => l.event === 'reload')
    t.same(reload?.changed, ['upstream', 'tls'], 'what changed: the upstream, and the certificates read again')
    t.equal(reload?.ok, true)

    // A bad file on reload: logged, and the running configuration stays.
    writeFileSync(configFile, '{"upstream": ')
    gw.child.kill('SIGHUP')
    await eventually(() => jsonLines(gw.output()).some((l) => l.event === 'reload' && l.ok === false), 'the refusal')
    const refused = jsonLines(gw.output()).find((l) => l.event === 'reload' && l.ok === false) as Record<
      string,
      unknown
    >
    t.match(refused.reason, /strictgate\.json.*not valid JSON.*the configuration stays as it was/)
    t.same(await httpsGet(port, '/', cert, agent), { status: 200, body: 'b' })

    // Active health checks: b's /health failing twice marks it down (logged), /healthz says 503;
    // one success brings it back.
    healthy = false
    await eventually(
      () => jsonLines(gw.output()).some((l) => l.event === 'health' && l.target === b.url && l.state === 'down'),
      'b marked down',
    )
    const down = await adminGet(`${admin}/healthz`)
    t.equal(down.status, 503)
    t.match(down.body, /no upstream target is up/)
    healthy = true
    await eventually(
      () => jsonLines(gw.output()).some((l) => l.event === 'health' && l.target === b.url && l.state === 'up'),
      'b marked up again',
    )
    await eventually(async () => (await adminGet(`${admin}/healthz`)).status === 200, '/healthz 200 again')

    // SIGTERM with a slow request in flight: it finishes; /healthz answers 503 meanwhile.
    const slow = httpsGet(port, '/slow', cert, agent)
    await new Promise((resolve) => setTimeout(resolve, 300))
    gw.child.kill('SIGTERM')
    await eventually(async () => (await adminGet(`${admin}/healthz`)).status === 503, '/healthz 503 while draining')
    t.match((await adminGet(`${admin}/healthz`)).body, /shutting down/)
    t.same(await slow, { status: 200, body: 'b slow' })
    t.equal(await exited(gw.child), 0)
    t.equal(gw.errors(), '', 'nothing on stderr')
  },
)
