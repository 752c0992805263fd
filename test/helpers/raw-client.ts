// A raw TCP client for the gateway: writes exact bytes, collects every byte it receives, reads
// responses with the independent reader in http-reader.ts, and records how the connection ended
// (FIN, RST, or destroyed by us). Every wait is bounded.

import net from 'node:net'
import type { Test } from 'tap'
import { type ReadMessage, readMessage } from './http-reader.js'

export type Ending = 'fin' | 'reset' | 'destroyed'

/** Default bound for any wait in the helpers (a noisy 2-core machine: generous, but bounded). */
export const WAIT_MS = 10_000

export class RawClient {
  readonly socket: net.Socket
  /** How the connection ended; null while open. */
  ending: Ending | null = null
  /** 1xx responses read so far, in order. */
  readonly interim: ReadMessage[] = []
  private chunks: Buffer[] = []
  private buf = Buffer.alloc(0)
  private total = 0
  private pos = 0
  private listeners = new Set<() => void>()

  private constructor(socket: net.Socket) {
    this.socket = socket
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk)
      this.total += chunk.length
      this.notify()
    })
    socket.on('end', () => {
      this.ending ??= 'fin'
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.ending ??= 'reset'
    })
    socket.on('close', () => {
      this.ending ??= 'destroyed'
      this.notify()
    })
  }

  /** Connect; the socket is destroyed when `t` ends (if it is still open). */
  static connect(t: Test, port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, noDelay: true })
      const client = new RawClient(socket)
      t.teardown(() => socket.destroy())
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(client)
      })
      socket.once('error', reject)
    })
  }

  /** Strings are written as latin1: one character per byte. */
  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)
  }

  /** Send FIN (half-close). */
  end(): void {
    this.socket.end()
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** Every byte received so far. */
  get received(): Buffer {
    this.flatten()
    return this.buf
  }

  /** How many bytes arrived (cheap: no copy, unlike `received`). */
  get length(): number {
    return this.total
  }

  get open(): boolean {
    return this.ending === null
  }

  /** Bytes received after the last response read. */
  get unread(): Buffer {
    return this.received.subarray(this.pos)
  }

  /**
   * The next final response (1xx are collected into `interim`). Rejects when the connection
   * ends before any byte of one; a response cut short is returned with `complete: false`.
   */
  async response(opts: { head?: boolean; timeoutMs?: number } = {}): Promise<ReadMessage> {
    let result: ReadMessage | null = null
    await this.until(
      () => {
        for (;;) {
          const eof = this.ending !== null
          // A malformed response throws (MalformedMessage) and rejects the wait.
          const read = readMessage(this.received, this.pos, { response: true, head: opts.head, eof })
          if (read === null) {
            if (eof) throw new Error(`connection ended (${this.ending}) before a response`)
            return false
          }
          this.pos = read.end
          const message = read.message
          if (message.status >= 100 && message.status < 200 && message.status !== 101) {
            this.interim.push(message)
            continue
          }
          // A close-delimited body cut by a reset did not end normally (RULES.md B4).
          if (message.framing === 'close' && this.ending !== 'fin') message.complete = false
          result = message
          return true
        }
      },
      opts.timeoutMs ?? WAIT_MS,
      'a response',
    )
    return result as unknown as ReadMessage
  }

  /** Wait until the connection ended; resolves to how. */
  async closed(timeoutMs = WAIT_MS): Promise<Ending> {
    await this.until(() => this.socket.destroyed && this.ending !== null, timeoutMs, 'the connection to close')
    return this.ending as Ending
  }

  /** Wait until at least `n` bytes arrived in total. */
  async bytes(n: number, timeoutMs = WAIT_MS): Promise<Buffer> {
    await this.until(() => this.total >= n || this.ending !== null, timeoutMs, `${n} bytes`)
    return this.received
  }

  /** Resolve once `check()` is true (re-checked on every data and close event), or reject after `timeoutMs`. */
  until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (err: unknown) => {
        clearTimeout(timer)
        this.listeners.delete(listener)
        if (err === null) resolve()
        else reject(err)
      }
      const listener = () => {
        try {
          if (check()) settle(null)
        } catch (err) {
          settle(err)
        }
      }
      const timer = setTimeout(() => {
        const seen = JSON.stringify(this.received.toString('latin1').slice(0, 500))
        settle(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received ${seen}`))
      }, timeoutMs)
      this.listeners.add(listener)
      listener()
    })
  }

  private flatten(): void {
    if (this.chunks.length > 0) {
      this.buf = Buffer.concat([this.buf, ...this.chunks])
      this.chunks = []
    }
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener()
  }
}

/** Connect, write `bytes`, read one response; the client stays open for more. */
export async function rawRequest(
  t: Test,
  port: number,
  bytes: string | Buffer,
  opts: { head?: boolean; timeoutMs?: number } = {},
): Promise<{ client: RawClient; response: ReadMessage }> {
  const client = await RawClient.connect(t, port)
  client.write(bytes)
  try {
    const response = await client.response(opts)
    return { client, response }
  } catch (err) {
    client.destroy()
    throw err
  }
}

/**
 * Poll `check` (every 10 ms, bounded) for state that no socket event of ours announces, such as
 * the gateway's own bookkeeping after a peer closed.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
