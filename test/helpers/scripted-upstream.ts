// A raw upstream on 127.0.0.1:0 that runs a script per accepted connection: read a request,
// write exact bytes, stall, end (FIN) or reset (RST) at any step. It records every request's raw
// bytes and counts connections, so a test can see what the gateway sent and whether it reused a
// connection. Bytes are given as latin1 strings (one character per byte) or Buffers.

import net from 'node:net'
import type { Test } from 'tap'
import { type ReadMessage, readMessage } from './http-reader.js'
import { WAIT_MS } from './raw-client.js'
import { closeWith } from './resources.js'
import { peerRead } from './socket-watch.js'

export type Step =
  /** Read one request: the head, then its body by its own framing, or exactly `body` bytes. */
  | { readonly op: 'read'; readonly body?: number }
  | { readonly op: 'write'; readonly data: Buffer }
  | { readonly op: 'stall'; readonly ms: number }
  /** FIN: half-close (the upstream may still read). */
  | { readonly op: 'end' }
  /** RST: socket.resetAndDestroy(). */
  | { readonly op: 'reset' }
  /** Wait until the gateway closes the connection. */
  | { readonly op: 'awaitClose' }
  /** Wait for something outside the upstream (the client received the head, ...). */
  | { readonly op: 'gate'; readonly until: () => Promise<unknown> }
  /** From now on write back every byte received (a tunnel's far end), until the peer ends. */
  | { readonly op: 'echo' }
  /** Wait until the gateway has read every byte written so far (before a reset: socket-watch.ts). */
  | { readonly op: 'gatewayRead' }

export const read = (body?: number): Step => ({ op: 'read', body })
export const write = (data: string | Buffer): Step => ({
  op: 'write',
  data: typeof data === 'string' ? Buffer.from(data, 'latin1') : data,
})
export const stall = (ms: number): Step => ({ op: 'stall', ms })
export const end = (): Step => ({ op: 'end' })
export const reset = (): Step => ({ op: 'reset' })
export const awaitClose = (): Step => ({ op: 'awaitClose' })
export const gate = (until: () => Promise<unknown>): Step => ({ op: 'gate', until })
export const echo = (): Step => ({ op: 'echo' })
export const gatewayRead = (): Step => ({ op: 'gatewayRead' })

/** A request as the upstream received it. */
export interface RecordedRequest {
  /** Index of the connection it came on (0-based, in accept order). */
  connection: number
  raw: Buffer
  message: ReadMessage
}

export interface ScriptOptions {
  /** The steps for each connection, or a function of the connection index. */
  script: readonly Step[] | ((connection: number) => readonly Step[])
  /** Run the script again after its last step while the connection is open (keep-alive). */
  loop?: boolean
}

export class ScriptedUpstream {
  readonly server: net.Server
  port = 0
  /** Connections accepted. */
  connections = 0
  /** Connections that ended: the gateway sent FIN or RST, or the socket closed (also by a reset step). */
  closedConnections = 0
  /** How the gateway left each connection, by index: 'fin', 'reset', or 'closed' (by us). */
  readonly endings: string[] = []
  readonly requests: RecordedRequest[] = []
  private readonly sockets = new Set<net.Socket>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly listeners = new Set<() => void>()
  private readonly options: ScriptOptions

  private constructor(options: ScriptOptions) {
    this.options = options
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket))
  }

  /** Start listening; the upstream is closed when `t` ends. */
  static async start(t: Test, options: ScriptOptions): Promise<ScriptedUpstream> {
    const up = new ScriptedUpstream(options)
    closeWith(t, up)
    await new Promise<void>((resolve, reject) => {
      up.server.once('error', reject)
      up.server.listen({ port: 0, host: '127.0.0.1' }, () => resolve())
    })
    up.port = (up.server.address() as net.AddressInfo).port
    return up
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`
  }

  /** Resolve once `check()` holds (re-checked on every upstream event), or reject after `timeoutMs`. */
  waitFor(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!check()) return
        clearTimeout(timer)
        this.listeners.delete(listener)
        resolve()
      }
      const timer = setTimeout(() => {
        this.listeners.delete(listener)
        reject(new Error(`upstream: timed out after ${timeoutMs} ms waiting for ${what}`))
      }, timeoutMs)
      this.listeners.add(listener)
      listener()
    })
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    for (const socket of this.sockets) socket.destroy()
    await closed
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener()
  }

  private accept(socket: net.Socket): void {
    const index = this.connections++
    this.sockets.add(socket)
    socket.setNoDelay(true)
    const conn = new ScriptRun(this, socket, index)
    let gone = false
    // The gateway is done with a connection when it sends FIN or RST, or the socket closes.
    const goneBy = (how: string) => {
      this.endings[index] ??= how
      if (gone) return
      gone = true
      this.closedConnections++
      this.notify()
    }
    socket.on('data', (chunk: Buffer) => conn.data(chunk))
    socket.on('end', () => {
      goneBy('fin')
      conn.peerEnded()
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET') goneBy('reset')
    })
    socket.on('close', () => {
      goneBy('closed')
      this.sockets.delete(socket)
      conn.closed()
    })
    const script = typeof this.options.script === 'function' ? this.options.script(index) : this.options.script
    this.notify()
    void conn.run(script, this.options.loop === true).then(() => conn.finished())
  }

  /** @internal */
  record(request: RecordedRequest): void {
    this.requests.push(request)
    this.notify()
  }

  /** @internal */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        resolve()
      }, ms)
      this.timers.add(timer)
    })
  }
}

/** One connection running its script. */
class ScriptRun {
  private buf = Buffer.alloc(0)
  private wake: (() => void) | null = null
  private ended = false
  private isClosed = false
  private done = false

  constructor(
    private readonly up: ScriptedUpstream,
    private readonly socket: net.Socket,
    private readonly index: number,
  ) {}

  data(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk])
    this.poke()
  }

  peerEnded(): void {
    this.ended = true
    if (this.done) this.socket.end()
    this.poke()
  }

  /** The script ran out of steps: once the gateway ends its side, end ours (allowHalfOpen). */
  finished(): void {
    this.done = true
    if (this.ended && !this.socket.destroyed) this.socket.end()
  }

  closed(): void {
    this.isClosed = true
    this.poke()
  }

  async run(script: readonly Step[], loop: boolean): Promise<void> {
    do {
      for (const step of script) {
        if (this.isClosed) return
        if (!(await this.step(step))) return
      }
    } while (loop && !this.isClosed && script.length > 0)
  }

  /** Returns false when the script must stop (the peer went away, or we ended the connection). */
  private async step(step: Step): Promise<boolean> {
    switch (step.op) {
      case 'read':
        return this.readRequest(step.body)
      case 'write':
        this.socket.write(step.data)
        return true
      case 'stall':
        await this.up.sleep(step.ms)
        return true
      case 'end':
        this.socket.end()
        return false
      case 'reset':
        this.socket.resetAndDestroy()
        return false
      case 'awaitClose':
        await this.until(() => this.isClosed)
        return false
      case 'echo':
        await this.until(() => {
          if (this.buf.length > 0 && !this.socket.destroyed) this.socket.write(this.buf)
          this.buf = Buffer.alloc(0)
          return this.ended || this.isClosed
        })
        return true
      case 'gatewayRead':
        // Like a gate: a timed-out wait stops the script and the test's assertion reports why.
        return peerRead(this.socket, "the gateway to read the upstream's bytes").then(
          () => !this.isClosed,
          () => false,
        )
      case 'gate':
        // A failed or timed-out gate stops the script; the test's own assertion reports why.
        return step.until().then(
          () => !this.isClosed,
          () => false,
        )
    }
  }

  private async readRequest(body: number | undefined): Promise<boolean> {
    let found: { message: ReadMessage; end: number } | null = null
    await this.until(() => {
      if (body === undefined) {
        found = readMessage(this.buf, 0, { response: false })
      } else {
        const head = readMessage(this.buf, 0, { response: false, headOnly: true })
        if (head !== null && this.buf.length >= head.end + body) found = { message: head.message, end: head.end + body }
      }
      return found !== null || this.ended || this.isClosed
    })
    if (found === null) return false
    const { message, end } = found as { message: ReadMessage; end: number }
    const raw = this.buf.subarray(0, end)
    this.buf = this.buf.subarray(end)
    this.up.record({ connection: this.index, raw, message: { ...message, raw } })
    return true
  }

  private until(check: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const attempt = () => {
        if (check()) {
          this.wake = null
          resolve()
        } else this.wake = attempt
      }
      attempt()
    })
  }

  private poke(): void {
    this.wake?.()
  }
}
