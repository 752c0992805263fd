#!/usr/bin/env node
// strictgate's command line: one gateway in the foreground (or N workers sharing the port:
// cli-workers.ts), one line when it listens, one line per gateway-made error (and per exchange
// with --access-log: cli-log.ts), an admin listener with --admin, a reload of the --config file
// and the certificates on SIGHUP (cli-config.ts), a graceful drain on SIGINT/SIGTERM.

import cluster from 'node:cluster'
import diagnostics from 'node:diagnostics_channel'
import { type CliConfig, helpText, parseCli } from './cli-args.js'
import { CliSettings } from './cli-config.js'
import { CliLog } from './cli-log.js'
import { UsageError } from './cli-usage.js'
import { reusePortFor, serveWorkerScrapes, startWorkers } from './cli-workers.js'
import { startDemoUpstream } from './demo/demo-upstream.js'
import { ROUTES } from './demo/routes.js'
import { createGateway, type ErrorMessage, type ExchangeMessage } from './gateway.js'
import { ConfigError } from './ops/config-file.js'
import type { HealthMessage } from './ops/health-check.js'
import { VERSION } from './version.js'

/** `http://host:port` for an address Node gives (IPv6 in brackets). */
function urlOf(scheme: string, address: { address: string; family: string; port: number }): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `${scheme}://${host}:${address.port}`
}

async function runGateway(cli: CliConfig, quiet: boolean): Promise<void> {
  const demo = cli.demo ? await startDemoUpstream() : null
  const settings = new CliSettings(cli, demo?.url ?? null)
  await settings.load()
  const tls = await settings.readTls()
  const gateway = createGateway(settings.options())
  settings.attach(gateway)
  const log = new CliLog(cli.log, cli.accessLog)
  diagnostics.subscribe('strictgate:error', (msg) => log.error(msg as ErrorMessage, settings.upstream))
  if (cli.accessLog) diagnostics.subscribe('strictgate:exchange', (msg) => log.exchange(msg as ExchangeMessage))
  diagnostics.subscribe('strictgate:health', (msg) => {
    const { target, up, reason } = msg as HealthMessage
    log.event('health', { target, state: up ? 'up' : 'down', reason })
  })
  // In a worker forked for SO_REUSEPORT: a listener of its own on the port the primary chose.
  const reusePort = reusePortFor()
  const { host, port } = settings.listen
  const address = await gateway.listen({
    host,
    port: reusePort ?? port,
    reusePort: reusePort !== null,
    tls: tls ?? undefined,
  })
  const url = urlOf(tls === null ? 'http' : 'https', address)
  // With workers, the primary serves the admin listener for all of them (cli-workers.ts).
  const admin = settings.admin
  if (admin !== null && !cluster.isWorker) {
    const at = await gateway.listenAdmin(admin)
    if (!quiet) process.stdout.write(`strictgate admin on ${urlOf('http', at)} (/metrics, /healthz)\n`)
  }
  if (!quiet) {
    process.stdout.write(`strictgate listening on ${url} -> ${settings.upstream}\n`)
    if (cli.demo) {
      process.stdout.write(`demo routes (try: curl -i ${url}/hello):\n`)
      process.stdout.write(`  ${url}/  (index)\n`)
      for (const r of ROUTES) process.stdout.write(`  ${url}${r.path}  ${r.expect}\n`)
    }
  }
  let stopping = false
  if (cluster.isWorker) {
    serveWorkerScrapes(gateway, () => stopping)
    process.send?.({ listening: url, upstream: settings.upstream })
  }
  const stop = () => {
    if (stopping) return
    stopping = true
    gateway
      .close()
      .then(() => log.close())
      .then(() => demo?.close())
      .then(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // One reload at a time, in order (the reloader queues them); none once stopping.
  process.on('SIGHUP', () => {
    if (!stopping) void settings.reload(log)
  })
}

export async function main(argv: string[]): Promise<void> {
  let config: CliConfig
  try {
    config = parseCli(argv)
    if (config.action === 'help') {
      process.stdout.write(helpText())
      return
    }
    if (config.action === 'version') {
      process.stdout.write(`${VERSION}\n`)
      return
    }
    if (cluster.isPrimary && config.workers > 1) {
      await startWorkers(config)
      return
    }
    await runGateway(config, cluster.isWorker)
  } catch (err) {
    if (err instanceof UsageError || err instanceof TypeError || err instanceof ConfigError) {
      process.stderr.write(
        `strictgate: ${err.message.replace(/^strictgate: /, '')}\nRun "strictgate --help" for the flags.\n`,
      )
      process.exit(2)
    }
    const e = err as NodeJS.ErrnoException
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      process.stderr.write(`strictgate: cannot listen: ${e.message}\n`)
      process.exit(1)
    }
    throw err
  }
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`strictgate: ${String(err?.stack ?? err)}\n`)
  process.exit(1)
})
