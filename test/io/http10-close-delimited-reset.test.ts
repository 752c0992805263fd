// RULES.md B4 for HTTP/1.0 clients, who get a close-delimited body: for them a FIN means
// "complete", so when the upstream resets mid-body the gateway must reset the client connection
// (never end it), every time.
//
// The upstream resets only once the client has the relayed bytes: on Linux a RST that arrives
// behind unread data reads as end-of-file (at the gateway, which would then rightly see a
// complete close-delimited body; at the client, which could not tell a reset from a FIN).

import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import type { RawClient } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { gate, read, reset, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'

const BODY = 'partial body'

t.test('an HTTP/1.0 client sees a reset, not a FIN, when a close-delimited body is cut', async (t) => {
  let client: RawClient | null = null
  const up = await ScriptedUpstream.start(t, {
    script: [
      read(),
      write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n${BODY}`),
      gate(() => {
        const c = client as RawClient
        return c.until(() => c.received.includes(BODY), 5_000, 'the client to have the relayed body')
      }),
      reset(),
    ],
  })
  const g = await startGateway(t, up.url)
  const rounds = 10
  for (let i = 0; i < rounds; i++) {
    client = await g.connect()
    client.write('GET / HTTP/1.0\r\n\r\n')
    const response = await client.response()
    const ending = await client.closed()
    t.same(
      { ending, framing: response.framing, body: response.body.toString('latin1') },
      { ending: 'reset', framing: 'close', body: BODY },
      `round ${i}: the body was relayed, then the connection reset`,
    )
    t.notOk(response.complete, `round ${i}: so the client knows the body is incomplete`)
  }
  t.same(
    g.errors.map((e) => `${e.code} ${e.status}`),
    Array(rounds).fill('UPSTREAM_TRUNCATED_BODY 0'),
  )
})

leakCheck(t)
