// The only module that touches WebAssembly. It runs undici 7's build of llhttp (MIT, see
// THIRD_PARTY_NOTICES.md) with every lenient flag off, and maps llhttp's callbacks back to
// offsets into the caller's Buffer, so body bytes are never copied into JavaScript.
//
// llhttp is one shared wasm instance; callbacks find the parser being executed through
// `current`, which is set in try/finally around `llhttp_execute` and asserted against re-entry.

import simdWasm from 'undici/lib/llhttp/llhttp_simd-wasm.js'
import plainWasm from 'undici/lib/llhttp/llhttp-wasm.js'
import { Violation } from './codes.js'

/** llhttp's `llhttp_errno_t` values (llhttp 9, `constants.js` of undici 7). */
export const Errno = {
  OK: 0,
  INTERNAL: 1,
  STRICT: 2,
  LF_EXPECTED: 3,
  UNEXPECTED_CONTENT_LENGTH: 4,
  CLOSED_CONNECTION: 5,
  INVALID_METHOD: 6,
  INVALID_URL: 7,
  INVALID_CONSTANT: 8,
  INVALID_VERSION: 9,
  INVALID_HEADER_TOKEN: 10,
  INVALID_CONTENT_LENGTH: 11,
  INVALID_CHUNK_SIZE: 12,
  INVALID_STATUS: 13,
  INVALID_EOF_STATE: 14,
  INVALID_TRANSFER_ENCODING: 15,
  CB_MESSAGE_BEGIN: 16,
  CB_HEADERS_COMPLETE: 17,
  CB_MESSAGE_COMPLETE: 18,
  CB_CHUNK_HEADER: 19,
  CB_CHUNK_COMPLETE: 20,
  PAUSED: 21,
  PAUSED_UPGRADE: 22,
  PAUSED_H2_UPGRADE: 23,
  USER: 24,
  CR_EXPECTED: 25,
  CB_URL_COMPLETE: 26,
  CB_STATUS_COMPLETE: 27,
  CB_HEADER_FIELD_COMPLETE: 28,
  CB_HEADER_VALUE_COMPLETE: 29,
  UNEXPECTED_SPACE: 30,
  CB_RESET: 31,
} as const

export const enum ParserType {
  Request = 1,
  Response = 2,
}

/** Where in a message llhttp failed: the same errno means different rules in a head and a body. */
export const enum Phase {
  Head = 0,
  Body = 1,
}

// The one table from llhttp's numeric errors to the rule broken, in a head; in a chunked body
// (chunk lines and trailers: rules B1/B2) every error but end of input is a chunk error.
// Callback errors never reach it: a callback that fails records its own ParseFailure first.
const HEAD_ERRORS: { readonly [errno: number]: Violation } = {
  [Errno.STRICT]: Violation.Field,
  [Errno.LF_EXPECTED]: Violation.Field,
  [Errno.CR_EXPECTED]: Violation.Field,
  [Errno.UNEXPECTED_SPACE]: Violation.Field,
  [Errno.INVALID_HEADER_TOKEN]: Violation.Field,
  [Errno.UNEXPECTED_CONTENT_LENGTH]: Violation.ContentLength,
  [Errno.INVALID_CONTENT_LENGTH]: Violation.ContentLength,
  [Errno.INVALID_TRANSFER_ENCODING]: Violation.TransferCoding,
  [Errno.INVALID_METHOD]: Violation.Method,
  [Errno.INVALID_URL]: Violation.Target,
  [Errno.INVALID_CONSTANT]: Violation.StartLine,
  [Errno.INVALID_VERSION]: Violation.Version,
  [Errno.INVALID_STATUS]: Violation.StatusCode,
  [Errno.INVALID_EOF_STATE]: Violation.ClosedInHead,
  [Errno.CLOSED_CONNECTION]: Violation.ExtraData,
}

/** The rule an llhttp error breaks. */
export function violationFor(errno: number, phase: Phase): Violation {
  if (phase === Phase.Body) return errno === Errno.INVALID_EOF_STATE ? Violation.ClosedInBody : Violation.Chunk
  return HEAD_ERRORS[errno] ?? Violation.Internal
}

/**
 * What a parser hands llhttp: span offsets are relative to the Buffer given to `execute`.
 * Every method returns 0 to go on or -1 to fail (the caller keeps its own reason);
 * `onMessageComplete` returns Errno.PAUSED so that llhttp stops right after a message and the
 * caller decides what the following bytes are.
 */
export interface LlhttpCallbacks {
  onSpan(kind: Span, start: number, end: number): number
  onHeadersComplete(): number
  onMessageComplete(): number
}

export const enum Span {
  Url = 0,
  Status = 1,
  HeaderField = 2,
  HeaderValue = 3,
  Body = 4,
}

interface LlhttpExports {
  memory: WebAssembly.Memory
  _initialize(): void
  llhttp_alloc(type: number): number
  llhttp_free(ptr: number): void
  malloc(size: number): number
  free(ptr: number): void
  llhttp_execute(ptr: number, data: number, len: number): number
  llhttp_finish(ptr: number): number
  llhttp_reset(ptr: number): void
  llhttp_resume(ptr: number): void
  llhttp_resume_after_upgrade(ptr: number): void
  llhttp_get_error_pos(ptr: number): number
  llhttp_get_error_reason(ptr: number): number
  llhttp_get_status_code(ptr: number): number
  llhttp_get_http_major(ptr: number): number
  llhttp_get_http_minor(ptr: number): number
}

interface Wasm {
  exports: LlhttpExports
  /** Scratch area the chunk being parsed is copied into. */
  bufferPtr: number
  bufferSize: number
  /**
   * A view of all of wasm memory, made once rather than per call (a view is an allocation and
   * `memory.buffer` a C++ getter). Growing the memory detaches it: `refreshView` after
   * anything that may allocate in wasm (`malloc`, `llhttp_alloc`).
   */
  u8: Uint8Array
}

function refreshView(w: Wasm): void {
  w.u8 = new Uint8Array(w.exports.memory.buffer)
}

let wasm: Wasm | undefined
let current: Llhttp | null = null
/** Error thrown by a callback, rethrown after `llhttp_execute` returns. */
let pendingThrow: { error: unknown } | null = null

function callbacks(p: number): LlhttpCallbacks {
  const parser = current
  if (parser === null || parser.ptr !== p) throw new Error('llhttp callback outside execute')
  return parser.callbacks
}

function span(kind: Span, p: number, at: number, len: number): number {
  try {
    const start = at + (current as Llhttp).delta
    return callbacks(p).onSpan(kind, start, start + len)
  } catch (error) {
    pendingThrow = { error }
    return -1
  }
}

// (Plain functions, not a wrapper taking a closure: they run once or twice per message.)
function headersComplete(p: number): number {
  try {
    return callbacks(p).onHeadersComplete()
  } catch (error) {
    pendingThrow = { error }
    return -1
  }
}

function messageComplete(p: number): number {
  try {
    return callbacks(p).onMessageComplete()
  } catch (error) {
    pendingThrow = { error }
    return -1
  }
}

function instantiate(): Wasm {
  let module: WebAssembly.Module
  try {
    module = new WebAssembly.Module(simdWasm)
  } catch {
    // No SIMD in this runtime: the plain build behaves the same.
    module = new WebAssembly.Module(plainWasm)
  }
  const instance = new WebAssembly.Instance(module, {
    env: {
      wasm_on_message_begin: () => 0,
      wasm_on_url: (p: number, at: number, len: number) => span(Span.Url, p, at, len),
      wasm_on_status: (p: number, at: number, len: number) => span(Span.Status, p, at, len),
      wasm_on_header_field: (p: number, at: number, len: number) => span(Span.HeaderField, p, at, len),
      wasm_on_header_value: (p: number, at: number, len: number) => span(Span.HeaderValue, p, at, len),
      wasm_on_headers_complete: headersComplete,
      wasm_on_body: (p: number, at: number, len: number) => span(Span.Body, p, at, len),
      wasm_on_message_complete: messageComplete,
    },
  })
  const exports = instance.exports as unknown as LlhttpExports
  exports._initialize()
  const w: Wasm = { exports, bufferPtr: 0, bufferSize: 0, u8: new Uint8Array(0) }
  refreshView(w)
  return w
}

function getWasm(): Wasm {
  wasm ??= instantiate()
  return wasm
}

/**
 * One llhttp parser (one per connection), reset between messages.
 *
 * `execute` and `finish` return llhttp's errno; where llhttp stopped and why are left in `pos`
 * and `reason` (fields rather than a result object: this runs several times per message).
 */
export class Llhttp {
  readonly ptr: number
  readonly callbacks: LlhttpCallbacks
  /** `base` minus the input's address in wasm memory: added to a callback's pointer. */
  delta = 0
  /**
   * After `execute`: the offset in the caller's Buffer where llhttp stopped (for PAUSED,
   * PAUSED_UPGRADE and errors), otherwise the end of the input. 0 after `finish`.
   */
  pos = 0
  /** After an error: llhttp's reason; '' otherwise. */
  reason = ''
  private readonly w: Wasm

  constructor(type: ParserType, cbs: LlhttpCallbacks) {
    this.w = getWasm()
    this.ptr = this.w.exports.llhttp_alloc(type)
    refreshView(this.w)
    this.callbacks = cbs
  }

  reset(): void {
    this.w.exports.llhttp_reset(this.ptr)
  }

  /** Parse `buf[start, end)`. Span offsets given to the callbacks are indexes into `buf`. */
  execute(buf: Uint8Array, start: number, end: number): number {
    const at = this.input(end - start)
    this.w.u8.set(start === 0 && end === buf.length ? buf : buf.subarray(start, end), at)
    return this.run(start, end)
  }

  /**
   * Reserve input space for `len` bytes and return its offset in `memory`. The caller copies
   * there the bytes llhttp will read, then calls `run`. (`execute` copies all of them; a chunked
   * body leaves chunk data out, which llhttp counts but never reads: see chunked-copy.ts.)
   */
  input(len: number): number {
    // Checked here, before the input space is touched: a callback of an execute in progress
    // must not overwrite (or free) the bytes llhttp is reading.
    if (current !== null) throw new Error('llhttp: nested execute')
    const w = this.w
    if (len > w.bufferSize) {
      if (w.bufferPtr !== 0) w.exports.free(w.bufferPtr)
      w.bufferSize = Math.ceil(len / 16384) * 16384
      w.bufferPtr = w.exports.malloc(w.bufferSize)
      refreshView(w)
    }
    return w.bufferPtr
  }

  /** All of wasm memory; valid until the next `input` (which may grow it). */
  get memory(): Uint8Array {
    return this.w.u8
  }

  /**
   * Parse the `end - start` bytes placed at `input()`, which stand for `buf[start, end)` of the
   * caller's Buffer: span offsets given to the callbacks are indexes into that Buffer.
   */
  run(start: number, end: number): number {
    if (current !== null) throw new Error('llhttp: nested execute')
    const w = this.w
    let errno: number
    this.delta = start - w.bufferPtr
    try {
      current = this
      errno = w.exports.llhttp_execute(this.ptr, w.bufferPtr, end - start)
    } finally {
      current = null
    }
    if (pendingThrow !== null) {
      const { error } = pendingThrow
      pendingThrow = null
      this.reset()
      throw error
    }
    this.reason = ''
    if (errno === Errno.OK) {
      this.pos = end
      return errno
    }
    this.pos = w.exports.llhttp_get_error_pos(this.ptr) - w.bufferPtr + start
    if (errno === Errno.PAUSED) w.exports.llhttp_resume(this.ptr)
    else if (errno === Errno.PAUSED_UPGRADE) w.exports.llhttp_resume_after_upgrade(this.ptr)
    else this.reason = this.errorReason()
    return errno
  }

  /** Tell llhttp the input ended (EOF). */
  finish(): number {
    if (current !== null) throw new Error('llhttp: nested finish')
    let errno: number
    try {
      current = this
      errno = this.w.exports.llhttp_finish(this.ptr)
    } finally {
      current = null
    }
    if (pendingThrow !== null) {
      const { error } = pendingThrow
      pendingThrow = null
      throw error
    }
    this.pos = 0
    this.reason = ''
    if (errno === Errno.OK || errno === Errno.PAUSED) return Errno.OK
    this.reason = this.errorReason()
    return errno
  }

  private errorReason(): string {
    const w = this.w
    const ptr = w.exports.llhttp_get_error_reason(this.ptr)
    if (ptr === 0) return 'llhttp error'
    const mem = w.u8
    let end = ptr
    while (end < mem.length && mem[end] !== 0) end++
    return Buffer.from(mem.subarray(ptr, end)).toString('latin1')
  }

  destroy(): void {
    this.w.exports.llhttp_free(this.ptr)
  }
}
