// Regression: a client that reset its connection in the middle of a request head was dropped
// without a report, while one that sent FIN at the same byte was reported as CLIENT_ABORTED
// (RULES.md: a client that closes mid-request is CLIENT_ABORTED). Found by client-faults.test.ts.

import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'
import { peerRead } from '../helpers/socket-watch.js'

for (const ending of ['RST', 'FIN'] as const) {
  t.test(`${ending} in the middle of a request head is reported as CLIENT_ABORTED`, async (t) => {
    const up = await ScriptedUpstream.start(t, {
      script: [read(), write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
    })
    const g = await startGateway(t, up.url)
    const client = await g.connect()
    client.write('GET / HTTP/1.1\r\nHost: exa')
    // The gateway reads the partial head before the ending arrives (a RST behind unread data would read as FIN).
    await peerRead(client.socket, 'the gateway to read the partial head')
    if (ending === 'RST') client.socket.resetAndDestroy()
    else client.end()
    const err = await g.error('CLIENT_ABORTED')
    t.equal(err.source, 'client')
    t.equal(err.status, 0, 'nothing sent')
    await eventually(() => g.gateway.stats().clients === 0, 'the connection to be gone')
    t.same(g.codes(), ['CLIENT_ABORTED'], 'reported once')
    t.equal(up.connections, 0, 'no upstream connection opened')
    client.destroy()
  })
}

t.test('a reset between requests (nothing of a request sent) is not reported', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: [read(), write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
  })
  const g = await startGateway(t, up.url)
  const { client, response } = await g.request('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')
  t.equal(response.status, 200)
  client.socket.resetAndDestroy()
  await eventually(() => g.gateway.stats().clients === 0, 'the connection to be gone')
  t.same(g.codes(), [])
})

leakCheck(t)
