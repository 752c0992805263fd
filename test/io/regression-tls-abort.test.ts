// Regression guard: aborting a client connection that is a TLSSocket (a gateway behind
// tls.Server, or node:http2's allowHTTP1 server in embedded mode) crashed the process:
// socket.resetAndDestroy() throws ERR_INVALID_HANDLE_TYPE on a TLS handle, and the reset runs in
// a timer, so the throw was an uncaught exception. Such a socket is destroyed instead.
import tls from 'node:tls'
import t from 'tap'
import { watchProcessErrors } from '../helpers/embedded.js'
import { startGateway } from '../helpers/gateway.js'
import { readMessage } from '../helpers/http-reader.js'
import { leakCheck } from '../helpers/resources.js'
import { end, read, ScriptedUpstream, write } from '../helpers/scripted-upstream.js'
import { needsOpenssl, selfSigned } from '../helpers/tls-certs.js'

const processErrors = watchProcessErrors(t)

t.test(
  'a truncated body relayed to a TLS client: the connection is cut, the process lives',
  { skip: needsOpenssl },
  async (t) => {
    const up = await ScriptedUpstream.start(t, {
      script: [read(), write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'), end()],
    })
    const g = await startGateway(t, up.url)
    const credentials = selfSigned()
    const server = tls.createServer({ ...credentials, allowHalfOpen: true }, (socket) => g.gateway.handle(socket))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as { port: number }
    const received = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = []
      const client = tls.connect({ port, host: '127.0.0.1', ca: credentials.cert }, () =>
        client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      )
      client.on('data', (c: Buffer) => chunks.push(c))
      client.on('error', () => {})
      client.on('close', () => resolve(Buffer.concat(chunks)))
    })
    const message = readMessage(received, 0, { response: true, eof: true })?.message
    t.equal(message?.status, 200)
    t.notOk(message?.complete, 'the truncation is visible')
    const err = await g.error('UPSTREAM_TRUNCATED_BODY')
    t.equal(err.status, 0, 'aborted')
  },
)

processErrors.check()
leakCheck(t)
