// Copies a chunked body into llhttp's input, leaving chunk data out.
//
// llhttp reads every byte of the chunked framing (chunk sizes, extensions, CRLFs, trailer
// section), but chunk data it only counts: in its chunk-data state it advances by
// min(bytes left in the chunk, bytes available) without loading them, and reports them as an
// on_body span. Spans are mapped back to the caller's Buffer (llhttp.ts), so the data never
// needs to be in wasm memory: not copying it saves a memcpy of every body byte, most of the cost
// of a large chunked body.
//
// To know which bytes are data, this follows the framing the way llhttp will (RFC 9112 §7.1):
//
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   last-chunk   = 1*("0") [ chunk-ext ] CRLF
//
// It predicts and never validates: if the bytes before a run of data are not valid framing,
// llhttp fails on them and never reaches the run; if they are valid, the chunk size read here is
// the one llhttp read (exact below 2^53; above, both exceed any input, and llhttp's on_body
// reports the size as too large). What it cannot follow, it copies: copying is always safe.

const LF = 0x0a

/** Value of a hex digit, -1 for any other byte. */
const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1)
  for (let c = 0; c < 10; c++) t[0x30 + c] = c
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c
    t[0x61 + c] = 10 + c
  }
  return t
})()

const enum Expect {
  /** chunk-size: hex digits. */
  Size = 0,
  /** After the size: chunk-ext up to the line's LF. */
  SizeLineEnd = 1,
  /** chunk-data: `left` bytes not copied. */
  Data = 2,
  /** The CRLF after chunk-data. */
  DataEnd = 3,
  /** last-chunk's extensions, the trailer section, or framing not followed: everything copied. */
  CopyAll = 4,
}

export class ChunkedCopy {
  private expect = Expect.Size
  /** Size: the chunk size so far; Data: bytes of chunk data left. */
  private left = 0
  private digits = 0

  /** Start of a chunked body. */
  reset(): void {
    this.expect = Expect.Size
    this.left = 0
    this.digits = 0
  }

  /**
   * Copy the next bytes of the body, `src[start, end)`, to `dst` from `at`, except chunk data:
   * the bytes llhttp will not read are left as they are.
   */
  copy(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number): void {
    const shift = at - start
    let i = start
    while (i < end) {
      if (this.expect === Expect.Data) {
        const n = Math.min(this.left, end - i)
        i += n
        this.left -= n
        if (this.left === 0) this.expect = Expect.DataEnd
      } else if (this.expect === Expect.CopyAll) {
        dst.set(src.subarray(i, end), i + shift)
        i = end
      } else {
        // Framing: a few bytes per chunk, copied as they are followed.
        const c = src[i]
        dst[i + shift] = c
        i++
        this.framing(c)
      }
    }
  }

  private framing(c: number): void {
    switch (this.expect) {
      case Expect.Size: {
        const v = HEX_VALUE[c]
        if (v >= 0) {
          this.left = this.left * 16 + v
          this.digits++
        } else if (this.digits === 0) {
          this.expect = Expect.CopyAll // no chunk-size: llhttp fails here
        } else if (c === LF) {
          this.sizeLineEnded() // (a bare LF: llhttp fails on it, strict)
        } else {
          this.expect = Expect.SizeLineEnd
        }
        return
      }
      case Expect.SizeLineEnd:
        if (c === LF) this.sizeLineEnded()
        return
      case Expect.DataEnd:
        if (c === LF) {
          this.expect = Expect.Size
          this.left = 0
          this.digits = 0
        }
        return
      default:
        return
    }
  }

  private sizeLineEnded(): void {
    // Size 0 is the last chunk: what follows is the trailer section, never data.
    this.expect = this.left === 0 ? Expect.CopyAll : Expect.Data
  }
}
