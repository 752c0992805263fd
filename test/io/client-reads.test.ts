// Reading accepted sockets into the gateway's own buffers (src/io/client-reads.ts), with real
// sockets on 127.0.0.1: it must work on every Node the suite runs on (20, 22, 24), deliver the
// bytes in order, stop and resume with the callback's answer, and refuse what it cannot switch.
import net from 'node:net'
import tls from 'node:tls'
import t, { type Test } from 'tap'
import { canReadInto, readInto } from '../../src/io/client-reads.js'
import { needsOpenssl, privateCa } from '../helpers/tls-certs.js'

async function server(t: Test, onSocket: (s: net.Socket) => void): Promise<number> {
  const srv = net.createServer({ allowHalfOpen: true }, onSocket)
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())))
  return (srv.address() as net.AddressInfo).port
}

t.test('this Node supports it', async (t) => {
  t.equal(canReadInto, true, `Node ${process.version}: the onread fields are found`)
})

t.test('bytes arrive in order through a reused buffer; false stops reading until resume()', async (t) => {
  const buffer = Buffer.alloc(3)
  const got: string[] = []
  let reads = 0
  let dataEvents = 0
  let resumed = false
  const done = new Promise<string>((resolve) => {
    void server(t, (socket) => {
      const installed = readInto(
        socket,
        () => buffer,
        (n, b) => {
          reads++
          t.equal(b, buffer, 'the caller’s buffer')
          got.push(b.toString('latin1', 0, n))
          if (reads === 1) {
            // Stop: nothing more may arrive until resume().
            setTimeout(() => {
              t.equal(reads, 1, 'no read while stopped')
              resumed = true
              socket.resume()
            }, 50)
            return false
          }
          return true
        },
      )
      t.ok(installed, 'installed on a plain accepted socket')
      socket.on('data', () => dataEvents++)
      socket.on('end', () => {
        socket.end()
        resolve(got.join(''))
      })
    }).then((port) => {
      const client = net.connect(port, '127.0.0.1', () => client.end('abcdefghij'))
      client.resume()
    })
  })
  t.equal(await done, 'abcdefghij')
  t.ok(reads >= 4, `${reads} reads of at most 3 bytes`)
  t.ok(resumed)
  t.equal(dataEvents, 0, "no 'data' event")
})

t.test('refused where it cannot switch: bytes already buffered, a destroyed socket', async (t) => {
  const results = await new Promise<boolean[]>((resolve) => {
    void server(t, (socket) => {
      socket.once('readable', () => {
        const buffered = readInto(
          socket,
          () => Buffer.alloc(8),
          () => true,
        )
        socket.destroy()
        const destroyed = readInto(
          socket,
          () => Buffer.alloc(8),
          () => true,
        )
        resolve([buffered, destroyed])
      })
    }).then((port) => {
      const client = net.connect(port, '127.0.0.1', () => client.write('x'))
      client.on('error', () => {})
    })
  })
  t.same(results, [false, false])
})

t.test('refused on a TLS socket (it stays on data)', { skip: needsOpenssl }, async (t) => {
  const ca = privateCa()
  const srv = tls.createServer({ key: ca.key, cert: ca.cert })
  const result = new Promise<boolean>((resolve) => {
    srv.on('secureConnection', (socket) => {
      resolve(
        readInto(
          socket,
          () => Buffer.alloc(8),
          () => true,
        ),
      )
      socket.destroy()
    })
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())))
  const client = tls.connect({
    port: (srv.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    ca: ca.ca,
    servername: 'localhost',
  })
  client.on('error', () => {})
  t.equal(await result, false)
  client.destroy()
})
