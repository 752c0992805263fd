// Regression: a connection refused beyond limits.maxConnections (503) was never read, so behind
// the request it had sent the client's FIN went unseen, and the gateway held the socket (and its
// file descriptor) for the full 1 s safety timeout after the client had closed. Under a flood
// beyond the limit those piled up.
// Found by hostile.test.ts (the limit test took a second to tear down).

import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'

const sockets = () => process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap').length

t.test('a refused connection is closed on the gateway side as soon as the client closes', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: [read(), write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
  })
  const g = await startGateway(t, up.url, { limits: { maxConnections: 1 } })
  const held = await g.connect()
  await eventually(() => g.gateway.stats().clients === 1, 'the first connection to be served')
  const before = sockets()
  // Each refused socket's 1 s idle timeout starts at the gateway's accept, after this moment.
  const begun = Date.now()
  const refused = await Promise.all(Array.from({ length: 20 }, () => g.connect()))
  // Clients send their request at once; unread, it kept the gateway from seeing their FIN.
  for (const c of refused) c.write('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')
  const statuses = await Promise.all(refused.map((c) => c.response().then((r) => r.status)))
  t.same([...new Set(statuses)], [503])
  // Each client closes once it has its answer (a FIN in reply to the gateway's).
  await Promise.all(refused.map((c) => c.closed()))
  await eventually(() => sockets() <= before, 'the gateway side of every refused socket to close')
  const elapsed = Date.now() - begun
  t.ok(
    elapsed < 1_000,
    `all closed ${elapsed} ms after the first connect: before the 1 s timeout could have fired for any of them`,
  )
  held.destroy()
})

leakCheck(t)
