// The two sides of an exchange's contract with its client, as interfaces: what Exchange may ask
// of whoever holds the client's end of the connection (ExchangeClient), and what that holder may
// tell the exchange (ClientExchange). ClientConnection implements the first on a raw socket; the
// embedding API implements it on node:http's ServerResponse.

import type { ErrorCode, GatewayError } from '../errors.js'
import type { HeadEdit } from '../h1/edits.js'
import type { RequestHead, ResponseHead, Trailer } from '../h1/head.js'
import type { ResponsePlan } from '../h1/plan.js'
import type { RouteOptions } from '../options.js'
import type { UpstreamConnection } from './upstream-connection.js'

export interface ExchangeClient {
  /** The client's address, for reports. */
  readonly remoteAddress: string
  /** The scheme the client used (X-Forwarded-Proto). */
  readonly protocol: 'http' | 'https'
  /** Bytes written to the client so far (strictgate:exchange's bytesSent is the difference). */
  readonly bytesSent: number
  /** The connection may carry another request after this exchange (see planResponse). */
  readonly persistent: boolean
  /**
   * Bytes given to the send calls are still referenced by a write that did not complete: the
   * upstream read buffer they are views of must not be read into again.
   */
  readonly writing: boolean

  // The response, gathered by the send calls and written by `flush` (ClientConnection: one write
  // per upstream read). ResponseClient hands heads to node:http's API at once: node:http keeps a
  // final head until the first body bytes, node:http2 sends it.
  /** An interim response (1xx other than 101). */
  sendInterim(head: ResponseHead): void
  /**
   * The final head, framed and completed as `plan` says, its fields edited as `edit` says.
   * Returns null, or why this client cannot relay it (node:http2 refuses what HTTP/2 cannot
   * carry): the exchange then fails.
   */
  sendHead(head: ResponseHead, plan: ResponsePlan, edit: HeadEdit | null): string | null
  /** A slice of the body: unchanged until `flush` returns. */
  sendBody(chunk: Buffer): void
  /** The body is complete; the trailers to relay, or null. */
  sendEnd(trailers: readonly Trailer[] | null): void
  /** Write what was gathered. False: the client is full, and `ClientExchange.clientDrained` follows. */
  flush(): boolean
  /** Drop what was gathered and not written (the exchange failed before it could be). */
  discard(): void

  /** Stop reading the request body: the upstream cannot take more now. */
  pauseReading(): void
  resumeReading(): void

  // Endings: exactly one of these per exchange, or none when the client went away first.
  /** The response was relayed completely; `reusable`: the connection may carry another request. */
  exchangeDone(reusable: boolean): void
  /** Nothing of the final response was sent: answer `err` with an error response. */
  answerError(err: GatewayError, request: RequestHead, requestComplete: boolean): void
  /** Part of the response was sent: make the truncation visible. */
  abort(): void
  /** A 101 was relayed (and flushed): the connection becomes a tunnel to `upstream`. */
  startTunnel(upstream: UpstreamConnection, rest: Buffer | null): void
  /**
   * The exchange is over, whatever the outcome (after the ending above, or after the client
   * went away): the status the client got (0: none, aborted) and the failure, if any. Not
   * called after `abandon`: the client ends that exchange itself.
   */
  exchangeEnded(status: number, error: GatewayError | undefined): void
}

/** What the client's holder tells the exchange it runs. */
export interface ClientExchange {
  readonly request: RequestHead
  /**
   * Request bytes given to `requestBody` are still referenced (held until the upstream is
   * ready, or a write that did not complete): the buffer they were read into must not be read
   * into again.
   */
  readonly holdsRequestBytes: boolean
  /**
   * Choose the upstream and go: `options` are proxy()'s (embedding); without them, or without
   * their `target`, the route hook chooses.
   */
  start(options?: RouteOptions): void
  /** A slice of the request body (validated by the request parser). */
  requestBody(chunk: Buffer): void
  requestComplete(): void
  /** The client took the response bytes that were pending. */
  clientDrained(): void
  /** The client went away (closed or reset) before the exchange ended. */
  clientAborted(): void
  /** The client took no response bytes for `idle` ms. */
  clientStalled(idle: number): void
  /** End the exchange with `code`: an error response if nothing was sent yet, else an abort. */
  fail(code: ErrorCode, reason: string): void
  /**
   * The request turned out malformed: drop the upstream side. Returns whether the client can
   * still be answered with an error response (no final head relayed yet).
   */
  abandon(): boolean
  /**
   * After `abandon`, once the client answered `error` (or aborted): publish the exchange on
   * strictgate:exchange, as every other ending does.
   */
  publish(error: GatewayError): void
}

/**
 * A request handed over by the embedding API with its raw socket (upgrade()): the head's bytes,
 * rebuilt from what node:http read, come first; the connection serves this one request.
 */
export interface HandedOver {
  readonly bytes: Buffer
  readonly options: RouteOptions | undefined
  /** Told once, when the exchange ends (or the request is refused): what the client got. */
  done(status: number, error: GatewayError | undefined): void
}
