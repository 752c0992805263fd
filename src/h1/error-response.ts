// The gateway's own error responses (RULES.md "The error response"): built once per code and
// reused, or customised by an onError hook within what the gateway allows; as parts (ErrorPage)
// for a client written through an API, as bytes for a raw socket.

import { type ErrorCode, proxyStatusFor, statusFor } from '../errors.js'

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
}

export function reasonFor(status: number): string {
  return REASONS[status] ?? (status < 500 ? 'Client Error' : 'Server Error')
}

function proxyStatus(code: ErrorCode): string {
  return `strictgate; error=${proxyStatusFor(code)}; details="${code}"`
}

/** An error response as parts: for the raw-socket client as bytes, for node:http through its API. */
export interface ErrorPage {
  readonly status: number
  readonly reason: string
  /** Every field but Connection, Content-Length included, in the order they are written. */
  readonly fields: readonly (readonly [name: string, value: string])[]
  readonly body: Buffer
}

/** What an onError hook may return (validated by checkErrorResponse in options.ts). */
export interface CustomErrorPage {
  readonly status?: number
  readonly headers?: Record<string, string>
  readonly body?: string | Buffer
}

/** Fields of an error response that a custom one cannot set. */
const GATEWAY_FIELDS = new Set(['content-length', 'transfer-encoding', 'connection', 'proxy-status'])

/**
 * The gateway's error response for `code` (RULES.md "The error response"), or an onError hook's
 * version of it: defaults first, each replaced by a custom field of the same name in any case
 * (names are case-insensitive: RFC 9110 §5.1); framing and connection management stay the
 * gateway's.
 */
export function errorPage(code: ErrorCode, custom?: CustomErrorPage): ErrorPage {
  const status = custom?.status ?? statusFor(code)
  const reason = reasonFor(status)
  const text = custom?.body ?? `${reason}\n`
  const body = typeof text === 'string' ? Buffer.from(text) : text
  const fields = new Map<string, readonly [string, string]>([
    ['content-type', ['Content-Type', 'text/plain; charset=utf-8']],
    ['content-length', ['Content-Length', String(body.length)]],
    ['cache-control', ['Cache-Control', 'no-store']],
  ])
  for (const [name, value] of Object.entries(custom?.headers ?? {})) {
    const lower = name.toLowerCase()
    if (!GATEWAY_FIELDS.has(lower)) fields.set(lower, [name, value])
  }
  fields.set('proxy-status', ['Proxy-Status', proxyStatus(code)])
  return { status, reason, fields: [...fields.values()], body }
}

/** An error page as bytes; `close` adds `Connection: close`, `headRequest` leaves the body out. */
function serializeErrorPage(page: ErrorPage, close: boolean, headRequest: boolean): Buffer {
  let head = `HTTP/1.1 ${page.status} ${page.reason}\r\n`
  for (const [name, value] of page.fields) head += `${name}: ${value}\r\n`
  head += close ? 'Connection: close\r\n\r\n' : '\r\n'
  const bytes = Buffer.from(head, 'latin1')
  return headRequest ? bytes : Buffer.concat([bytes, page.body])
}

const canned = new Map<string, Buffer>()

/**
 * The gateway's own error response for `code` as bytes, built once. `close` adds
 * `Connection: close`.
 */
export function errorResponse(code: ErrorCode, close: boolean): Buffer {
  const key = close ? `${code}:close` : code
  let buf = canned.get(key)
  if (buf === undefined) {
    buf = serializeErrorPage(errorPage(code), close, false)
    canned.set(key, buf)
  }
  return buf
}

/** An error response customised by an onError hook (already validated), as bytes. */
export function customErrorResponse(
  code: ErrorCode,
  close: boolean,
  custom: CustomErrorPage,
  headRequest: boolean,
): Buffer {
  return serializeErrorPage(errorPage(code, custom), close, headRequest)
}
