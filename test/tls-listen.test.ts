// TLS termination: gateway.listen({ tls }) serves HTTPS with ALPN http/1.1 and
// X-Forwarded-Proto https; a failed handshake never crashes anything and is counted in
// stats().tlsHandshakeFailures; setTls() swaps the certificates for new handshakes; bad TLS
// settings are a TypeError, never a later failure. Certificates made with openssl at test time.
import { X509Certificate } from 'node:crypto'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import t, { type Test } from 'tap'
import { createGateway, type Gateway, type GatewayOptions, type ListenTlsOptions } from '../src/index.js'
import { TEST_TIMEOUTS } from './helpers/gateway.js'
import { startHttpUpstream } from './helpers/http-upstream.js'
import { eventually } from './helpers/raw-client.js'
import { leakCheck, trackGateway } from './helpers/resources.js'
import { needsOpenssl, privateCa, selfSigned } from './helpers/tls-certs.js'

const skip = needsOpenssl

async function tlsGateway(t: Test, credentials: ListenTlsOptions, options: Partial<GatewayOptions> = {}) {
  const up = await startHttpUpstream(t, (req, res) => {
    res.end(JSON.stringify({ proto: req.headers['x-forwarded-proto'] ?? null, url: req.url }))
  })
  const gateway = createGateway({ upstream: up.url, timeouts: TEST_TIMEOUTS, ...options })
  t.teardown(trackGateway(gateway, t.fullname))
  const { port } = await gateway.listen({ port: 0, host: '127.0.0.1', tls: credentials })
  return { gateway, port }
}

/** One TLS connection: the negotiated ALPN protocol and the server certificate's fingerprint. */
function handshake(port: number, alpn: string[] = ['http/1.1']) {
  return new Promise<{ alpn: string | false | null; fingerprint: string }>((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: alpn }, () => {
      const result = { alpn: socket.alpnProtocol, fingerprint: socket.getPeerCertificate().fingerprint256 }
      socket.end()
      resolve(result)
    })
    socket.on('error', reject)
  })
}

function fingerprint(cert: string): string {
  return new X509Certificate(cert).fingerprint256
}

function httpsGet(port: number, ca: string, path = '/') {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      .on('error', reject)
  })
}

t.test('HTTPS with ALPN http/1.1; X-Forwarded-Proto https', { skip }, async (t) => {
  const { ca, key, cert } = privateCa()
  const { port } = await tlsGateway(t, { key, cert }, { xForwarded: true })
  const res = await httpsGet(port, ca, '/x?y=1')
  t.equal(res.status, 200)
  t.same(JSON.parse(res.body), { proto: 'https', url: '/x?y=1' })
  t.equal((await handshake(port, ['h2', 'http/1.1'])).alpn, 'http/1.1', 'h2 offered too: http/1.1 chosen')
  const fetched = await fetch(`https://localhost:${port}/`).catch((err: Error) => err)
  t.ok(fetched instanceof Error, 'a client that does not trust the private CA refuses the certificate')
})

t.test('failed handshakes are counted, and never crash or stop the listener', { skip }, async (t) => {
  const { ca, key, cert } = privateCa()
  const { gateway, port } = await tlsGateway(t, { key, cert })
  t.equal(gateway.stats().tlsHandshakeFailures, 0)
  // Plain HTTP to the TLS port.
  await new Promise<void>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n'))
    s.on('error', () => {})
    s.on('close', () => resolve())
    s.resume()
  })
  // A client offering only h2: no protocol in common (ALPN, RFC 7301 §3.2).
  const h2only = await handshake(port, ['h2']).catch((err: Error) => err)
  t.ok(h2only instanceof Error, `h2 only: refused at the handshake (${h2only})`)
  // A certificate the client does not trust: the client aborts the handshake.
  const untrusted = await handshake(port, ['http/1.1']).then(
    () => null,
    (err: Error) => err,
  )
  t.equal(untrusted, null, '(rejectUnauthorized off: this one completes)')
  const strict = await new Promise<Error | null>((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost' }, () => resolve(null))
    s.on('error', (err) => resolve(err))
  })
  t.ok(strict instanceof Error, 'a client without the CA gives up')
  await eventually(() => gateway.stats().tlsHandshakeFailures >= 3, 'three failed handshakes counted')
  const res = await httpsGet(port, ca)
  t.equal(res.status, 200, 'the listener serves on')
})

t.test('setTls(): new certificates for new handshakes; bad ones throw and change nothing', { skip }, async (t) => {
  const first = privateCa()
  const second = selfSigned()
  const { gateway, port } = await tlsGateway(t, { key: first.key, cert: first.cert })
  t.equal((await handshake(port)).fingerprint, fingerprint(first.cert))
  gateway.setTls({ key: second.key, cert: second.cert })
  t.equal((await handshake(port)).fingerprint, fingerprint(second.cert), 'the new certificate')
  t.throws(() => gateway.setTls({ key: first.key, cert: second.cert }), {
    name: 'TypeError',
    message: /listen option "tls" cannot be used/,
  })
  t.throws(() => gateway.setTls({ key: 'not a key', cert: 'not a cert' }), { name: 'TypeError' })
  t.throws(() => gateway.setTls({ cert: second.cert } as ListenTlsOptions), /needs a key and a cert/)
  t.equal((await handshake(port)).fingerprint, fingerprint(second.cert), 'still the certificate set last')
})

t.test('bad TLS settings at listen() reject with a TypeError; setTls() without a TLS listener throws', async (t) => {
  const gateway = createGateway({ upstream: 'http://127.0.0.1:1' })
  t.teardown(trackGateway(gateway, t.fullname))
  await t.rejects(gateway.listen({ tls: { key: 'x', cert: 'y' } }), { name: 'TypeError', message: /"tls"/ })
  await t.rejects(gateway.listen({ tls: {} as ListenTlsOptions }), /needs a key and a cert/)
  await gateway.listen({ port: 0 })
  t.throws(() => gateway.setTls({ key: 'x', cert: 'y' }), { name: 'TypeError' })
  if (!needsOpenssl) {
    const { key, cert } = selfSigned()
    t.throws(() => gateway.setTls({ key, cert }), /no listener serves TLS/)
  }
})

t.test('close() cuts off a handshake that never ends', { skip }, async (t) => {
  const { key, cert } = selfSigned()
  // timeouts.request bounds a handshake: a minute here, so that only close() can end it soon.
  const { gateway, port } = await tlsGateway(t, { key, cert }, { timeouts: { ...TEST_TIMEOUTS, request: 60_000 } })
  const stalled = net.connect(port, '127.0.0.1')
  stalled.on('error', () => {})
  const closedAt = new Promise<number>((resolve) => stalled.on('close', () => resolve(Date.now())))
  await new Promise((resolve) => stalled.once('connect', resolve))
  const started = Date.now()
  await gateway.close()
  const elapsed = (await closedAt) - started
  // Generous for a loaded machine, far below the 60 s handshake timeout it would otherwise wait.
  t.ok(elapsed < 20_000, `the stalled socket closed ${elapsed} ms after close()`)
})

t.test('stats() of a gateway: tlsHandshakeFailures is there without TLS too', async (t) => {
  const gateway: Gateway = createGateway({ upstream: 'http://127.0.0.1:1' })
  t.teardown(trackGateway(gateway, t.fullname))
  t.equal(gateway.stats().tlsHandshakeFailures, 0)
})

leakCheck(t)
