// Client requests: raw bytes in any chunking → head, body slices, completion, or one
// ParseFailure with a client code (400/413/414/431/501/505). One message at a time: after a
// message completes, `execute` returns how far it read and the rest waits for the next call.

import type { ParseFailure } from '../errors.js'
import { checkRequestHead } from './check-head.js'
import { REQUEST_CODES, Violation } from './codes.js'
import type { Head, RequestHead } from './head.js'
import { DEFAULT_LIMITS, type Limits } from './limits.js'
import { ParserType } from './llhttp.js'
import { type BodyEvents, MessageParser, MessageState } from './message-parser.js'

export interface RequestEvents extends BodyEvents {
  onHead(head: RequestHead): void
}

export class RequestParser extends MessageParser {
  private readonly handler: RequestEvents

  /**
   * `headMemory`: memory each head is copied to, for a caller that reads into the same Buffer
   * again while a head is still in use (null: heads are views of the Buffer given to execute).
   */
  constructor(
    events: RequestEvents,
    limits: Limits = DEFAULT_LIMITS,
    headMemory: ((size: number) => Buffer) | null = null,
  ) {
    super(ParserType.Request, REQUEST_CODES, events, limits)
    this.handler = events
    this.maxBodyBytes = limits.maxRequestBodyBytes
    this.headMemory = headMemory
  }

  /**
   * Feed client bytes. Returns how many were consumed: fewer than `chunk.length` when a
   * message completed (the rest is the next pipelined request: feed it again later), or -1 on
   * failure (`failure`).
   */
  execute(chunk: Buffer, start = 0): number {
    let pos = start
    if (this.state === MessageState.Complete) this.restart()
    while (pos < chunk.length) {
      if (this.state === MessageState.Complete) return pos
      if (this.state === MessageState.Failed) return -1
      pos = this.step(chunk, pos)
      if (pos < 0) return -1
    }
    return pos
  }

  /**
   * Drop the message in progress, its body unread: the next `execute` starts a new one. For
   * heads checked on their own (embedding: the body is read by node:http, not here).
   */
  reset(): void {
    this.restart()
  }

  /** A message ended and the parser waits for the next one. */
  get idle(): boolean {
    return this.state === MessageState.Complete || (this.state === MessageState.StartLine && this.offset === 0)
  }

  /** The client closed its side. Between messages that is a clean end; otherwise CLIENT_ABORTED. */
  finish(): ParseFailure | null {
    if (this.state === MessageState.StartLine && this.offset === 0) return null
    return this.endOfInput()
  }

  protected checkHead(raw: Buffer, fields: number[]): Head | ParseFailure {
    const head = checkRequestHead(raw, fields, this.scanner)
    if ('code' in head) return head
    if (head.framing.kind === 'length' && head.framing.length > this.maxBodyBytes) {
      return {
        code: this.codes[Violation.BodyTooLarge],
        offset: raw.length,
        reason: `Content-Length larger than ${this.maxBodyBytes}`,
      }
    }
    return head
  }

  protected acceptHead(h: Head): MessageState {
    this.handler.onHead(h as RequestHead)
    return this.bodyState(h.framing)
  }

  protected messageEnded(): MessageState {
    this.handler.onComplete()
    return MessageState.Complete
  }
}
