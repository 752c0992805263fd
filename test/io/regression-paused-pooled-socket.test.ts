// Regression: an upstream socket paused for client backpressure during a large body went back to
// the pool still paused, so the next request on it never saw its response (504 after
// timeouts.response). Found by the soak run (bench/soak).
//
// Backpressure is made, and checked: the client reads nothing until the gateway's write to it
// returned false and the gateway paused its upstream socket. Loopback buffers take about 4 MiB
// from a sender whose peer does not read (the peer's receive buffer plus an autotuned send
// buffer), so the bodies are larger; each round has a client connection of its own, since a
// receive buffer that has been read from grows (Linux autotunes it up to tcp_rmem's maximum,
// 32 MiB here) and then takes a whole body without pushing back. The pause outlived the exchange when the write of the
// body's last bytes returned false, which depends on where the body ends relative to the refills
// of the pipe once the client reads again: so several rounds, ending at different offsets, share
// one pooled connection, and a connection left paused fails the round after it. (Checked: with
// the pause on any failed write and the resume in UpstreamPool.release() both put back as before
// the fix, every run failed. Today exchange.ts also pauses only while relaying, so removing the
// resume alone does not make this test fail.)

import t from 'tap'
import { pattern, sha256 } from '../helpers/bytes.js'
import { startGateway } from '../helpers/gateway.js'
import { eventually } from '../helpers/raw-client.js'
import { leakCheck } from '../helpers/resources.js'
import { read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'
import { peerOf, socketsTo } from '../helpers/socket-watch.js'

const GET = 'GET / HTTP/1.1\r\nHost: example.test\r\n\r\n'
const MIB = 1024 * 1024
const BODY = pattern(9 * MIB, 7)
const SIZES = [8 * MIB, 6 * MIB + 40_000, 7 * MIB + 90_000, 9 * MIB]
const response = (size: number) =>
  Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`), BODY.subarray(0, size)])
const SMALL = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'

t.test('a pooled connection is read again after bodies relayed under backpressure', async (t) => {
  const up = await ScriptedUpstream.start(t, {
    script: [...SIZES.flatMap((size) => [read(), write(response(size))]), read(), write(SMALL)],
  })
  const g = await startGateway(t, up.url, { timeouts: { response: 2_000 } })
  for (const size of SIZES) {
    const client = await g.connect()
    const start = client.length
    client.socket.pause()
    client.write(GET)
    await eventually(
      () => peerOf(client.socket)?.writableNeedDrain === true,
      `${size} bytes: the gateway's write to the client to return false (backpressure)`,
    )
    const [upstreamSide] = socketsTo(up.port)
    t.ok(upstreamSide?.isPaused(), `${size} bytes: backpressure paused the gateway's upstream socket`)
    client.socket.resume()
    // The body first (cheap to wait for), then the message: parsing on every read would be quadratic.
    await client.bytes(start + size)
    const message = await client.response()
    t.ok(message.status === 200 && message.complete, `${size} bytes: complete`)
    t.equal(sha256(message.body), sha256(BODY.subarray(0, size)), `${size} bytes: byte for byte`)
    await eventually(() => g.gateway.stats().upstream.idle === 1, 'the upstream connection to go back to the pool')
    client.destroy()
  }
  const client = await g.connect()
  client.write(GET)
  const small = await client.response()
  t.equal(small.body.toString(), 'hello', 'the next request on the pooled connection is answered')
  t.equal(up.connections, 1, 'every request on the one pooled connection')
  t.same(g.codes(), [])
  client.destroy()
})

leakCheck(t)
