#!/usr/bin/env node
// strictgate's command line: one gateway in the foreground (or N workers sharing the port:
// cli-workers.ts), one line when it listens, one line per gateway-made error, clean stop on
// SIGINT/SIGTERM.

import cluster from 'node:cluster'
import diagnostics from 'node:diagnostics_channel'
import { type CliConfig, helpText, parseCli } from './cli-args.js'
import { UsageError } from './cli-usage.js'
import { listenReusePort, startWorkers } from './cli-workers.js'
import { startDemoUpstream } from './demo/demo-upstream.js'
import { DEMO_RESPONSE_TIMEOUT_MS, ROUTES } from './demo/routes.js'
import { createGateway, type ErrorMessage } from './gateway.js'
import { VERSION } from './version.js'

function logError(config: CliConfig, upstream: string, msg: ErrorMessage): void {
  const { error, request } = msg
  const entry = {
    time: new Date().toISOString(),
    client: msg.client ?? '-',
    method: request?.method ?? '-',
    target: request?.target ?? '-',
    status: error.status,
    code: error.code,
    upstream,
  }
  // With several workers, which one answered: its pid.
  const pid = cluster.isWorker ? process.pid : undefined
  if (config.log === 'json') process.stdout.write(`${JSON.stringify({ ...entry, message: error.message, pid })}\n`)
  else {
    process.stdout.write(
      `${entry.time} ${entry.client} ${entry.method} ${entry.target} ${entry.status} ${entry.code} ${entry.upstream}${pid === undefined ? '' : ` pid=${pid}`}\n`,
    )
  }
}

async function runGateway(config: CliConfig, quiet: boolean): Promise<void> {
  let upstream = config.upstreams.join(', ')
  let targets: string | string[] = config.upstreams.length === 1 ? config.upstreams[0] : config.upstreams
  let closeDemo: (() => Promise<void>) | null = null
  if (config.demo) {
    const demo = await startDemoUpstream()
    upstream = demo.url
    targets = demo.url
    closeDemo = demo.close
    config.options.timeouts = { response: DEMO_RESPONSE_TIMEOUT_MS, ...config.options.timeouts }
  }
  const gateway = createGateway({ ...config.options, upstream: targets })
  diagnostics.subscribe('strictgate:error', (msg) => logError(config, upstream, msg as ErrorMessage))
  const shared = listenReusePort(gateway, config.listen.host)
  const { address, close: stopAccepting } =
    shared === null ? { address: await gateway.listen(config.listen), close: () => {} } : await shared
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  const url = `http://${host}:${address.port}`
  if (!quiet) {
    process.stdout.write(`strictgate listening on ${url} -> ${upstream}\n`)
    if (config.demo) {
      process.stdout.write(`demo routes (try: curl -i ${url}/hello):\n`)
      process.stdout.write(`  ${url}/  (index)\n`)
      for (const r of ROUTES) process.stdout.write(`  ${url}${r.path}  ${r.expect}\n`)
    }
  }
  if (cluster.isWorker) process.send?.({ listening: url, upstream })
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    stopAccepting()
    gateway
      .close()
      .then(() => closeDemo?.())
      .then(() => process.exit(0))
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
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
      await startWorkers(config.workers, config.listen)
      return
    }
    await runGateway(config, cluster.isWorker)
  } catch (err) {
    if (err instanceof UsageError || err instanceof TypeError) {
      process.stderr.write(`strictgate: ${err.message}\nRun "strictgate --help" for the flags.\n`)
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
