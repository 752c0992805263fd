// WriteBatch: what the parser's events give for the client during one upstream read, written in
// order with as few writes as possible. The output must be exactly the pieces, each framed as a
// chunk when asked, whatever their sizes.
import fc from 'fast-check'
import t from 'tap'
import { type BatchSink, COPY_MAX, WriteBatch } from '../../src/io/write-batch.js'
import { numRuns } from '../helpers/runs.js'

const NUM_RUNS = numRuns(200)

class RecordingSink implements BatchSink {
  writes: Buffer[] = []
  corked = 0
  /** Writes made while corked, per cork/uncork pair, flattened: how many syscalls at most. */
  flushes = 0
  full = false
  write(data: Buffer): boolean {
    // A copy: the batch may be reused after writeTo returns.
    this.writes.push(Buffer.from(data))
    if (this.corked === 0) this.flushes++
    return !this.full
  }
  cork(): void {
    this.corked++
  }
  uncork(): void {
    this.corked--
    if (this.corked === 0) this.flushes++
  }
}

function expected(pieces: [Buffer, boolean][]): Buffer {
  const out: Buffer[] = []
  for (const [data, chunk] of pieces) {
    if (chunk) out.push(Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, Buffer.from('\r\n'))
    else out.push(data)
  }
  return Buffer.concat(out)
}

const piece = fc.tuple(
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) },
    { weight: 1, arbitrary: fc.integer({ min: COPY_MAX - 2, max: COPY_MAX + 2 }) },
    { weight: 1, arbitrary: fc.integer({ min: COPY_MAX + 1, max: 3 * COPY_MAX }) },
  ),
  fc.integer({ min: 0, max: 255 }),
  fc.boolean(),
)

t.test('pieces come out in order, framed as asked, in one write unless a piece is too large to copy', (t) => {
  const batch = new WriteBatch()
  fc.assert(
    fc.property(fc.array(piece, { minLength: 0, maxLength: 40 }), fc.boolean(), (specs, full) => {
      const pieces: [Buffer, boolean][] = specs.map(([size, fill, chunk]) => [Buffer.alloc(size, fill), chunk])
      for (const [data, chunk] of pieces) batch.add(data, chunk)
      const sink = new RecordingSink()
      sink.full = full
      const ok = batch.writeTo(sink)
      const out = Buffer.concat(sink.writes)
      if (!out.equals(expected(pieces))) return false
      if (!batch.empty) return false
      if (pieces.length === 0) return sink.writes.length === 0 && ok
      if (ok === full) return false
      const large = pieces.some(([data]) => data.length > COPY_MAX)
      // Small pieces only: one write. Otherwise: one corked writev.
      return large ? sink.flushes === 1 && sink.corked === 0 : sink.writes.length === 1
    }),
    { numRuns: NUM_RUNS },
  )
  t.pass('property held')
  t.end()
})

t.test('a single unframed piece is written as it is, not copied', (t) => {
  const batch = new WriteBatch()
  const data = Buffer.from('hello')
  const seen: Buffer[] = []
  batch.add(data, false)
  batch.writeTo({
    write(b) {
      seen.push(b)
      return true
    },
    cork() {},
    uncork() {},
  })
  t.equal(seen.length, 1)
  t.equal(seen[0], data, 'the same Buffer')
  t.end()
})

t.test('clear() drops what was gathered', (t) => {
  const batch = new WriteBatch()
  batch.add(Buffer.from('x'), true)
  batch.clear()
  t.ok(batch.empty)
  const sink = new RecordingSink()
  t.equal(batch.writeTo(sink), true)
  t.same(sink.writes, [])
  t.end()
})
