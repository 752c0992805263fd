// What the io/ classes need from the gateway that owns them, as one small interface.

import type { GatewayError } from '../errors.js'
import type { Reserved } from '../h1/edits.js'
import type { RequestHead } from '../h1/head.js'
import type { ErrorResponse, ResolvedOptions } from '../options.js'
import type { OutputArena } from './output-arena.js'
import type { Targets } from './targets.js'
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
  readonly options: ResolvedOptions
  readonly targets: Targets
  /** `Via: ...\r\n`, or '' when disabled. */
  readonly viaField: string
  /** close() was called: no new exchange starts. */
  readonly closing: boolean
  /**
   * Memory for the heads and batches the gateway writes (output-arena.ts), and the batch the
   * response bytes of one upstream read are gathered in (write-batch.ts). One each per gateway:
   * both are filled and written within one synchronous call, so they are free in between.
   */
  readonly arena: OutputArena
  readonly batch: WriteBatch
  /** Fields the gateway writes itself, which no edit may touch (rewriting.ts). */
  readonly reserved: { readonly request: Reserved; readonly response: Reserved }
  /** Response rewriting is configured (rewriteLocation, cookies, onResponse). */
  readonly rewritesResponses: boolean
  /** Tell onError and the `strictgate:error` channel; returns a valid custom response, if any. */
  report(err: GatewayError, request: RequestHead | undefined, client?: string): ErrorResponse | undefined
  /** Publish a finished exchange on `strictgate:exchange`. */
  publishExchange(request: RequestHead, status: number, started: number, error?: GatewayError): void
  connectionClosed(conn: ClientHandle): void
}
