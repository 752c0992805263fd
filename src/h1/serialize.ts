// Heads on the way out: the received head's field lines are copied as raw byte ranges, minus
// the hop-by-hop fields (RFC 9110 §7.6.1), plus what the gateway adds (Via, framing, ...).
// Canned error responses are built once per code and reused.

import { type ErrorCode, proxyStatusFor, statusFor } from '../errors.js'
import {
  FieldKind,
  fieldName,
  fieldValue,
  type Head,
  isHopByHop,
  type RequestHead,
  type ResponseHead,
  type Trailer,
} from './head.js'

const CONNECTION_OPTIONS = new Set(['close', 'keep-alive', 'upgrade'])

/** Field names listed in Connection (besides its own options): also hop-by-hop. */
function connectionNamed(head: Head): Set<string> | null {
  let named: Set<string> | null = null
  for (const token of head.connection) {
    if (!CONNECTION_OPTIONS.has(token)) (named ??= new Set()).add(token)
  }
  return named
}

const enum Keep {
  /** Everything end to end. */
  EndToEnd = 0,
  /** Also keep Upgrade (a requested upgrade, a 101). */
  WithUpgrade = 1,
  /** Also drop Host (replaced from an absolute-form target). */
  WithoutHost = 2,
}

/**
 * Whether field line `i` of `head` is not relayed: hop-by-hop (RFC 9110 §7.6.1), named by
 * Connection (`named`), or Content-Length (the framing is the relaying side's own choice).
 */
function dropped(head: Head, i: number, keep: Keep, named: Set<string> | null): boolean {
  const kind = head.kinds[i]
  if (
    kind === FieldKind.ContentLength ||
    (isHopByHop(kind) && !(kind === FieldKind.Upgrade && keep === Keep.WithUpgrade)) ||
    (kind === FieldKind.Host && keep === Keep.WithoutHost)
  ) {
    return true
  }
  if (named === null) return false
  return named.has(fieldName(head, i).toLowerCase())
}

/**
 * The end-to-end fields of a response head as [name, value, name, value, ...] (latin1 strings,
 * in order, repeated names kept): what build() copies, for a client written through an API
 * (node:http's ServerResponse) rather than as bytes.
 */
export function relayedFields(head: ResponseHead): string[] {
  const named = head.connection.length === 0 ? null : connectionNamed(head)
  const out: string[] = []
  for (let i = 0; i < head.kinds.length; i++) {
    if (!dropped(head, i, Keep.EndToEnd, named)) out.push(fieldName(head, i), fieldValue(head, i))
  }
  return out
}

/** Which field lines build() drops (1), reused from call to call: no array per head. */
let dropScratch = new Uint8Array(64)

/** Where a serialized head is built: a new Buffer of `size` bytes, or memory the caller reuses. */
export type Allocator = (size: number) => Buffer

/**
 * Copies `prefix`, then `head.raw[rawFrom, rawTo)` (the rest of a status line), the kept field
 * lines of `head` and `suffix` into one Buffer from `alloc`. `prefix` and `suffix` are latin1
 * strings. Content-Length is dropped too: the caller writes the framing it chose.
 */
function build(
  head: Head,
  prefix: string,
  rawFrom: number,
  rawTo: number,
  keep: Keep,
  suffix: string,
  alloc: Allocator,
): Buffer {
  const { raw, fields, kinds } = head
  const n = kinds.length
  const named = head.connection.length === 0 ? null : connectionNamed(head)
  // Pass 1: mark kept lines and measure.
  let size = prefix.length + (rawTo - rawFrom) + suffix.length + 2
  if (dropScratch.length < n) dropScratch = new Uint8Array(Math.max(n, 2 * dropScratch.length))
  const drop = dropScratch
  let droppedCount = 0
  for (let i = 0; i < n; i++) {
    const d = dropped(head, i, keep, named)
    drop[i] = d ? 1 : 0
    if (d) droppedCount++
    else size += (i + 1 < n ? fields[4 * (i + 1)] : raw.length - 2) - fields[4 * i]
  }
  const out = alloc(size)
  let pos = prefix.length === 0 ? 0 : out.write(prefix, 0, 'latin1')
  if (rawTo > rawFrom) pos += raw.copy(out, pos, rawFrom, rawTo)
  if (n > 0) {
    if (droppedCount === 0) {
      // Common case: every field line is kept, one copy.
      pos += raw.copy(out, pos, fields[0], raw.length - 2)
    } else {
      let runStart = -1
      for (let i = 0; i <= n; i++) {
        if (i < n && drop[i] === 0) {
          if (runStart < 0) runStart = fields[4 * i]
          continue
        }
        if (runStart >= 0) {
          pos += raw.copy(out, pos, runStart, i < n ? fields[4 * i] : raw.length - 2)
          runStart = -1
        }
      }
    }
  }
  pos += out.write(suffix, pos, 'latin1')
  out[pos++] = 0x0d
  out[pos++] = 0x0a
  return pos === size ? out : out.subarray(0, pos)
}

/** The request-target to send upstream: origin-form (absolute-form is reduced to its path). */
export function originForm(head: RequestHead): string {
  const target = head.target
  if (target.charCodeAt(0) === 0x2f || target === '*') return target
  const afterScheme = target.indexOf('//') + 2
  const slash = target.slice(afterScheme).search(/[/?]/)
  if (slash < 0) return '/'
  const rest = target.slice(afterScheme + slash)
  return rest.charCodeAt(0) === 0x3f ? `/${rest}` : rest
}

/**
 * The request head sent upstream: HTTP/1.1 request line, end-to-end fields, then `extra`
 * (field lines ending in CRLF: Via, X-Forwarded-*, framing, Connection, Host).
 */
export function serializeRequestHead(head: RequestHead, extra: string, alloc: Allocator = Buffer.allocUnsafe): Buffer {
  const absolute = head.target.charCodeAt(0) !== 0x2f && head.target !== '*'
  const keep = head.upgrade.length > 0 ? Keep.WithUpgrade : absolute ? Keep.WithoutHost : Keep.EndToEnd
  if (!absolute && head.minorVersion === 1) {
    // The request line goes as received: strict parsing admits exactly `method SP target SP
    // HTTP/1.1 CRLF` (method and target are latin1 strings: one character per byte).
    return build(head, '', 0, head.method.length + head.target.length + 12, keep, extra, alloc)
  }
  const prefix = `${head.method} ${originForm(head)} HTTP/1.1\r\n`
  return build(head, absolute ? `${prefix}Host: ${head.host}\r\n` : prefix, 0, 0, keep, extra, alloc)
}

/** A response head relayed to the client: HTTP/1.1 status line as received, end-to-end fields, `extra`. */
export function serializeResponseHead(
  head: ResponseHead,
  extra: string,
  alloc: Allocator = Buffer.allocUnsafe,
): Buffer {
  // "HTTP/1.x" is 8 bytes; the rest of the status line (" 200 OK\r\n") is relayed as received,
  // copied straight into the head's Buffer.
  const keep = head.upgrade !== null ? Keep.WithUpgrade : Keep.EndToEnd
  // An HTTP/1.1 status line goes as received, all of it.
  if (head.minorVersion === 1) return build(head, '', 0, head.reasonEnd + 2, keep, extra, alloc)
  return build(head, 'HTTP/1.1', 8, head.reasonEnd + 2, keep, extra, alloc)
}

/** The last chunk of a chunked body, with no trailer section. */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1')

/** The last chunk of a chunked body with `trailers` as its trailer section (RFC 9112 §7.1.2). */
export function serializeTrailers(trailers: readonly Trailer[]): Buffer {
  let t = '0\r\n'
  for (const [name, value] of trailers) t += `${name}: ${value}\r\n`
  return Buffer.from(`${t}\r\n`, 'latin1')
}

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
