// Everything a test opens is closed by a teardown registered where it is opened, and each test
// file ends with a leak check: every gateway's close() resolved with no client or upstream
// connection left, and the process holds no more sockets, servers or timers than before the
// file's first test.

import type { Test } from 'tap'
import type { Gateway } from '../../src/index.js'

export interface Closable {
  close(): Promise<void> | void
}

/** Close `thing` when `t` ends. */
export function closeWith(t: Test, thing: Closable): void {
  t.teardown(() => thing.close())
}

interface GatewayRecord {
  gateway: Gateway
  name: string
  closed: boolean
}

const gateways: GatewayRecord[] = []

/** Remember a gateway for the leak check; returns the teardown that closes it. */
export function trackGateway(gateway: Gateway, name: string): () => Promise<void> {
  const record: GatewayRecord = { gateway, name, closed: false }
  gateways.push(record)
  return async () => {
    await gateway.close()
    record.closed = true
  }
}

const WATCHED = ['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'TTYWrap'] as const

function counts(): Record<string, number> {
  const out: Record<string, number> = {}
  for (const kind of WATCHED) out[kind] = 0
  for (const kind of process.getActiveResourcesInfo()) if (kind in out) out[kind]++
  return out
}

/** Taken when a test file first imports the helpers, before any of its tests ran. */
const baseline = counts()

/**
 * Call last in a test file: adds, as its last test, a check that everything opened since the
 * baseline is closed again. Closed handles leave the list a few event-loop turns later, so the
 * check polls (bounded).
 */
export function leakCheck(t: Test): void {
  t.test('leak check: gateways closed, no sockets, servers or timers left', async (t) => {
    for (const record of gateways) {
      t.ok(record.closed, `${record.name}: close() resolved`)
      const { clients, upstream, targets } = record.gateway.stats()
      t.same({ clients, upstream }, { clients: 0, upstream: { open: 0, idle: 0, waiting: 0 } }, `${record.name}: stats`)
      for (const target of targets) {
        t.same([target.active, target.idle], [0, 0], `${record.name}: ${target.url} has no connections left`)
      }
    }
    const deadline = Date.now() + 5_000
    let now = counts()
    while (WATCHED.some((k) => now[k] > baseline[k]) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      now = counts()
    }
    // The polling timer itself has fired and is gone by now.
    for (const kind of WATCHED)
      t.ok(now[kind] <= baseline[kind], `${kind}: ${now[kind]} open, ${baseline[kind]} before`)
  })
}
