// The access log: line formats (text and JSON lines), and the writer that batches lines, bounds
// its buffer and never blocks the event loop, against real descriptors (a FIFO whose reader is
// stalled, a file).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { closeSync, constants, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import t, { type Test } from 'tap'
import {
  type AccessLogExchange,
  AccessLogWriter,
  fdSink,
  formatJson,
  formatText,
  formatter,
  isoTime,
  type LogSink,
  openFileSink,
  streamSink,
} from '../../src/ops/access-log.js'
import { eventually } from '../helpers/raw-client.js'
import { numRuns } from '../helpers/runs.js'

const EXCHANGE: AccessLogExchange = {
  request: { method: 'GET', target: '/a?b=1' },
  status: 200,
  durationMs: 1.23456,
  error: undefined,
  client: '10.0.0.7',
  bytesSent: 512,
  upstream: 'http://127.0.0.1:3000',
  started: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
}

const FAILED: AccessLogExchange = {
  request: undefined,
  status: 0,
  durationMs: 30_000,
  error: { code: 'CLIENT_TIMEOUT' },
  client: undefined,
  bytesSent: 0,
  upstream: undefined,
  started: Date.UTC(2026, 0, 2, 3, 4, 5, 7),
}

t.test('text lines: nine fields, - for what is absent', async (t) => {
  t.equal(formatText(EXCHANGE), '2026-01-02T03:04:05.678Z 10.0.0.7 GET /a?b=1 200 512 1.235 http://127.0.0.1:3000 -\n')
  t.equal(formatText(FAILED), '2026-01-02T03:04:05.007Z - - - 0 0 30000 - CLIENT_TIMEOUT\n')
  t.equal(formatter('text'), formatText)
})

t.test('JSON lines: the same fields, null for what is absent', async (t) => {
  t.same(JSON.parse(formatJson(EXCHANGE)), {
    time: '2026-01-02T03:04:05.678Z',
    client: '10.0.0.7',
    method: 'GET',
    target: '/a?b=1',
    status: 200,
    bytesSent: 512,
    durationMs: 1.235,
    upstream: 'http://127.0.0.1:3000',
    code: null,
  })
  t.same(JSON.parse(formatJson(FAILED)), {
    time: '2026-01-02T03:04:05.007Z',
    client: null,
    method: null,
    target: null,
    status: 0,
    bytesSent: 0,
    durationMs: 30000,
    upstream: null,
    code: 'CLIENT_TIMEOUT',
  })
  t.equal(formatter('json'), formatJson)
})

/** Undo the text format's escaping of one field. */
function unescapeField(f: string): string {
  return f.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/g, (_, x?: string, u?: string) =>
    String.fromCharCode(Number.parseInt(x ?? u ?? '', 16)),
  )
}

const exchangeArb = fc.record({
  request: fc.option(fc.record({ method: fc.string({ unit: 'binary' }), target: fc.string({ unit: 'binary' }) }), {
    nil: undefined,
  }),
  status: fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 599 })),
  durationMs: fc.double({ min: 0, max: 1e7, noNaN: true }),
  error: fc.option(fc.record({ code: fc.string({ unit: 'binary' }) }), { nil: undefined }),
  client: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
  bytesSent: fc.nat(),
  upstream: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
  // From 1970 to 2100, where ISO 8601 years have four digits.
  started: fc.integer({ min: 0, max: 4_102_444_800_000 }),
})

t.test('any field values: one line each, nothing forged, values recoverable', async () => {
  fc.assert(
    fc.property(exchangeArb, (m) => {
      const text = formatText(m)
      assert.ok(text.endsWith('\n'))
      const line = text.slice(0, -1)
      assert.ok(/^[\x20-\x7e]*$/.test(line), 'printable ASCII only: no control character, nothing to forge a line')
      const f = line.split(' ')
      assert.equal(f.length, 9, 'nine fields, whatever the values')
      const absentOr = (v: string | undefined) => (v === undefined || v === '' ? '-' : v)
      assert.deepEqual(f.slice(1, 4).map(unescapeField), [
        absentOr(m.client),
        absentOr(m.request?.method),
        absentOr(m.request?.target),
      ])
      assert.equal(unescapeField(f[7]), absentOr(m.upstream))
      assert.equal(unescapeField(f[8]), absentOr(m.error?.code))
      assert.deepEqual(f.slice(4, 7).map(Number), [m.status, m.bytesSent, Math.round(m.durationMs * 1000) / 1000])

      const json = formatJson(m)
      assert.equal(json.indexOf('\n'), json.length - 1, 'one JSON line')
      const o = JSON.parse(json)
      assert.deepEqual(
        [o.client, o.method, o.target, o.upstream, o.code],
        [
          m.client ?? null,
          m.request?.method ?? null,
          m.request?.target ?? null,
          m.upstream ?? null,
          m.error?.code ?? null,
        ],
      )
      assert.equal(o.time, new Date(m.started).toISOString())
    }),
    { numRuns: numRuns(300) },
  )
})

t.test('isoTime matches Date#toISOString, whatever the order of calls (its per-second cache)', async () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 4_102_444_800_000, noNaN: true }), { minLength: 1, maxLength: 20 }),
      (times) => {
        for (const ms of times) assert.equal(isoTime(ms), new Date(Math.floor(ms)).toISOString())
      },
    ),
    { numRuns: numRuns(300) },
  )
})

/** A sink whose writes complete when the test says so. */
class HeldSink implements LogSink {
  readonly writes: string[] = []
  private pending: ((err: Error | null) => void)[] = []
  write(data: string, done: (err: Error | null) => void): void {
    this.writes.push(data)
    this.pending.push(done)
  }
  complete(err: Error | null = null): void {
    const p = this.pending
    this.pending = []
    for (const done of p) done(err)
  }
  get waiting(): number {
    return this.pending.length
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve))

t.test('writer without an interval: a batch per turn, one write in flight, the rest in the next batch', async (t) => {
  const sink = new HeldSink()
  const drops: number[] = []
  const w = new AccessLogWriter(sink, { flushIntervalMs: 0, onDrop: (n) => drops.push(n) })
  for (let i = 0; i < 100; i++) w.write(`line ${i}\n`)
  t.equal(sink.writes.length, 0, 'nothing written synchronously')
  await turn()
  t.equal(sink.writes.length, 1, 'one write for the turn')
  t.equal(sink.writes[0].split('\n').length - 1, 100, 'holding all 100 lines')
  w.write('a\n')
  await turn()
  w.write('b\n')
  await turn()
  t.equal(sink.writes.length, 1, 'no second write while the first is in flight')
  sink.complete()
  await turn()
  t.equal(sink.writes.length, 2, 'the lines queued meanwhile go out next, together')
  t.equal(sink.writes[1], 'a\nb\n')
  t.equal(sink.waiting, 1)
  const flushed = w.flush()
  sink.complete()
  await flushed
  t.same([w.written, w.dropped, drops], [102, 0, []])
})

t.test('writer with an interval: lines wait to be batched, unless 64 KiB are queued or flush() asks', async (t) => {
  const sink = new HeldSink()
  const w = new AccessLogWriter(sink, { flushIntervalMs: 30 })
  w.write('a\n')
  await turn()
  w.write('b\n')
  await turn()
  t.equal(sink.writes.length, 0, 'nothing written after a few turns')
  await eventually(() => sink.writes.length === 1, 'the interval is over')
  t.equal(sink.writes[0], 'a\nb\n', 'the lines of several turns in one write')
  w.write('c\n')
  sink.complete()
  await turn()
  t.equal(sink.writes.length, 1, 'lines queued while a write was in flight wait for the interval too')
  await eventually(() => sink.writes.length === 2, 'the next interval')
  sink.complete()
  const big = `${'x'.repeat(1023)}\n`
  for (let i = 0; i < 64; i++) w.write(big)
  await turn()
  t.equal(sink.writes.length, 3, '64 KiB queued: written at once')
  sink.complete()
  w.write('d\n')
  const flushed = w.flush()
  await turn()
  t.equal(sink.writes.length, 4, 'flush() writes at once')
  sink.complete()
  await flushed
  t.same([w.written, w.dropped], [68, 0])
})

t.test('writer: a bounded buffer; lines past it are dropped, counted, and reported once caught up', async (t) => {
  const sink = new HeldSink()
  const drops: number[] = []
  const w = new AccessLogWriter(sink, { maxBufferedChars: 100, flushIntervalMs: 0, onDrop: (n) => drops.push(n) })
  const line = `${'x'.repeat(9)}\n` // 10 characters
  for (let i = 0; i < 10; i++) w.write(line)
  w.write(line)
  t.equal(w.dropped, 1, 'the 11th line does not fit')
  await turn()
  t.equal(sink.writes.length, 1)
  for (let i = 0; i < 5; i++) w.write(line)
  t.equal(w.dropped, 6, 'in-flight characters count against the bound')
  t.same(drops, [], 'not reported per line')
  sink.complete()
  t.same(drops, [6], 'reported when the batch was written')
  await w.close()
  t.same([w.written, w.dropped], [10, 6])
  w.write(line)
  t.equal(w.dropped, 7, 'lines after close are dropped')
})

t.test('writer: a failing sink is reported once; its lines and later ones are dropped', async (t) => {
  const sink = new HeldSink()
  const errors: string[] = []
  const drops: number[] = []
  const w = new AccessLogWriter(sink, {
    flushIntervalMs: 0,
    onError: (e) => errors.push(e.message),
    onDrop: (n) => drops.push(n),
  })
  w.write('a\n')
  w.write('b\n')
  await turn()
  w.write('c\n')
  sink.complete(new Error('EPIPE'))
  w.write('d\n')
  await w.flush()
  t.same([w.written, w.dropped], [0, 4])
  t.same(errors, ['EPIPE'])
  await w.close()
  t.same(drops, [3, 1], 'a, b, c when the write failed; d at close')
})

let mkfifo = process.platform === 'linux'
try {
  execFileSync('mkfifo', ['--version'], { stdio: 'ignore' })
} catch {
  mkfifo = false
}

/**
 * A FIFO with a reader (a libuv pipe we can pause) and a blocking write descriptor. The caller
 * drains it and closes both ends (`done`), so that no pool thread stays blocked in write(2).
 */
function fifo(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-log-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'fifo')
  execFileSync('mkfifo', [path])
  const reader = new net.Socket({
    fd: openSync(path, constants.O_RDONLY | constants.O_NONBLOCK),
    readable: true,
    writable: false,
  })
  reader.pause()
  const chunks: Buffer[] = []
  reader.on('data', (c: Buffer) => chunks.push(c))
  const fd = openSync(path, 'w')
  const done = async (w: AccessLogWriter) => {
    reader.resume()
    await w.close()
    closeSync(fd)
    reader.destroy()
  }
  return { reader, fd, done, received: () => Buffer.concat(chunks).toString('utf8') }
}

t.test(
  'writer on a FIFO whose reader stalls: the event loop runs on, the buffer stays bounded',
  { skip: mkfifo ? false : 'needs Linux and mkfifo (coreutils) for a FIFO' },
  async (t) => {
    const { reader, fd, done, received } = fifo(t)
    const drops: number[] = []
    const w = new AccessLogWriter(fdSink(fd), { maxBufferedChars: 256 * 1024, onDrop: (n) => drops.push(n) })
    t.teardown(() => done(w))
    const total = 20_000
    const lines = Array.from({ length: total }, (_, i) => formatText({ ...EXCHANGE, bytesSent: i }))
    // Write in many turns, as traffic would: the pipe (64 KiB) fills, then the buffer, then lines drop.
    for (let i = 0; i < total; i += 500) {
      for (const line of lines.slice(i, i + 500)) w.write(line)
      await turn()
    }
    t.ok(w.dropped > 0, `lines were dropped while the reader stalled (${w.dropped})`)
    // A blocking write would hold the loop until the reader reads, and the reader only reads
    // after this timer: with a blocking writer this test could not get past here.
    await new Promise((resolve) => setTimeout(resolve, 20))
    t.pass('a timer fired while the sink was stuck')
    reader.resume()
    await w.flush()
    await eventually(() => received().split('\n').length - 1 === w.written, 'every written line read')
    t.equal(w.written + w.dropped, total, 'every line written or dropped')
    t.ok(drops.length > 0, 'drops reported')
    t.equal(
      drops.reduce((a, b) => a + b, 0),
      w.dropped,
      'reported drops add up to the count',
    )
    const got = received().split('\n').slice(0, -1)
    t.ok(
      got.every((l) => lines.includes(`${l}\n`)),
      'only whole lines arrived',
    )
    const order = got.map((l) => Number(l.split(' ')[5]))
    t.ok(
      order.every((n, i) => i === 0 || n > order[i - 1]),
      'in order',
    )
  },
)

t.test('openFileSink appends to a file; streamSink writes to any Writable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-log-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'access.log')
  for (const round of [1, 2]) {
    const w = new AccessLogWriter(await openFileSink(file))
    w.write(`round ${round}\n`)
    await w.close()
  }
  t.equal(readFileSync(file, 'utf8'), 'round 1\nround 2\n', 'appended, not truncated')
  await t.rejects(openFileSink(join(dir, 'missing', 'x.log')), { code: 'ENOENT' })

  const other = join(dir, 'stream.log')
  const stream = createWriteStream(other)
  const w = new AccessLogWriter(streamSink(stream))
  w.write('a\n')
  w.write('b\n')
  await w.close()
  await new Promise<void>((resolve) => stream.end(resolve))
  t.equal(readFileSync(other, 'utf8'), 'a\nb\n')
})
