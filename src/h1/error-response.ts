// The gateway's own error responses (RULES.md "The error response"): built once per code and
// reused, or customised by an onError hook within what the gateway allows.

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

const canned = new Map<string, Buffer>()

/**
 * The gateway's own error response for `code` (RULES.md "The error response"), built once.
 * `close` adds `Connection: close`.
 */
export function errorResponse(code: ErrorCode, close: boolean): Buffer {
  const key = close ? `${code}:close` : code
  let buf = canned.get(key)
  if (buf === undefined) {
    const status = statusFor(code)
    const body = `${reasonFor(status)}\n`
    buf = Buffer.from(
      `HTTP/1.1 ${status} ${reasonFor(status)}\r\n` +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Cache-Control: no-store\r\n' +
        `Proxy-Status: ${proxyStatus(code)}\r\n` +
        (close ? 'Connection: close\r\n' : '') +
        `\r\n${body}`,
      'latin1',
    )
    canned.set(key, buf)
  }
  return buf
}

/** Fields of an error response that a custom one cannot set. */
const GATEWAY_FIELDS = new Set(['content-length', 'transfer-encoding', 'connection', 'proxy-status'])

/** An error response customised by an onError hook (already validated). */
export function customErrorResponse(
  code: ErrorCode,
  close: boolean,
  custom: { status?: number; headers?: Record<string, string>; body?: string | Buffer },
  headRequest: boolean,
): Buffer {
  const status = custom.status ?? statusFor(code)
  const body =
    custom.body === undefined
      ? Buffer.from(`${reasonFor(status)}\n`)
      : typeof custom.body === 'string'
        ? Buffer.from(custom.body)
        : custom.body
  // Defaults first, each replaced by a custom field of the same name in any case (names are
  // case-insensitive: RFC 9110 §5.1); framing and connection management stay the gateway's.
  const fields = new Map<string, [string, string]>([
    ['content-type', ['Content-Type', 'text/plain; charset=utf-8']],
    ['cache-control', ['Cache-Control', 'no-store']],
  ])
  for (const [name, value] of Object.entries(custom.headers ?? {})) {
    const lower = name.toLowerCase()
    if (!GATEWAY_FIELDS.has(lower)) fields.set(lower, [name, value])
  }
  let head = `HTTP/1.1 ${status} ${reasonFor(status)}\r\n`
  for (const [name, value] of fields.values()) head += `${name}: ${value}\r\n`
  head += `Content-Length: ${body.length}\r\nProxy-Status: ${proxyStatus(code)}\r\n`
  if (close) head += 'Connection: close\r\n'
  head += '\r\n'
  return headRequest ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body])
}
