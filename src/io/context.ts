// What the io/ classes need from the gateway that owns them, as one small interface.

import type { GatewayError } from '../errors.js'
import type { RequestHead } from '../h1/head.js'
import type { ErrorResponse } from '../options.js'
import type { Config } from './config.js'
import type { HeadMemory } from './head-memory.js'
import type { OutputArena } from './output-arena.js'
import type { WriteBatch } from './write-batch.js'

/**
 * A client connection (or an embedded exchange) as the gateway tracks it: for shutdown and for
 * the counts in stats().
 */
export interface ClientHandle {
  /** Finish what is in flight, take no new request, then close. */
  shutdown(): void
  /** Close now, visibly (shutdown took too long). */
  abort(): void
}

export interface GatewayContext {
  /**
   * The configuration new exchanges and connections start with. reconfigure() replaces it; an
   * exchange keeps the one it started with.
   */
  readonly config: Config
  /** close() was called: no new exchange starts. */
  readonly closing: boolean
  /**
   * Memory for the heads and batches the gateway writes (output-arena.ts), and the batch the
   * response bytes of one upstream read are gathered in (write-batch.ts). One each per gateway:
   * both are filled and written within one synchronous call, so they are free in between.
   */
  readonly arena: OutputArena
  readonly batch: WriteBatch
  /** Memory request heads are copied to when they arrive in a reused read buffer (head-memory.ts). */
  readonly heads: HeadMemory
  /** Tell onError and the `strictgate:error` channel; returns a valid custom response, if any. */
  report(err: GatewayError, request: RequestHead | undefined, client?: string): ErrorResponse | undefined
  /**
   * An exchange ended: count it (metrics) and publish it on `strictgate:exchange`. `request`
   * is undefined for a failure before a request head was complete; `started` is
   * performance.now() at its start; `bytesSent` what the client was written for it; `upstream`
   * the target URL of the last attempt, if one was chosen.
   */
  publishExchange(
    request: RequestHead | undefined,
    status: number,
    started: number,
    error: GatewayError | undefined,
    client: string | undefined,
    bytesSent: number,
    upstream: string | undefined,
  ): void
  connectionClosed(conn: ClientHandle): void
}
