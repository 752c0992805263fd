// The access log: one line per finished exchange, as text or JSON lines, and a writer that
// never blocks the event loop. Lines are buffered and written in batches, one write in flight
// at a time; while the sink is slower than the traffic the buffer grows up to a bound, and past
// it lines are dropped and counted rather than held (memory) or waited for (latency). An
// access log is worth less than the requests it describes.
//
// Why a sink of our own for stdout (`fdSink(1)`) rather than process.stdout: on Linux Node
// writes to stdout synchronously when it is a file or a pipe, so a slow log reader (a full
// pipe to a container runtime) would stall every connection. fs.write runs on the libuv thread
// pool instead: a stalled reader costs one pool thread, and the lines pile up (to the bound)
// here.

import { close, open, write } from 'node:fs'

/**
 * What one line needs: the `strictgate:exchange` message (`request`, `status`, `durationMs`,
 * `error`) extended with `client`, `bytesSent`, `upstream` and `started`. Structural, so that
 * the gateway's ExchangeMessage can be passed as it is once it carries those fields.
 */
export interface AccessLogExchange {
  /** The request head; undefined when the exchange failed before a request head was complete. */
  readonly request: { readonly method: string; readonly target: string } | undefined
  /** Status the client got; 0 when its connection was aborted. */
  readonly status: number
  readonly durationMs: number
  readonly error: { readonly code: string } | undefined
  /** The client's address (socket.remoteAddress), when known. */
  readonly client: string | undefined
  /** Bytes of the response written to the client: head, framing and body (nginx's $bytes_sent). */
  readonly bytesSent: number
  /** The target URL the request went to (as configured); undefined when none was chosen. */
  readonly upstream: string | undefined
  /** When the exchange started: wall-clock ms since the epoch (performance.timeOrigin + start). */
  readonly started: number
}

export type AccessLogFormat = 'text' | 'json'

// ISO 8601 time, UTC, to the millisecond. Date#toISOString costs about as much as the rest of
// a line; consecutive lines mostly fall in the same second, so its first 20 characters are
// kept and only the milliseconds are written per line.
let cachedSecond = Number.NaN
let cachedPrefix = ''

export function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000)
  if (second !== cachedSecond) {
    cachedSecond = second
    const iso = new Date(second * 1000).toISOString()
    cachedPrefix = iso.slice(0, iso.length - 4) // drop "000Z": "2026-01-02T03:04:05."
  }
  const millis = Math.floor(ms) - second * 1000
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`
}

/**
 * A text field: a blank would split the line and a control character could forge one (log
 * injection), so anything but visible ASCII, and the backslash itself, becomes `\xHH`. Targets
 * our parser accepted never need it; those read by Node's parser (proxy(req, res)) might.
 */
function field(value: string | undefined): string {
  if (value === undefined || value === '') return '-'
  if (!/[^\x21-\x5b\x5d-\x7e]/.test(value)) return value
  let out = ''
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c > 0x20 && c < 0x7f && c !== 0x5c) out += value[i]
    else if (c <= 0xff) out += `\\x${c.toString(16).padStart(2, '0')}`
    else out += `\\u${c.toString(16).padStart(4, '0')}`
  }
  return out
}

/** Milliseconds, to the microsecond: enough for a local upstream, short for a slow one. */
function millis(durationMs: number): number {
  return Math.round(durationMs * 1000) / 1000
}

/**
 * `time client method target status bytesSent durationMs upstream code`, space-separated,
 * `-` for what is absent: `2026-01-02T03:04:05.678Z 10.0.0.7 GET /a?b=1 200 512 1.234
 * http://127.0.0.1:3000 -`.
 */
export function formatText(m: AccessLogExchange): string {
  return `${isoTime(m.started)} ${field(m.client)} ${field(m.request?.method)} ${field(m.request?.target)} ${m.status} ${m.bytesSent} ${millis(m.durationMs)} ${field(m.upstream)} ${field(m.error?.code)}\n`
}

/** A JSON string; absent values are null. */
function json(value: string | undefined): string {
  return value === undefined ? 'null' : JSON.stringify(value)
}

/** One JSON object per line, the same fields as the text format (and as the CLI's error log). */
export function formatJson(m: AccessLogExchange): string {
  return `{"time":"${isoTime(m.started)}","client":${json(m.client)},"method":${json(m.request?.method)},"target":${json(m.request?.target)},"status":${m.status},"bytesSent":${m.bytesSent},"durationMs":${millis(m.durationMs)},"upstream":${json(m.upstream)},"code":${json(m.error?.code)}}\n`
}

export function formatter(format: AccessLogFormat): (m: AccessLogExchange) => string {
  return format === 'json' ? formatJson : formatText
}

/** Where batches go. One write at a time: the writer waits for `done` before the next. */
export interface LogSink {
  write(data: string, done: (err: Error | null) => void): void
  close?(): Promise<void>
}

/** Any Writable (a file stream, a socket): its write callback is the completion. */
export function streamSink(stream: NodeJS.WritableStream): LogSink {
  return {
    write: (data, done) => {
      stream.write(data, (err) => done(err ?? null))
    },
  }
}

/** Retry delay after EAGAIN on a descriptor another process left non-blocking (ms). */
const EAGAIN_RETRY_MS = 10

/**
 * A file descriptor written from the thread pool (fs.write), so the event loop never waits for
 * the reader: `fdSink(1)` for stdout. Handles short writes, and EAGAIN on a non-blocking
 * descriptor, by writing the rest again.
 */
export function fdSink(fd: number, onClose?: () => Promise<void>): LogSink {
  return {
    write: (data, done) => {
      const buf = Buffer.from(data, 'utf8')
      const rest = (offset: number): void => {
        write(fd, buf, offset, buf.length - offset, null, (err, n) => {
          if (err !== null && err.code === 'EAGAIN') {
            setTimeout(() => rest(offset), EAGAIN_RETRY_MS).unref()
          } else if (err !== null) done(err)
          else if (offset + n < buf.length) rest(offset + n)
          else done(null)
        })
      }
      rest(0)
    },
    close: onClose,
  }
}

/** A file opened for appending (created if absent); closing the sink closes the file. */
export function openFileSink(path: string): Promise<LogSink> {
  return new Promise((resolve, reject) => {
    open(path, 'a', (err, fd) => {
      if (err !== null) reject(err)
      else resolve(fdSink(fd, () => new Promise((done) => close(fd, () => done()))))
    })
  })
}

export interface AccessLogWriterOptions {
  /**
   * Most characters held, buffered and in flight together (default 4 MiB: some 30,000 lines).
   * A line that does not fit is dropped and counted.
   */
  maxBufferedChars?: number
  /**
   * How long lines may wait to be batched (ms, default 100; 0: a write per event-loop turn). A
   * write from the thread pool costs some 50 µs of CPU whatever its size, so the batch is what
   * makes the per-line cost small. A batch reaching 64 KiB, flush() and close() write at once.
   */
  flushIntervalMs?: number
  /**
   * Lines were dropped: called with how many since the last call, when the sink has caught up
   * (a batch was written) or at close. At most once per batch, never per line.
   */
  onDrop?: (dropped: number) => void
  /** The sink failed (EPIPE: the reader is gone...). Called once; every later line is dropped. */
  onError?: (err: Error) => void
}

const DEFAULT_MAX_BUFFERED_CHARS = 4 * 1024 * 1024
const DEFAULT_FLUSH_INTERVAL_MS = 100
/** A batch this large is written without waiting for the interval. */
const BATCH_CHARS = 64 * 1024

/**
 * Batches lines into a LogSink, one write in flight at a time. Lines wait at most
 * `flushIntervalMs` (unless the process exits first: call close() on shutdown).
 */
export class AccessLogWriter {
  /** Lines written so far. */
  written = 0
  /** Lines dropped so far (buffer full, sink failed, or written after close). */
  dropped = 0
  private readonly sink: LogSink
  private readonly max: number
  private readonly interval: number
  private readonly onDrop: ((dropped: number) => void) | undefined
  private readonly onError: ((err: Error) => void) | undefined
  private pending: string[] = []
  private pendingChars = 0
  private inFlightChars = 0
  private inFlightLines = 0
  /** A write is due on the next turn (setImmediate). */
  private soonScheduled = false
  /** A write is due when the interval is over (an unref'd timer). */
  private timer: NodeJS.Timeout | null = null
  private failed = false
  private closed = false
  private unreported = 0
  /** flush() callers, resolved when nothing is queued or in flight. */
  private idle: (() => void)[] = []

  constructor(sink: LogSink, options: AccessLogWriterOptions = {}) {
    this.sink = sink
    this.max = options.maxBufferedChars ?? DEFAULT_MAX_BUFFERED_CHARS
    this.interval = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS
    this.onDrop = options.onDrop
    this.onError = options.onError
  }

  /** Queue one line (with its newline). Never waits and never throws. */
  write(line: string): void {
    if (this.failed || this.closed || this.inFlightChars + this.pendingChars + line.length > this.max) {
      this.dropped++
      this.unreported++
      return
    }
    this.pending.push(line)
    this.pendingChars += line.length
    // While a write is in flight, its completion schedules the next one.
    if (this.inFlightLines === 0) this.schedule()
  }

  /** Write what is queued now; resolves once every line queued so far is written (or dropped). */
  flush(): Promise<void> {
    if (this.pending.length === 0 && this.inFlightLines === 0) return Promise.resolve()
    const done = new Promise<void>((resolve) => this.idle.push(resolve))
    if (this.inFlightLines === 0) this.soon()
    return done
  }

  /** Write what is queued, refuse further lines, report drops, and close the sink. */
  async close(): Promise<void> {
    this.closed = true
    await this.flush()
    this.report()
    await this.sink.close?.()
  }

  /** Queued lines wait for the interval, unless they make a full batch or someone waits. */
  private schedule(): void {
    if (this.pendingChars >= BATCH_CHARS || this.interval === 0 || this.idle.length > 0) this.soon()
    else if (this.timer === null && !this.soonScheduled) {
      this.timer = setTimeout(this.flushBatch, this.interval)
      this.timer.unref()
    }
  }

  private soon(): void {
    if (this.soonScheduled) return
    this.soonScheduled = true
    setImmediate(this.flushBatch)
  }

  private readonly flushBatch = (): void => {
    this.soonScheduled = false
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    if (this.inFlightLines > 0) return
    if (this.pending.length === 0) {
      this.settle()
      return
    }
    const data = this.pending.length === 1 ? this.pending[0] : this.pending.join('')
    this.inFlightLines = this.pending.length
    this.inFlightChars = this.pendingChars
    this.pending = []
    this.pendingChars = 0
    this.sink.write(data, this.onWritten)
  }

  private readonly onWritten = (err: Error | null): void => {
    if (err !== null) {
      this.dropped += this.inFlightLines + this.pending.length
      this.unreported += this.inFlightLines + this.pending.length
      this.pending = []
      this.pendingChars = 0
      if (!this.failed) {
        this.failed = true
        this.onError?.(err)
      }
    } else this.written += this.inFlightLines
    this.inFlightLines = 0
    this.inFlightChars = 0
    this.report()
    if (this.pending.length === 0) this.settle()
    else this.schedule()
  }

  private report(): void {
    if (this.unreported === 0) return
    const n = this.unreported
    this.unreported = 0
    this.onDrop?.(n)
  }

  private settle(): void {
    const idle = this.idle
    this.idle = []
    for (const resolve of idle) resolve()
  }
}
