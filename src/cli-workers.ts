// `--workers N`: N processes serving one port. Where the kernel can balance connections itself
// (SO_REUSEPORT through `listen({ reusePort })`: Node 22.12+/23.1+ on Linux and a few BSDs),
// every worker binds a listener of its own, and accepts on it without a detour through the
// primary. Elsewhere node:cluster's round-robin: the primary accepts and hands each connection
// to a worker in turn.
//
// What the primary does besides: it forwards SIGINT/SIGTERM (a graceful drain in each worker)
// and SIGHUP (each worker reloads the config file and certificates itself), and serves the
// admin listener for all of them (--admin): /metrics asks every worker for its figures over
// IPC and labels each one's samples with its pid (worker="1234"; sum over it for the whole),
// /healthz is 503 while stopping or when every target is down in every worker's view.

import cluster, { type Worker } from 'node:cluster'
import net from 'node:net'
import os from 'node:os'
import type { CliConfig } from './cli-args.js'
import { CliSettings } from './cli-config.js'
import type { Gateway } from './gateway.js'
import { type AdminStatus, createAdminServer } from './ops/admin.js'
import { mergeExpositions } from './ops/merge-exposition.js'

/**
 * Set by the primary in the environment of each worker it forks for SO_REUSEPORT: the port to
 * bind. The first worker gets the configured one (0: any), the others the port it got.
 */
const REUSE_PORT_ENV = 'STRICTGATE_REUSE_PORT'

/**
 * V8 flags for the workers when there are at least as many workers as CPUs: each core then has
 * a worker to keep busy, and V8's parallel GC helper threads only take turns with it (or with a
 * sibling). Measured on one pinned core (bench/experiments/gc-record.sh, issue 15): the main
 * thread's GC pause per request fell to a half or less, CPU per request unchanged within the
 * noise of the measurement. V8 flags cannot be changed once the process runs (and this one is
 * not accepted in NODE_OPTIONS), so only forked workers get it; a flag already given wins.
 */
const WORKER_V8_FLAGS = ['--single-threaded-gc']

/** How the workers share the port. */
export type Sharing = 'reusePort' | 'round-robin'

/**
 * Whether two listeners can bind one port here with `reusePort`, tried on `host`: Node before
 * 22.12 ignores the option (the second bind fails with EADDRINUSE), libuv refuses it on
 * platforms without a balancing SO_REUSEPORT (macOS, Windows: ENOTSUP).
 */
export async function reusePortWorks(host: string): Promise<boolean> {
  const servers: net.Server[] = []
  try {
    await bind(host, await bind(host, 0, true, servers), true, servers)
    return true
  } catch {
    return false
  } finally {
    for (const s of servers) s.close()
  }
}

/** Listen on host:port (with SO_REUSEPORT or not); resolves to the port. */
function bind(host: string, port: number, reusePort: boolean, servers: net.Server[]): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    // `reusePort` is not in @types/node 20's ListenOptions.
    server.listen({ host, port, reusePort } as net.ListenOptions, () => {
      servers.push(server)
      resolve((server.address() as net.AddressInfo).port)
    })
  })
}

/**
 * Start `cli.workers` workers on the configured host:port. With SO_REUSEPORT, a port another
 * process already listens on is refused first (EADDRINUSE, as without workers): listeners that
 * all set SO_REUSEPORT under one user share a port silently, so a second strictgate started on
 * the same port would otherwise take half of the first one's connections.
 */
export async function startWorkers(cli: CliConfig): Promise<void> {
  // The config file names the addresses too: a bad one fails here, before any worker starts.
  // (With --demo each worker starts its own demo upstream: a stand-in URL passes validation.)
  const settings = new CliSettings(cli, cli.demo ? 'http://127.0.0.1:1' : null)
  await settings.load()
  const listen = settings.listen
  const count = cli.workers
  const sharing: Sharing = (await reusePortWorks(listen.host)) ? 'reusePort' : 'round-robin'
  if (sharing === 'reusePort' && listen.port !== 0) {
    const servers: net.Server[] = []
    try {
      await bind(listen.host, listen.port, false, servers)
    } finally {
      for (const s of servers) s.close()
    }
  }
  const workers = runWorkers(count, listen.port, sharing)
  const admin = settings.admin
  if (admin !== null) {
    const server = createAdminServer({ metrics: () => scrapeMetrics(workers.list), status: () => workers.status() })
    const at = await server.listen(admin)
    const host = at.family === 'IPv6' ? `[${at.address}]` : at.address
    process.stdout.write(`strictgate admin on http://${host}:${at.port} (/metrics, /healthz) (${count} workers)\n`)
  }
}

/**
 * In a worker forked for SO_REUSEPORT: the port to bind with `reusePort` (the primary's choice);
 * null in any other process (gateway.listen() then goes through the primary in a round-robin
 * worker).
 */
export function reusePortFor(): number | null {
  const port = cluster.isWorker ? process.env[REUSE_PORT_ENV] : undefined
  return port === undefined ? null : Number(port)
}

/** What a worker answers the primary's scrape with. */
interface Scraped {
  scrape: number
  metrics: string
  status: AdminStatus
}

/** In a worker: answer the primary's scrapes (its admin listener) with this gateway's figures. */
export function serveWorkerScrapes(gateway: Gateway, stopping: () => boolean): void {
  process.on('message', (m: { scrape?: number }) => {
    if (typeof m?.scrape !== 'number') return
    const status = { shuttingDown: stopping(), targets: gateway.stats().targets }
    process.send?.({ scrape: m.scrape, metrics: gateway.metrics(), status } satisfies Scraped)
  })
}

/** A worker that does not answer a scrape within this is left out of it (ms). */
const SCRAPE_TIMEOUT_MS = 2_000
let scrapes = 0

/** Ask every live worker for its figures; resolves with the answers that came in time. */
function scrape(workers: readonly Worker[]): Promise<{ pid: number; answer: Scraped }[]> {
  const id = ++scrapes
  return Promise.all(
    workers
      .filter((w) => w.isConnected())
      .map(
        (w) =>
          new Promise<{ pid: number; answer: Scraped } | null>((resolve) => {
            const timer = setTimeout(() => done(null), SCRAPE_TIMEOUT_MS)
            const onMessage = (m: Scraped) => {
              if (m?.scrape === id) done(m)
            }
            const done = (answer: Scraped | null) => {
              clearTimeout(timer)
              w.off('message', onMessage)
              resolve(answer === null ? null : { pid: w.process.pid as number, answer })
            }
            w.on('message', onMessage)
            w.send({ scrape: id })
          }),
      ),
  ).then((all) => all.filter((a) => a !== null))
}

async function scrapeMetrics(workers: readonly Worker[]): Promise<string> {
  const answers = await scrape(workers)
  return mergeExpositions(
    'worker',
    answers.map((a) => ({ value: String(a.pid), text: a.answer.metrics })),
  )
}

interface Listening {
  listening?: string
  upstream?: string
}

/**
 * In the primary: fork `count` workers sharing the port (`sharing`), print one line once all
 * listen, forward SIGINT/SIGTERM and SIGHUP to them, and exit when they are gone (1 if one
 * failed to start). Returns the workers, and the /healthz status of them all.
 */
function runWorkers(
  count: number,
  listenPort: number,
  sharing: Sharing,
): { list: Worker[]; status: () => Promise<AdminStatus> } {
  if (count >= os.availableParallelism()) {
    const given = (flag: string) => process.execArgv.some((a) => a === flag || a === flag.replace(/^--/, '--no-'))
    cluster.setupPrimary({ execArgv: [...process.execArgv, ...WORKER_V8_FLAGS.filter((f) => !given(f))] })
  }
  const workers: ReturnType<typeof cluster.fork>[] = []
  let listening = 0
  let stopping = false
  let failed = false
  const fork = (env: Record<string, string>) => {
    const worker = cluster.fork(env)
    workers.push(worker)
    worker.on('message', (m: Listening) => {
      if (m.listening === undefined) return
      listening++
      // With SO_REUSEPORT the first worker binds first (its port, when the configured one is
      // 0, is the one the others must share), then the rest.
      if (sharing === 'reusePort' && workers.length === 1) {
        const port = new URL(m.listening).port
        for (let i = 1; i < count; i++) fork({ [REUSE_PORT_ENV]: port })
      }
      if (listening === count) {
        process.stdout.write(`strictgate listening on ${m.listening} -> ${m.upstream} (${count} workers) ${sharing}\n`)
      }
    })
    worker.on('exit', (code) => {
      // A worker that ends before all listen (a bind error, printed by it): stop the others.
      if (code !== 0 && listening < count && !stopping) {
        failed = true
        stop()
      }
    })
  }
  const stop = () => {
    if (stopping) return
    stopping = true
    for (const w of workers) w.process.kill('SIGTERM')
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  process.on('SIGHUP', () => {
    if (!stopping) for (const w of workers) if (!w.isDead()) w.process.kill('SIGHUP')
  })
  cluster.on('exit', () => {
    if (workers.every((w) => w.isDead())) process.exit(failed ? 1 : 0)
  })
  if (sharing === 'reusePort') fork({ [REUSE_PORT_ENV]: String(listenPort) })
  else for (let i = 0; i < count; i++) fork({})
  const status = async (): Promise<AdminStatus> => {
    if (stopping) return { shuttingDown: true, targets: [] }
    const answers = await scrape(workers)
    return {
      shuttingDown: answers.length === 0 || answers.some((a) => a.answer.status.shuttingDown),
      targets: answers.flatMap((a) => a.answer.status.targets),
    }
  }
  return { list: workers, status }
}
