// `--workers N`: N processes serving one port. Where the kernel can balance connections itself
// (SO_REUSEPORT through `listen({ reusePort })`: Node 22.12+/23.1+ on Linux and a few BSDs),
// every worker binds a listener of its own, and accepts on it without a detour through the
// primary. Elsewhere node:cluster's round-robin: the primary accepts and hands each connection
// to a worker in turn.

import cluster from 'node:cluster'
import net from 'node:net'
import os from 'node:os'
import type { Gateway } from './gateway.js'

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
 * Start `count` workers on host:port. With SO_REUSEPORT, a port another process already
 * listens on is refused first (EADDRINUSE, as without workers): listeners that all set
 * SO_REUSEPORT under one user share a port silently, so a second strictgate started on the
 * same port would otherwise take half of the first one's connections.
 */
export async function startWorkers(count: number, listen: { host: string; port: number }): Promise<void> {
  const sharing: Sharing = (await reusePortWorks(listen.host)) ? 'reusePort' : 'round-robin'
  if (sharing === 'reusePort' && listen.port !== 0) {
    const servers: net.Server[] = []
    try {
      await bind(listen.host, listen.port, false, servers)
    } finally {
      for (const s of servers) s.close()
    }
  }
  runWorkers(count, listen.port, sharing)
}

/**
 * In a worker forked for SO_REUSEPORT: serve `gateway` on a listener of this process's own,
 * bound with `reusePort` to the port the primary gave. Resolves to the bound address and a
 * function that stops accepting. Returns null in any other process (the caller then uses
 * gateway.listen(), which in a round-robin worker goes through the primary).
 */
export function listenReusePort(
  gateway: Gateway,
  host: string,
): Promise<{ address: net.AddressInfo; close: () => void }> | null {
  const port = cluster.isWorker ? process.env[REUSE_PORT_ENV] : undefined
  if (port === undefined) return null
  // The server options Gateway.listen() uses (gateway.ts): a client's half-close is an
  // ordinary end of its requests, answered before our side closes.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => gateway.handle(socket))
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port: Number(port), reusePort: true } as net.ListenOptions, () => {
      server.off('error', reject)
      // As in Gateway.listen(): an accept error (EMFILE...) must not end the process.
      server.on('error', () => {})
      resolve({ address: server.address() as net.AddressInfo, close: () => server.close() })
    })
  })
}

interface Listening {
  listening?: string
  upstream?: string
}

/**
 * In the primary: fork `count` workers sharing the port (`sharing`), print one line once all
 * listen, forward SIGINT/SIGTERM to them, and exit when they are gone (1 if one failed to
 * start).
 */
function runWorkers(count: number, listenPort: number, sharing: Sharing): void {
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
  cluster.on('exit', () => {
    if (workers.every((w) => w.isDead())) process.exit(failed ? 1 : 0)
  })
  if (sharing === 'reusePort') fork({ [REUSE_PORT_ENV]: String(listenPort) })
  else for (let i = 0; i < count; i++) fork({})
}
