// What a failure to open a connection means (io/connect.ts connectErrorCode): the
// upstream's (refused, DNS, unreachable, timed out, TLS) or the gateway's own (no descriptor, no
// local port: GATEWAY_SOCKET_ERROR, never blamed on the upstream, never retried elsewhere). The
// table is checked whole; the gateway's own failure is also provoked for real, in a process whose
// descriptors are used up.

import { type ChildProcess, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { proxyStatusFor, sourceFor } from '../../src/errors.js'
import { connectErrorCode } from '../../src/io/connect.js'
import { startGateway } from '../helpers/gateway.js'
import { field } from '../helpers/http-reader.js'
import { eventually, RawClient } from '../helpers/raw-client.js'

const TABLE: [code: string | undefined, expected: string][] = [
  ['ECONNREFUSED', 'UPSTREAM_CONNECT_REFUSED'],
  ['ENOTFOUND', 'UPSTREAM_DNS_ERROR'],
  ['EAI_AGAIN', 'UPSTREAM_DNS_ERROR'],
  ['EAI_FAIL', 'UPSTREAM_DNS_ERROR'],
  ['EAI_NONAME', 'UPSTREAM_DNS_ERROR'],
  ['EAI_NODATA', 'UPSTREAM_DNS_ERROR'],
  ['EHOSTUNREACH', 'UPSTREAM_UNREACHABLE'],
  ['ENETUNREACH', 'UPSTREAM_UNREACHABLE'],
  ['EHOSTDOWN', 'UPSTREAM_UNREACHABLE'],
  ['ENETDOWN', 'UPSTREAM_UNREACHABLE'],
  ['ETIMEDOUT', 'UPSTREAM_CONNECT_TIMEOUT'],
  ['ECONNRESET', 'UPSTREAM_CLOSED'],
  ['ECONNABORTED', 'UPSTREAM_CLOSED'],
  ['EPIPE', 'UPSTREAM_CLOSED'],
  ['EPROTO', 'UPSTREAM_TLS_ERROR'],
  ['ERR_SSL_WRONG_VERSION_NUMBER', 'UPSTREAM_TLS_ERROR'],
  ['ERR_TLS_HANDSHAKE_TIMEOUT', 'UPSTREAM_TLS_ERROR'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['UNABLE_TO_GET_ISSUER_CERT', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_HAS_EXPIRED', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_NOT_YET_VALID', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_REVOKED', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_UNTRUSTED', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['CERT_REJECTED', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'UPSTREAM_TLS_CERTIFICATE_ERROR'],
  // The gateway's own resources, and anything unknown: not the upstream's fault.
  ['EMFILE', 'GATEWAY_SOCKET_ERROR'],
  ['ENFILE', 'GATEWAY_SOCKET_ERROR'],
  ['ENOBUFS', 'GATEWAY_SOCKET_ERROR'],
  ['ENOMEM', 'GATEWAY_SOCKET_ERROR'],
  ['EADDRNOTAVAIL', 'GATEWAY_SOCKET_ERROR'],
  ['EADDRINUSE', 'GATEWAY_SOCKET_ERROR'],
  ['constructor', 'GATEWAY_SOCKET_ERROR'],
  [undefined, 'GATEWAY_SOCKET_ERROR'],
]

t.test('connect errors: the whole errno table', async (t) => {
  for (const [code, expected] of TABLE) {
    const err = Object.assign(new Error('connect failed'), code === undefined ? {} : { code })
    t.equal(connectErrorCode(err), expected, String(code))
  }
  t.equal(sourceFor('GATEWAY_SOCKET_ERROR'), 'gateway')
  t.equal(proxyStatusFor('GATEWAY_SOCKET_ERROR'), 'proxy_internal_error')
})

// ---- the gateway's descriptors used up -------------------------------------------------------

const linux = existsSync('/proc/self/fd')
const skip = linux ? false : 'needs Linux (ulimit and /dev/null semantics of this test)'

interface Reported {
  code: string
  status: number
  message: string
}

async function starvedGateway(t: Test, upstream: string) {
  const file = fileURLToPath(new URL('../helpers/fd-starved-gateway.ts', import.meta.url))
  // A small descriptor limit: filling it is quick, and nothing else of the test is affected.
  const child: ChildProcess = fork(file, [upstream], {
    execPath: '/bin/sh',
    execArgv: ['-c', 'ulimit -n 128 && exec "$0" "$@"', process.execPath, '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const reported: Reported[] = []
  let starved: (() => void) | null = null
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (msg) => {
      const m = msg as { port?: number; starved?: number } & Reported
      if (m.port !== undefined) resolve(m.port)
      else if (m.starved !== undefined) starved?.()
      else reported.push(m)
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`gateway process exited (${code})`)))
  })
  /** Once a client connection is accepted: use up the gateway's descriptors. */
  const starve = () =>
    new Promise<void>((resolve) => {
      starved = resolve
      child.send('starve')
    })
  return { port, reported, child, starve }
}

async function refusedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

t.test('no descriptor for the upstream connection → 502 GATEWAY_SOCKET_ERROR', { skip }, async (t) => {
  // Were the upstream connect to get a descriptor after all, it would be refused: a different code.
  const g = await starvedGateway(t, `http://127.0.0.1:${await refusedPort()}`)
  const client = await RawClient.connect(t, g.port)
  t.teardown(() => client.destroy())
  await g.starve()
  client.write('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')
  const response = await client.response()
  t.equal(response.status, 502)
  t.equal(
    field(response.headers, 'proxy-status'),
    'strictgate; error=proxy_internal_error; details="GATEWAY_SOCKET_ERROR"',
  )
  await eventually(() => g.reported.length > 0, 'the error to be reported')
  t.same(
    g.reported.map((r) => r.code),
    ['GATEWAY_SOCKET_ERROR'],
    'reported once, as the gateway’s failure (not retried)',
  )
  t.match(g.reported[0].message, /EMFILE/)
})

t.test('a listener error after listen is reported as GATEWAY_SOCKET_ERROR, never thrown', async (t) => {
  // libuv keeps a spare descriptor to accept and close connections when EMFILE strikes at
  // accept (so that case never reaches 'error'); what does reach a listening server's 'error'
  // must be reported, not swallowed nor left to crash the process. The listening server is
  // caught as the gateway listens on it, and given the error Node would emit.
  const upstream = `http://127.0.0.1:${await refusedPort()}`
  const created: net.Server[] = []
  const listen = net.Server.prototype.listen
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    created.push(this)
    return (listen as (...a: unknown[]) => net.Server).apply(this, args)
  } as typeof listen
  t.teardown(() => {
    net.Server.prototype.listen = listen
  })
  const g = await startGateway(t, upstream)
  t.equal(created.length, 1, 'the gateway listens on one server')
  created[0].emit('error', Object.assign(new Error('accept ENFILE'), { code: 'ENFILE', syscall: 'accept' }))
  const err = await g.error('GATEWAY_SOCKET_ERROR')
  t.match(err.message, /^listener: accept ENFILE/)
  t.equal(err.source, 'gateway')
  t.equal(err.cause instanceof Error, true, 'the original error is its cause')
})
