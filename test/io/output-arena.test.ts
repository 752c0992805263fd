// OutputArena: memory taken for a write is reused only once no write from its block can still
// be pending. A reuse too early would change bytes a socket has yet to send.
import fc from 'fast-check'
import t from 'tap'
import { OutputArena } from '../../src/io/output-arena.js'
import { numRuns } from '../helpers/runs.js'

const NUM_RUNS = numRuns(200)

t.test('settled memory is reused; memory a pending write holds is never handed out again', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          sizes: fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 4 }),
          pending: fc.boolean(),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      (writes) => {
        const arena = new OutputArena()
        // Every Buffer a "socket" still holds, with the bytes it must still have.
        const held: [Buffer, number][] = []
        let fill = 0
        for (const { sizes, pending } of writes) {
          for (const size of sizes) {
            const out = arena.take(size)
            if (out.length !== size) return false
            fill = (fill + 1) & 0xff
            out.fill(fill)
            if (pending) held.push([out, fill])
          }
          arena.settle(pending)
          for (const [buf, value] of held) if (!buf.every((b) => b === value)) return false
        }
        return true
      },
    ),
    { numRuns: NUM_RUNS },
  )
  t.pass('property held')
  t.end()
})

t.test('with no pending write, the next take starts where the last one did', (t) => {
  const arena = new OutputArena()
  const a = arena.take(100)
  arena.settle(false)
  const b = arena.take(100)
  t.equal(a.buffer, b.buffer, 'same block')
  t.equal(a.byteOffset, b.byteOffset, 'same memory')
  arena.settle(true)
  const c = arena.take(100)
  t.not(c.byteOffset, b.byteOffset, 'after a pending write: new memory')
  arena.settle(false)
  const d = arena.take(100)
  t.not(d.byteOffset, b.byteOffset, 'a block a write was pending on is not reused')
  t.end()
})
