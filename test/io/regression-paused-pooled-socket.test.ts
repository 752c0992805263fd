// Regression: an upstream socket paused for client backpressure during a large body went back to
// the pool still paused, so the next request on it never saw its response (504 after
// timeouts.response). Found by the soak run (bench/soak).
import http from 'node:http'
import t from 'tap'
import { startDemoUpstream } from '../../src/demo.js'
import { createGateway } from '../../src/index.js'

t.test('a pooled connection is read again after a body relayed under backpressure', async (t) => {
  const demo = await startDemoUpstream()
  t.teardown(() => demo.close())
  const codes: string[] = []
  const gw = createGateway({
    upstream: demo.url,
    timeouts: { response: 2_000 },
    onError: (err) => void codes.push(err.code),
  })
  t.teardown(() => gw.close())
  const { port } = await gw.listen({ port: 0, host: '127.0.0.1' })
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const get = (path: string, slow: boolean) =>
    new Promise<[number, number]>((resolve, reject) => {
      http
        .get(`http://127.0.0.1:${port}${path}`, { agent }, (res) => {
          let n = 0
          // A slow reader makes the gateway's client writes return false: backpressure.
          if (slow) {
            res.pause()
            setTimeout(() => res.resume(), 100)
          }
          res.on('data', (c: Buffer) => (n += c.length))
          res.on('end', () => resolve([res.statusCode ?? 0, n]))
        })
        .on('error', reject)
    })
  t.same(await get('/large', true), [200, 1_048_576])
  t.equal(gw.stats().upstream.idle, 1, 'the upstream connection went back to the pool')
  t.same(await get('/hello', false), [200, 41], 'the next request on it is answered')
  t.same(codes, [])
})
