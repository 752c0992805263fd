// `--workers N`: every worker serves requests, bound with SO_REUSEPORT where Node (22.12+,
// 23.1+) and the OS (Linux) support it and through node:cluster's round-robin elsewhere; a port
// another process listens on is refused either way. Workers are told apart by the pid their
// error log lines carry. With at least as many workers as CPUs, each runs V8's GC on its own
// thread (--single-threaded-gc).
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import t from 'tap'
import { exited, startCli } from './helpers/cli-process.js'
import { httpRequest } from './helpers/http-upstream.js'
import { eventually } from './helpers/raw-client.js'

const WORKERS = 3
/**
 * Connections tried before giving up on seeing every worker. Round-robin needs WORKERS; the
 * kernel's SO_REUSEPORT hash spreads them evenly, so that one worker is still unseen after
 * 300 is a chance of about 3 × (2/3)^300 (< 1e-50).
 */
const MAX_CONNECTIONS = 300

/** What the issue asks for: SO_REUSEPORT on Linux with Node 22.12+ or 23.1+. */
function reusePortExpected(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number)
  const node = major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12)
  return node && process.platform === 'linux'
}

/** The pids in the JSON error log lines printed so far. */
function loggedPids(output: string): number[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line).pid as number)
}

t.test(`--workers ${WORKERS}: every worker answers requests`, async (t) => {
  const { child, ready, output } = startCli(
    ['--demo', '--listen', '127.0.0.1:0', '--workers', String(WORKERS), '--log', 'json'],
    /listening on http:\/\/127\.0\.0\.1:(\d+) .*\((\d+) workers\) (\S+)/,
  )
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const [, port, count, sharing] = await ready
  t.equal(Number(count), WORKERS)
  t.equal(sharing, reusePortExpected() ? 'reusePort' : 'round-robin', `port sharing on Node ${process.version}`)

  // A malformed upstream response is logged with the pid of the worker that relayed it. One
  // connection per request (agent: false), so that each one is placed on a worker anew.
  const pids = new Set<number>()
  let sent = 0
  while (pids.size < WORKERS && sent < MAX_CONNECTIONS) {
    const res = await httpRequest({ port: Number(port), path: '/broken/version', agent: false })
    t.equal(res.status, 502, 'the demo route answers 502', { bail: true })
    sent++
    await eventually(() => loggedPids(output()).length === sent, `log line ${sent}`)
    for (const pid of loggedPids(output())) pids.add(pid)
  }
  t.equal(pids.size, WORKERS, `${WORKERS} workers logged errors over ${sent} connections: ${[...pids].join(', ')}`)
  t.notOk(pids.has(child.pid as number), 'the primary serves nothing itself')
  const singleThreadedGc = WORKERS >= os.availableParallelism()
  for (const pid of pids) {
    // On Linux, each pid is a child of the CLI's process (a worker), not some other process,
    // started with the V8 flags the CPU count calls for.
    const status = `/proc/${pid}/status`
    if (!existsSync(status)) continue
    t.match(readFileSync(status, 'utf8'), new RegExp(`\\nPPid:\\s+${child.pid}\\n`))
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    t.equal(
      argv.includes('--single-threaded-gc'),
      singleThreadedGc,
      `worker ${pid} --single-threaded-gc (${WORKERS} workers, ${os.availableParallelism()} CPUs)`,
    )
  }

  child.kill('SIGTERM')
  t.equal(await exited(child), 0, 'all workers stop on SIGTERM and the primary exits 0')
})

t.test('--workers on a port another strictgate listens on: refused, not shared', async (t) => {
  const first = startCli(
    ['--demo', '--listen', '127.0.0.1:0', '--workers', '2'],
    /listening on http:\/\/127\.0\.0\.1:(\d+) .*\(2 workers\)/,
  )
  t.teardown(() => {
    if (first.child.exitCode === null) first.child.kill('SIGKILL')
  })
  const [, port] = await first.ready
  // With SO_REUSEPORT, listeners under one user that all set it share a port: a second
  // instance would silently take part of the first one's connections.
  const second = startCli(['--demo', '--listen', `127.0.0.1:${port}`, '--workers', '2'], /listening on/)
  t.teardown(() => {
    if (second.child.exitCode === null) second.child.kill('SIGKILL')
  })
  await t.rejects(second.ready, /exited with 1/)
  t.equal(await exited(second.child), 1)
  t.match(second.errors(), /cannot listen: .*EADDRINUSE/)
  first.child.kill('SIGTERM')
  t.equal(await exited(first.child), 0)
})
