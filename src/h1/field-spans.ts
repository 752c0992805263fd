// The field lines of a head as llhttp reports them: four offsets per field (name start, name end,
// value start, value end) into the head's bytes, gathered from spans that the input's chunking
// may cut in pieces. The array is reused from head to head, so reading a head allocates no array
// but the copy the head gets (`end` rather than `length = 0`: emptying an array drops its backing
// store, which the next head would grow again).

import { owsEnd, owsStart } from './grammar.js'
import { Span } from './llhttp.js'

const NO_SPAN = -1

export class FieldSpans {
  /** Added to a span's index in the chunk llhttp executes over to get its offset in the head. */
  base = 0
  private readonly offsets: number[] = []
  private end = 0
  private last: Span | typeof NO_SPAN = NO_SPAN

  /** A new head. */
  reset(): void {
    this.end = 0
    this.last = NO_SPAN
  }

  /** Field lines so far. */
  get count(): number {
    return this.end >> 2
  }

  /** Head offset of the end of the last field name so far; 0 when there is none. */
  get lastNameEnd(): number {
    return this.end >= 4 ? this.offsets[this.end - 3] : 0
  }

  /**
   * A head span of llhttp's, `start` and `end` indexes in the chunk. A span of the same kind as
   * the one before continues it (the chunk ended inside it); a value completes the last field.
   */
  add(kind: Span, start: number, end: number): void {
    if (kind === Span.HeaderField || kind === Span.HeaderValue) {
      const fields = this.offsets
      const n = this.end
      const s = start + this.base
      const e = end + this.base
      if (kind === this.last) {
        fields[n - (kind === Span.HeaderField ? 3 : 1)] = e
        if (kind === Span.HeaderField) {
          fields[n - 2] = e
          fields[n - 1] = e
        }
      } else if (kind === Span.HeaderField) {
        // An empty value makes no span: until one comes, the value is empty, at the name's end.
        fields[n] = s
        fields[n + 1] = e
        fields[n + 2] = e
        fields[n + 3] = e
        this.end = n + 4
      } else {
        fields[n - 2] = s
        fields[n - 1] = e
      }
    }
    this.last = kind
  }

  /** The fields of the complete head `raw`, values without their OWS (RFC 9110 §5.5): a copy. */
  take(raw: Buffer): number[] {
    const fields = this.offsets
    const n = this.end
    for (let f = 0; f < n; f += 4) {
      const vs = owsStart(raw, fields[f + 2], fields[f + 3])
      fields[f + 2] = vs
      fields[f + 3] = owsEnd(raw, vs, fields[f + 3])
    }
    this.last = NO_SPAN
    return fields.slice(0, n)
  }
}
