// The response side of a raw-socket client: frames what an exchange sends (heads serialized,
// body chunked for HTTP/1.1 when the plan says so, the last chunk or trailers) and writes what
// one upstream read gave in one write (the gateway's batch, write-batch.ts). ClientConnection
// builds on it with the request loop and the connection's endings.

import type { Socket } from 'node:net'
import type { HeadEdit } from '../h1/edits.js'
import type { ResponseHead, Trailer } from '../h1/head.js'
import { OutFraming, type ResponsePlan } from '../h1/plan.js'
import { LAST_CHUNK, serializeResponseHead, serializeTrailers } from '../h1/serialize.js'
import type { GatewayContext } from './context.js'
import type { BatchSink } from './write-batch.js'

export abstract class SocketWriter implements BatchSink {
  readonly socket: Socket
  protected readonly ctx: GatewayContext
  /** Bytes written to the client so far (ExchangeClient.bytesSent). */
  bytesSent = 0
  /** How the response in flight is framed (sendHead). */
  private outFraming = OutFraming.None

  constructor(ctx: GatewayContext, socket: Socket) {
    this.ctx = ctx
    this.socket = socket
  }

  /** The connection is closed for writing (aborted): writes are dropped. */
  protected abstract get closed(): boolean
  /** A write returned false: the client must take it in time (the subclass's stall timer). */
  protected abstract writeBlocked(): void

  get writing(): boolean {
    return this.socket.writableLength > 0
  }

  sendInterim(head: ResponseHead): void {
    const ctx = this.ctx
    ctx.batch.add(serializeResponseHead(head, ctx.config.responseVia, ctx.arena.take), false)
  }

  sendHead(head: ResponseHead, plan: ResponsePlan, edit: HeadEdit | null): null {
    const ctx = this.ctx
    this.outFraming = plan.framing
    ctx.batch.add(serializeResponseHead(head, ctx.config.responseVia + plan.fields, ctx.arena.take, edit), false)
    return null
  }

  sendBody(chunk: Buffer): void {
    this.ctx.batch.add(chunk, this.outFraming === OutFraming.Chunked)
  }

  sendEnd(trailers: readonly Trailer[] | null): void {
    if (this.outFraming !== OutFraming.Chunked) return
    this.ctx.batch.add(trailers === null ? LAST_CHUNK : serializeTrailers(trailers), false)
  }

  flush(): boolean {
    const ctx = this.ctx
    const ok = ctx.batch.writeTo(this)
    ctx.arena.settle(this.writing)
    if (!ok) this.writeBlocked()
    return ok
  }

  discard(): void {
    this.ctx.batch.clear()
  }

  /** For the batch (BatchSink), and the gateway's own answers: a write unless the socket is gone. */
  write(data: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return true
    this.bytesSent += data.length
    return this.socket.write(data)
  }

  cork(): void {
    this.socket.cork()
  }

  uncork(): void {
    this.socket.uncork()
  }
}
