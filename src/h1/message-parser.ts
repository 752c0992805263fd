// What request and response parsing share: feeding llhttp exactly one head at a time, length
// and close-delimited bodies in JavaScript (no copy into wasm), chunked bodies and trailers
// through llhttp (their chunk data not copied either: chunked-copy.ts), and the MessageState
// transitions. Pure: bytes in, events out.

import type { ParseFailure } from '../errors.js'
import { ChunkedCopy } from './chunked-copy.js'
import { type CodeTable, Violation } from './codes.js'
import { FieldSpans } from './field-spans.js'
import type { Framing, Head, Trailer } from './head.js'
import type { Limits } from './limits.js'
import { Errno, Llhttp, type LlhttpCallbacks, ParserType, Phase, Span, violationFor } from './llhttp.js'
import { FAILED, HeadScanner, NEED_MORE } from './scanner.js'
import { TrailerFields, TrailerPart } from './trailers.js'

/** Where a message parser is: a message moves through these, and every byte fits one (or fails). */
export const enum MessageState {
  /** Status line or request line. */
  StartLine = 0,
  Fields = 1,
  BodyLength = 2,
  BodyChunked = 3,
  BodyClose = 4,
  Trailers = 5,
  Complete = 6,
  /** After a valid 101 (or an upgrade request): the bytes that follow are a tunnel. */
  Upgraded = 7,
  Failed = 8,
}

/** Events common to both directions. Called synchronously from `execute`, never from inside llhttp. */
export interface BodyEvents {
  /** A slice of the caller's Buffer: valid as long as the caller keeps that Buffer. */
  onBody(chunk: Buffer): void
  onTrailers(trailers: readonly Trailer[]): void
  onComplete(): void
}

const HTAB = 0x09
const SP = 0x20
const EMPTY = Buffer.alloc(0)
/** The end of a head: the CRLF of its last line and the empty line. */
const CRLF_CRLF = Buffer.from('\r\n\r\n', 'latin1')

/** llhttp's errors about what a Content-Length or Transfer-Encoding field means (F1–F3). */
function isMeaningError(errno: number): boolean {
  return (
    errno === Errno.INVALID_CONTENT_LENGTH ||
    errno === Errno.UNEXPECTED_CONTENT_LENGTH ||
    errno === Errno.INVALID_TRANSFER_ENCODING
  )
}

export abstract class MessageParser implements LlhttpCallbacks {
  state: MessageState = MessageState.StartLine
  failure: ParseFailure | null = null
  /** Bytes of the current message consumed so far: the offset reported with failures. */
  offset = 0
  /**
   * Where a head that arrived whole is copied to, when its bytes must outlive the chunk they came
   * in (null: the head is a view of the chunk). Heads in pieces are always copied.
   */
  protected headMemory: ((size: number) => Buffer) | null = null
  /**
   * Largest decoded body accepted (requests; Infinity for responses). A Content-Length above it
   * is refused with the head; a chunked body is held to it as it is decoded.
   */
  protected maxBodyBytes = Number.POSITIVE_INFINITY

  /** The limits it holds messages to (fixed: a new parser for new limits). */
  readonly limits: Limits
  protected readonly scanner: HeadScanner
  /** The codes of this direction (codes.ts). */
  protected readonly codes: CodeTable
  private readonly ll: Llhttp
  protected events: BodyEvents

  // The head being read: the copies of its earlier pieces (reused from head to head), its fields.
  private readonly headPieces: Buffer[] = []
  private readonly spans = new FieldSpans()
  /** llhttp reached the end of the head in the current execute. */
  private headersComplete = false
  /**
   * llhttp's verdict on a field's meaning (F1–F3), held until the head's grammar is known
   * (`executeFields`), and head offsets of the field names it is no longer shown (`executeHead`).
   */
  private deferred: ParseFailure | null = null
  private readonly disguised: number[] = []
  // The body being read.
  private remaining = 0
  /** Body spans (start, end) of one execute over a chunked body: `bodySpansEnd` entries used. */
  private readonly bodySpans: number[] = []
  private bodySpansEnd = 0
  /** Decoded body bytes of the current message delivered so far. */
  private bodyBytes = 0
  private readonly trailerFields = new TrailerFields()
  /** The chunk llhttp is executing over (chunked bodies), for decoding trailer spans. */
  private chunk: Buffer = EMPTY
  private messageDone = false
  private readonly chunked: ChunkedCopy

  constructor(type: ParserType, codes: CodeTable, events: BodyEvents, limits: Limits) {
    this.codes = codes
    this.events = events
    this.limits = limits
    this.chunked = new ChunkedCopy(limits)
    this.scanner = new HeadScanner(type === ParserType.Response, codes, limits)
    this.ll = new Llhttp(type, this)
  }

  /** Check the complete head and decide framing; called with the head's bytes and field offsets. */
  protected abstract checkHead(raw: Buffer, fields: number[]): Head | ParseFailure
  /** Deliver the head; returns the state to go on in (a body state, Complete or Upgraded). */
  protected abstract acceptHead(head: Head): MessageState
  /** A message (head and body) ended: returns the next state. */
  protected abstract messageEnded(): MessageState

  /** The state a head with this framing leads to (ending the message at once if it has no body). */
  protected bodyState(framing: Framing): MessageState {
    switch (framing.kind) {
      case 'length':
        if (framing.length === 0) return this.messageEnded()
        this.remaining = framing.length
        return MessageState.BodyLength
      case 'chunked':
        this.chunked.reset()
        return MessageState.BodyChunked
      case 'close':
        return MessageState.BodyClose
      default:
        return this.messageEnded()
    }
  }

  /** Free the wasm parser. The parser cannot be used afterwards. */
  destroy(): void {
    this.ll.destroy()
    this.state = MessageState.Failed
  }

  /** Start the next message from a clean state (between exchanges). */
  protected restart(): void {
    this.state = MessageState.StartLine
    this.failure = null
    this.offset = 0
    this.scanner.reset()
  }

  protected fail(violation: Violation, offset: number, reason: string): number {
    this.failure = { code: this.codes[violation], offset, reason }
    this.state = MessageState.Failed
    return -1
  }

  protected failWith(failure: ParseFailure): number {
    this.failure = failure
    this.state = MessageState.Failed
    return -1
  }

  /** Parse `chunk[pos..]` in the current state. Returns where it stopped, or -1 on failure. */
  protected step(chunk: Buffer, pos: number): number {
    switch (this.state) {
      case MessageState.StartLine:
      case MessageState.Fields:
        return this.stepHead(chunk, pos)
      case MessageState.BodyLength: {
        const n = Math.min(this.remaining, chunk.length - pos)
        this.events.onBody(pos === 0 && n === chunk.length ? chunk : chunk.subarray(pos, pos + n))
        this.remaining -= n
        this.offset += n
        if (this.remaining === 0) this.state = this.messageEnded()
        return pos + n
      }
      case MessageState.BodyClose:
        this.events.onBody(pos === 0 ? chunk : chunk.subarray(pos))
        this.offset += chunk.length - pos
        return chunk.length
      case MessageState.BodyChunked:
      case MessageState.Trailers:
        return this.stepChunked(chunk, pos)
      default:
        return this.fail(Violation.Internal, this.offset, `no bytes expected in state ${this.state}`)
    }
  }

  private stepHead(chunk: Buffer, pos: number): number {
    const scanner = this.scanner
    if (this.state === MessageState.StartLine && scanner.offset === 0) {
      this.ll.reset()
      if (this.headPieces.length > 0) this.headPieces.length = 0
      this.spans.reset()
      this.headersComplete = false
      this.deferred = null
      if (this.disguised.length > 0) this.disguised.length = 0
      const whole = this.wholeHead(chunk, pos)
      if (whole >= 0) return this.headParsed(chunk, pos, whole)
    }
    const base = scanner.offset - pos
    const inMethod = scanner.inMethod
    const end = scanner.scan(chunk, pos, chunk.length)
    // The start line is the scanner's to judge (S1–S4, the request-line rules): its failure
    // stands, whatever llhttp would say of the bytes before it.
    if (end === FAILED && !scanner.inFields) return this.failWith(scanner.failure as ParseFailure)
    let from = pos
    if (inMethod) {
      // llhttp is given the method once it was judged whole (RULES.md): on its own it would
      // refuse it at the first byte no method it knows starts with.
      if (scanner.inMethod) return this.needMore(chunk, pos)
      const errno = this.feedMethod(scanner.method)
      if (errno !== Errno.OK) return this.fail(violationFor(errno, Phase.Head), 0, this.ll.reason)
      from = scanner.methodEnd + 1 - base
    }
    const stop = end >= 0 ? end : end === NEED_MORE ? chunk.length : scanner.failIndex
    if (stop > from) {
      this.spans.base = base
      const failure = this.executeFields(chunk, pos, from, stop)
      if (failure !== null) return this.failWith(failure)
    }
    if (end === FAILED) return this.failWith(scanner.failure as ParseFailure)
    if (end === NEED_MORE) return this.needMore(chunk, pos)
    return this.headParsed(chunk, pos, end)
  }

  /** The head goes on past `chunk`: keep its bytes from `pos`. */
  private needMore(chunk: Buffer, pos: number): number {
    // A copy: the caller may read into the same memory again (a reused read buffer).
    this.headPieces.push(Buffer.from(chunk.subarray(pos)))
    this.offset = this.scanner.offset
    this.state = this.scanner.inFields ? MessageState.Fields : MessageState.StartLine
    return chunk.length
  }

  /** A request's method and its SP, to llhttp: bytes that make no span. */
  private feedMethod(method: string): number {
    const n = method.length + 1
    const at = this.ll.input(n)
    const mem = this.ll.memory
    for (let k = 0; k < method.length; k++) mem[at + k] = method.charCodeAt(k)
    mem[at + method.length] = SP
    return this.ll.run(0, n)
  }

  /**
   * llhttp over the head bytes `chunk[from, stop)` (the head began at `chunk[pos]` or before).
   * What llhttp finds wrong with what a Content-Length or Transfer-Encoding field means, as the
   * bytes stream, is not final: RULES.md judges a head's field grammar (H1–H4) before its
   * fields' meaning, and Host before F2–F3 (check-head.ts). So llhttp reads the head again with
   * that field's name disguised (a field without meaning to it, whose grammar it still checks),
   * and its verdict is `deferred`: check-head.ts judges the meaning with the whole head, and the
   * verdict stands only if those checks find nothing.
   */
  private executeFields(chunk: Buffer, pos: number, from: number, stop: number): ParseFailure | null {
    const ll = this.ll
    let errno = this.executeHead(chunk, from, stop)
    while (isMeaningError(errno)) {
      this.deferred ??= {
        code: this.codes[violationFor(errno, Phase.Head)],
        offset: ll.pos + this.spans.base,
        reason: ll.reason,
      }
      // After the last field (llhttp's check of the whole head): the head is complete.
      if (this.headersComplete) return null
      // Mid-head: the field being read is the last one named; disguise its name's last byte.
      const nameEnd = this.spans.lastNameEnd
      if (nameEnd === 0 || this.disguised.includes(nameEnd - 1)) break
      this.disguised.push(nameEnd - 1)
      errno = this.executeAgain(chunk, pos, stop)
    }
    if (errno === Errno.OK || errno === Errno.PAUSED || errno === Errno.PAUSED_UPGRADE) return null
    return { code: this.codes[violationFor(errno, Phase.Head)], offset: ll.pos + this.spans.base, reason: ll.reason }
  }

  /** llhttp again over the whole head so far (the earlier pieces, then `chunk[pos, stop)`). */
  private executeAgain(chunk: Buffer, pos: number, stop: number): number {
    const pieces = this.headPieces
    const head = pieces.length === 0 ? chunk.subarray(pos, stop) : Buffer.concat([...pieces, chunk.subarray(pos, stop)])
    this.ll.reset()
    this.spans.reset()
    this.headersComplete = false
    // Indexes in `head` are head offsets.
    this.spans.base = 0
    return this.executeHead(head, 0, head.length)
  }

  /**
   * The usual case: a head that arrived whole, start line to empty line, in one chunk. One search
   * finds its end instead of scanning every field line for CR and LF: llhttp checks the field
   * lines, and once llhttp (strict) has accepted them, the scanner's field-line rules cannot fail
   * either (llhttp rejects bare CR, bare LF, obs-fold and whitespace before a name too), so
   * `HeadScanner.acceptWhole` needs only the start line and the totals. On the same bytes llhttp
   * makes the same callbacks as on the byte-by-byte way, so the head is the same.
   *
   * Returns the end of the head, or -1 with the head state as it was (llhttp reset) when the head
   * is not whole or anything failed: the byte-by-byte way then decides which failure comes first.
   */
  private wholeHead(chunk: Buffer, pos: number): number {
    const crlf = chunk.indexOf(CRLF_CRLF, pos)
    // (Too large a head fails the size limit: the byte-by-byte way says where.)
    if (crlf < 0 || crlf + 4 - pos > this.limits.maxHeaderBytes) return -1
    const end = crlf + 4
    this.spans.base = -pos
    const errno = this.executeHead(chunk, pos, end)
    if (
      (errno === Errno.OK || errno === Errno.PAUSED || errno === Errno.PAUSED_UPGRADE) &&
      this.headersComplete &&
      this.scanner.acceptWhole(chunk, pos, end, this.spans.count)
    ) {
      return end
    }
    this.ll.reset()
    this.spans.reset()
    this.headersComplete = false
    return -1
  }

  /**
   * llhttp over head bytes `chunk[start, end)`, with every HTAB given to llhttp as SP. OWS is SP
   * or HTAB alike (RFC 9110 §5.6.3), but llhttp takes only SP as trailing OWS in the values it
   * interprets: `Transfer-Encoding: chunked<HTAB>` is not chunked to it (it would read the body
   * as close-delimited while we decode chunks) and `Content-Length: 5<HTAB>` is invalid. Where
   * HTAB is not allowed, SP is not either (before a colon, at the start of a line; the start line
   * is the scanner's), and spans index the caller's bytes, so the head keeps its HTABs. The last
   * byte of each `disguised` field name is given changed (still a tchar): a field llhttp gives
   * no meaning to (see executeFields).
   */
  private executeHead(chunk: Buffer, start: number, end: number): number {
    const ll = this.ll
    const tab = chunk.subarray(start, end).indexOf(HTAB)
    const disguised = this.disguised
    if (tab < 0 && disguised.length === 0) return ll.execute(chunk, start, end)
    const at = ll.input(end - start)
    const mem = ll.memory
    mem.set(chunk.subarray(start, end), at)
    if (tab >= 0) for (let i = at + tab; i < at + end - start; i++) if (mem[i] === HTAB) mem[i] = SP
    for (let k = 0; k < disguised.length; k++) {
      const i = disguised[k] - this.spans.base
      // "Content-Length" ends in h, "Transfer-Encoding" in g: i and f make names without meaning.
      if (i >= start && i < end) mem[at + i - start] ^= 1
    }
    return ll.run(start, end)
  }

  /** The head `chunk[pos, end)` (after any earlier pieces) is complete: check it and go on. */
  private headParsed(chunk: Buffer, pos: number, end: number): number {
    this.offset = this.scanner.offset
    const pieces = this.headPieces
    let raw = chunk.subarray(pos, end)
    if (pieces.length > 0) {
      pieces.push(raw)
      raw = Buffer.concat(pieces)
      pieces.length = 0
    } else if (this.headMemory !== null) {
      // The head outlives the caller's Buffer, which the caller reads into again.
      const copy = this.headMemory(end - pos)
      chunk.copy(copy, 0, pos, end)
      raw = copy
    }
    const fields = this.spans.take(raw)
    const head = this.checkHead(raw, fields)
    if ('code' in head) return this.failWith(head)
    // llhttp refused what a field means and our own checks found nothing: its verdict stands.
    if (this.deferred !== null) return this.failWith(this.deferred)
    // Per-message body state: a message that failed in its trailers must not leak them into the
    // next message on the connection.
    this.bodyBytes = 0
    this.trailerFields.clear()
    this.state = this.acceptHead(head)
    return end
  }

  private stepChunked(chunk: Buffer, pos: number): number {
    this.bodySpansEnd = 0
    this.messageDone = false
    this.chunk = chunk
    // llhttp gets the framing but not the chunk data, which it only counts (chunked-copy.ts).
    const ll = this.ll
    const input = ll.input(chunk.length - pos)
    this.chunked.copy(chunk, pos, chunk.length, ll.memory, input)
    // A byte breaking a rule llhttp does not check (chunked-copy.ts): stop llhttp before it.
    const badAt = this.chunked.failAt
    const errno = ll.run(pos, badAt >= 0 ? badAt : chunk.length)
    this.chunk = EMPTY
    const spans = this.bodySpans
    for (let i = 0; i < this.bodySpansEnd; i += 2) {
      const room = this.maxBodyBytes - this.bodyBytes
      if (spans[i + 1] - spans[i] > room) {
        // Checked before the message can complete in this same execute; delivers exactly up to
        // the limit and fails at the first byte past it, whatever the chunking.
        if (room > 0) this.events.onBody(chunk.subarray(spans[i], spans[i] + room))
        const at = this.offset + spans[i] + room - pos
        return this.fail(Violation.BodyTooLarge, at, `request body larger than ${this.maxBodyBytes} bytes`)
      }
      this.bodyBytes += spans[i + 1] - spans[i]
      this.events.onBody(chunk.subarray(spans[i], spans[i + 1]))
    }
    if (errno === Errno.PAUSED && this.messageDone) {
      this.offset += ll.pos - pos
      // B2: no framing, routing or other field RFC 9110 §6.5.1 keeps out of a trailer section.
      const forbidden = this.trailerFields.forbidden()
      if (forbidden !== null) {
        return this.fail(Violation.Chunk, this.offset, `${forbidden} is not allowed in a trailer section`)
      }
      const trailers = this.trailerFields.take()
      if (trailers.length > 0) this.events.onTrailers(trailers)
      this.state = this.messageEnded()
      return ll.pos
    }
    if (errno === Errno.OK && badAt >= 0) {
      return this.fail(Violation.Chunk, this.offset + badAt - pos, this.chunked.failReason)
    }
    if (errno === Errno.OK) {
      this.offset += chunk.length - pos
      return chunk.length
    }
    return this.fail(violationFor(errno, Phase.Body), this.offset + ll.pos - pos, ll.reason)
  }

  /** End of input (FIN). A close-delimited body ends here; anything else unfinished is a failure. */
  protected endOfInput(): ParseFailure | null {
    switch (this.state) {
      case MessageState.BodyClose:
        this.state = this.messageEnded()
        return null
      case MessageState.Complete:
      case MessageState.Upgraded:
        return null
      case MessageState.Failed:
        return this.failure
      case MessageState.StartLine:
      case MessageState.Fields:
        this.fail(
          Violation.ClosedInHead,
          this.offset,
          this.offset === 0 ? 'closed before any byte of the message' : 'closed before the head was complete',
        )
        return this.failure
      default:
        this.fail(Violation.ClosedInBody, this.offset, 'closed before the end of the body')
        return this.failure
    }
  }

  // llhttp callbacks: record only; events are emitted after llhttp_execute returns.

  onSpan(kind: Span, start: number, end: number): number {
    if (kind === Span.Body) {
      // (A chunk size over 2^53 - 1 never gets here: chunked-copy.ts stops llhttp at its digits.)
      const n = this.bodySpansEnd
      this.bodySpans[n] = start
      this.bodySpans[n + 1] = end
      this.bodySpansEnd = n + 2
      return 0
    }
    if (kind === Span.HeaderField || kind === Span.HeaderValue) {
      if (this.state === MessageState.BodyChunked || this.state === MessageState.Trailers) {
        this.state = MessageState.Trailers
        const part = kind === Span.HeaderField ? TrailerPart.Name : TrailerPart.Value
        this.trailerFields.add(part, this.chunk.toString('latin1', start, end))
        return 0
      }
    }
    this.spans.add(kind, start, end)
    return 0
  }

  onHeadersComplete(): number {
    this.headersComplete = true
    return 0
  }

  onMessageComplete(): number {
    this.messageDone = true
    return Errno.PAUSED
  }
}
