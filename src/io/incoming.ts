// The request head of a request node:http (or node:http2's compatibility API) already parsed,
// rebuilt as HTTP/1.1 bytes and checked by our own request parser, so that what the embedding
// API forwards passes the same rules as a request read from a socket (RULES.md, client request
// rules): Node's parser is the first line, ours the second.

import type { IncomingMessage } from 'node:http'
import type { Http2ServerRequest } from 'node:http2'
import type { ParseFailure } from '../errors.js'
import type { RequestHead, Trailer } from '../h1/head.js'
import type { Limits } from '../h1/limits.js'
import { type RequestEvents, RequestParser } from '../h1/request-parser.js'

export type IncomingRequest = IncomingMessage | Http2ServerRequest

/** How the head is rebuilt. */
export interface HeadOptions {
  /** Keep an offered upgrade (upgrade()); proxy() drops `Upgrade`: a 101 cannot go through `res`. */
  readonly upgrade: boolean
  /** The length of a body sent instead of the request's own (proxy()'s `body`), or -1. */
  readonly bodyLength: number
}

/**
 * HTTP/2 connection-specific fields (RFC 9113 §8.2.2): never valid in an HTTP/2 request (Node
 * refuses them), never sent from one.
 */
const H2_CONNECTION_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade'])

/**
 * The request-target the client sent. Express strips its mount path from `req.url` and keeps
 * the original in `req.originalUrl`: the request is forwarded as the client sent it (a prefix
 * is stripped by a path edit, not by where the handler is mounted).
 */
function requestTarget(req: IncomingRequest): string {
  const original = (req as { originalUrl?: unknown }).originalUrl
  return typeof original === 'string' && original !== '' ? original : (req.url ?? '')
}

/** Whether field name `name` is `lower` (a lowercase name), without a new string per name. */
function is(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower)
}

/** The head of `req` as HTTP/1.x bytes (latin1: Node decodes field bytes one to a character). */
export function requestHeadBytes(req: IncomingRequest, options: HeadOptions): Buffer {
  const raw = req.rawHeaders
  const h2 = req.httpVersionMajor === 2
  const replaceBody = options.bodyLength >= 0
  let head = `${req.method} ${requestTarget(req)} HTTP/${h2 ? '1.1' : req.httpVersion}\r\n`
  // RFC 9113 §8.3.1: an intermediary makes Host from :authority.
  const authority = h2 ? (req as Http2ServerRequest).authority : undefined
  if (typeof authority === 'string' && authority !== '') head += `Host: ${authority}\r\n`
  let framing = false
  let cookies: string[] | null = null
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    if (replaceBody && (is(name, 'content-length') || is(name, 'transfer-encoding'))) {
      framing = true
      continue
    }
    if (!options.upgrade && is(name, 'upgrade')) continue
    if (h2) {
      // (node:http2 gives names in lowercase.)
      if (name.charCodeAt(0) === 0x3a || H2_CONNECTION_FIELDS.has(name)) continue
      if (name === 'host' && authority) continue
      if (name === 'cookie') {
        // RFC 9113 §8.2.3: split cookie fields are joined with "; " for HTTP/1.1.
        ;(cookies ??= []).push(raw[i + 1])
        continue
      }
      if (name === 'content-length') framing = true
    }
    head += `${name}: ${raw[i + 1]}\r\n`
  }
  if (cookies !== null) head += `Cookie: ${cookies.join('; ')}\r\n`
  if (replaceBody) {
    if (options.bodyLength > 0 || framing) head += `Content-Length: ${options.bodyLength}\r\n`
  } else if (h2 && !framing && !(req as Http2ServerRequest).stream.endAfterHeaders) {
    // An HTTP/2 body is framed by DATA frames: of unknown length here, so chunked upstream.
    head += 'Transfer-Encoding: chunked\r\n'
  }
  return Buffer.from(`${head}\r\n`, 'latin1')
}

/** Checks rebuilt heads with one reused parser (its body is read by node:http, never here). */
export class HeadChecker implements RequestEvents {
  private readonly parser: RequestParser
  private head: RequestHead | null = null

  constructor(limits: Limits) {
    this.parser = new RequestParser(this, limits)
  }

  /** The limits heads are checked against. */
  get limits(): Limits {
    return this.parser.limits
  }

  /** The head of `bytes` (one complete head), or why our request rules refuse it. */
  check(bytes: Buffer): RequestHead | ParseFailure {
    this.head = null
    const n = this.parser.execute(bytes)
    const failure = this.parser.failure
    this.parser.reset()
    if (n < 0) return failure as ParseFailure
    // (A field value Node let through with a line break in it would leave the head unfinished.)
    return this.head ?? { code: 'CLIENT_INVALID_REQUEST', offset: bytes.length, reason: 'request head incomplete' }
  }

  onHead(head: RequestHead): void {
    this.head = head
  }

  onBody(_chunk: Buffer): void {
    // (Only a head is given.)
  }

  onTrailers(_trailers: readonly Trailer[]): void {
    // (Only a head is given.)
  }

  onComplete(): void {
    // (The body, if any, is read from node:http's request.)
  }
}
