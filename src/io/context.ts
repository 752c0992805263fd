// What the io/ classes need from the gateway that owns them, as one small interface.

import type { GatewayError } from '../errors.js'
import type { RequestHead } from '../h1/head.js'
import type { RequestLimits } from '../h1/request-parser.js'
import type { ErrorResponse, ResolvedOptions } from '../options.js'
import type { ClientConnection } from './client-connection.js'
import type { Upstreams } from './upstreams.js'

export interface GatewayContext {
  readonly options: ResolvedOptions
  readonly upstreams: Upstreams
  readonly requestLimits: RequestLimits
  /** `Via: ...\r\n`, or '' when disabled. */
  readonly viaField: string
  /** Tell onError and the `strictgate:error` channel; returns a valid custom response, if any. */
  report(err: GatewayError, request: RequestHead | undefined, client?: string): ErrorResponse | undefined
  /** Publish a finished exchange on `strictgate:exchange`. */
  publishExchange(request: RequestHead, status: number, started: number, error?: GatewayError): void
  connectionClosed(conn: ClientConnection): void
}
