// Upstream responses: raw bytes in any chunking → head (interim and final), body slices,
// trailers, completion, or one ParseFailure. Knows which request it answers (HEAD, upgrade).

import type { ParseFailure } from '../errors.js'
import { checkResponseHead, type RequestContext } from './check-head.js'
import { RESPONSE_CODES, Violation } from './codes.js'
import type { Head, ResponseHead } from './head.js'
import { DEFAULT_LIMITS, type Limits } from './limits.js'
import { ParserType } from './llhttp.js'
import { type BodyEvents, MessageParser, MessageState } from './message-parser.js'

export interface ResponseEvents extends BodyEvents {
  /** Every head: interim 1xx (`head.interim`), 101 (`head.upgrade`) and the final one. */
  onHead(head: ResponseHead): void
}

const GET: RequestContext = { method: 'GET', upgrade: [] }

export class ResponseParser extends MessageParser {
  private handler: ResponseEvents
  private request: RequestContext = GET
  private interimCount = 0

  constructor(events: ResponseEvents, limits: Limits = DEFAULT_LIMITS) {
    super(ParserType.Response, RESPONSE_CODES, events, limits)
    this.handler = events
  }

  /** Expect the response to `request`; resets the parser for a new exchange (optionally with new event handlers). */
  expect(request: RequestContext, events?: ResponseEvents): void {
    if (events !== undefined) {
      this.handler = events
      this.events = events
    }
    this.request = request
    this.interimCount = 0
    this.restart()
  }

  /**
   * Feed upstream bytes. Returns the number consumed: all of them, or fewer after a valid 101
   * (the rest belongs to the tunnel). Returns -1 on failure (`failure`), including bytes after a
   * complete response (UPSTREAM_EXTRA_DATA, reported after `onComplete`).
   */
  execute(chunk: Buffer): number {
    let pos = 0
    while (pos < chunk.length) {
      if (this.state === MessageState.Complete) {
        return this.fail(Violation.ExtraData, this.offset, 'bytes after the end of the response')
      }
      if (this.state === MessageState.Upgraded) return pos
      if (this.state === MessageState.Failed) return -1
      pos = this.step(chunk, pos)
      if (pos < 0) return -1
    }
    return pos
  }

  /** The upstream closed its side (FIN). */
  finish(): ParseFailure | null {
    return this.endOfInput()
  }

  /**
   * The upstream connection broke (RST, timeout, error). Nothing is complete unless it already
   * was: a close-delimited body cut by a reset is truncated (B4).
   */
  abort(): ParseFailure | null {
    if (this.state === MessageState.Complete || this.state === MessageState.Upgraded) return null
    if (this.state === MessageState.Failed) return this.failure
    const head = this.state === MessageState.StartLine || this.state === MessageState.Fields
    this.fail(
      head ? Violation.ClosedInHead : Violation.ClosedInBody,
      this.offset,
      head ? 'connection broke before the head was complete' : 'connection broke before the end of the body',
    )
    return this.failure
  }

  protected checkHead(raw: Buffer, fields: number[]): Head | ParseFailure {
    return checkResponseHead(raw, fields, this.scanner, this.request, this.interimCount, this.limits)
  }

  protected acceptHead(h: Head): MessageState {
    const head = h as ResponseHead
    if (head.interim) {
      this.interimCount++
      this.handler.onHead(head)
      this.offset = 0
      this.scanner.reset()
      return MessageState.StartLine
    }
    this.handler.onHead(head)
    if (head.upgrade !== null) return MessageState.Upgraded
    return this.bodyState(head.framing)
  }

  protected messageEnded(): MessageState {
    this.handler.onComplete()
    return MessageState.Complete
  }
}
