// What the command line prints while it runs, as text or JSON lines (--log): one line per
// gateway-made error (always), per exchange (--access-log), per change of a target's active
// health and per reload. With the access log on, every line goes through one AccessLogWriter
// (batched writes from the thread pool: the event loop never waits for a slow stdout, and the
// error lines keep their order among the access lines); without it, the few lines there are go
// to process.stdout as they come.

import cluster from 'node:cluster'
import type { ErrorMessage, ExchangeMessage } from './gateway.js'
import { AccessLogWriter, fdSink, formatter, isoTime } from './ops/access-log.js'

export type LogFormat = 'text' | 'json'

/** A text field: `-` when absent, and no blank or control character to split or forge a line. */
function textField(value: string | number | boolean | undefined): string {
  if (value === undefined || value === '') return '-'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this escapes
  return String(value).replace(/[\x00-\x20\x7f\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

export class CliLog {
  private readonly format: LogFormat
  private readonly writer: AccessLogWriter | null
  private readonly line: (m: ExchangeMessage) => string
  /** With several workers, which one wrote a line: its pid. */
  private readonly pid = cluster.isWorker ? process.pid : undefined

  constructor(format: LogFormat, accessLog: boolean) {
    this.format = format
    this.line = formatter(format)
    this.writer = accessLog
      ? new AccessLogWriter(fdSink(1), {
          onDrop: (n) => process.stderr.write(`strictgate: ${n} log line(s) dropped: stdout does not keep up\n`),
          onError: (err) => process.stderr.write(`strictgate: writing the log failed, logging stops: ${err.message}\n`),
        })
      : null
  }

  private write(line: string): void {
    if (this.writer !== null) this.writer.write(line)
    else process.stdout.write(line)
  }

  /** One gateway-made error: time client method target status code upstream (pid with workers). */
  error(msg: ErrorMessage, upstream: string): void {
    const { error, request } = msg
    const time = new Date().toISOString()
    if (this.format === 'json') {
      const entry = {
        time,
        client: msg.client ?? '-',
        method: request?.method ?? '-',
        target: request?.target ?? '-',
        status: error.status,
        code: error.code,
        upstream,
        message: error.message,
        pid: this.pid,
      }
      this.write(`${JSON.stringify(entry)}\n`)
      return
    }
    const fields = [time, msg.client, request?.method, request?.target, error.status, error.code, upstream]
    this.write(`${fields.map(textField).join(' ')}${this.pid === undefined ? '' : ` pid=${this.pid}`}\n`)
  }

  /** One access log line (--access-log). */
  readonly exchange = (msg: ExchangeMessage): void => {
    this.write(this.line(msg))
  }

  /**
   * An event of the gateway's own (a target's health changed, a reload): `time event k=v...` or
   * a JSON object with `event` and the fields.
   */
  event(event: string, fields: Record<string, string | number | boolean | string[]>): void {
    const time = isoTime(Date.now())
    if (this.format === 'json') {
      this.write(`${JSON.stringify({ time, event, ...fields, pid: this.pid })}\n`)
      return
    }
    const pairs = Object.entries(fields).map(([k, v]) => `${k}=${textField(Array.isArray(v) ? v.join(',') : v)}`)
    if (this.pid !== undefined) pairs.push(`pid=${this.pid}`)
    this.write(`${time} ${event} ${pairs.join(' ')}\n`)
  }

  /** Write what is queued (the process is about to exit). */
  close(): Promise<void> {
    return this.writer?.close() ?? Promise.resolve()
  }
}
