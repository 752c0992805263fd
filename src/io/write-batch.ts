// What the client gets from one upstream read, gathered while the response parser runs on it and
// written when the parser returns. A small response's head and body, or all the chunks of a
// chunked body that came in one read, leave in one Buffer: one allocation, one write and one
// syscall, where a write per piece (or a corked writev of them) costs a WriteWrap, a Buffer and
// the stream machinery each. Large body slices are not copied: they go out as they are, behind
// whatever was gathered before them, in one corked writev.

/** Pieces up to this size are copied into the batch's Buffer; larger ones are written as they are. */
export const COPY_MAX = 16 * 1024

const HEX = Buffer.from('0123456789abcdef', 'latin1')
const CRLF = Buffer.from('\r\n')

/** The sink a batch is written to: the client connection. */
export interface BatchSink {
  write(data: Buffer): boolean
  cork(): void
  uncork(): void
}

/** Number of hex digits of `n` (n >= 0). */
function hexDigits(n: number): number {
  let digits = 1
  // Chunk sizes here are read sizes (well under 2^32): 32-bit shifts suffice.
  while (n >>> (4 * digits) !== 0 && digits < 8) digits++
  return digits
}

/** Bytes a piece takes in the output: as it is, or framed as one chunk (size, CRLF, data, CRLF). */
function outputSize(length: number, chunk: boolean): number {
  return chunk ? hexDigits(length) + 4 + length : length
}

export class WriteBatch {
  /** Memory for the copies (output-arena.ts). */
  private readonly alloc: (size: number) => Buffer
  /**
   * The pieces gathered: pieces[0, count). The array is not truncated between batches (setting
   * an array's length is a runtime call in V8); entries past count are cleared, never read.
   */
  private readonly pieces: (Buffer | null)[] = []
  private count = 0
  /** Per piece: 1 to frame it as a chunk of a chunked body. */
  private chunkFlags = new Uint8Array(16)
  /** Output bytes of the copied pieces gathered since the last large one. */
  private runBytes = 0
  private large = false

  constructor(alloc: (size: number) => Buffer = Buffer.allocUnsafe) {
    this.alloc = alloc
  }

  get empty(): boolean {
    return this.count === 0
  }

  /** Append `data` (framed as one chunk if `chunk`). It must stay unchanged until `writeTo`. */
  add(data: Buffer, chunk: boolean): void {
    const i = this.count++
    if (i === this.chunkFlags.length) {
      const grown = new Uint8Array(2 * i)
      grown.set(this.chunkFlags)
      this.chunkFlags = grown
    }
    if (i === this.pieces.length) this.pieces.push(data)
    else this.pieces[i] = data
    this.chunkFlags[i] = chunk ? 1 : 0
    if (data.length > COPY_MAX) this.large = true
    else this.runBytes += outputSize(data.length, chunk)
  }

  /** Drop what was gathered (the connection it was for is being torn down). */
  clear(): void {
    // Not kept alive by the batch (a piece may be a view of a large read buffer).
    for (let i = 0; i < this.count; i++) this.pieces[i] = null
    this.count = 0
    this.runBytes = 0
    this.large = false
  }

  /** Write everything gathered to `sink`, in order, and empty the batch. Returns the last write's result. */
  writeTo(sink: BatchSink): boolean {
    const pieces = this.pieces as Buffer[]
    const n = this.count
    if (n === 0) return true
    const flags = this.chunkFlags
    let ok: boolean
    if (!this.large) {
      // One piece that needs no framing goes out as it is; otherwise one copy of them all.
      ok = sink.write(n === 1 && flags[0] === 0 ? pieces[0] : this.copy(0, n, this.runBytes))
    } else {
      ok = true
      sink.cork()
      let runStart = 0
      let runBytes = 0
      for (let i = 0; i < n; i++) {
        const piece = pieces[i]
        if (piece.length <= COPY_MAX) {
          runBytes += outputSize(piece.length, flags[i] === 1)
          continue
        }
        if (i > runStart) ok = sink.write(this.copy(runStart, i, runBytes))
        ok = flags[i] === 1 ? writeChunk(sink, piece) : sink.write(piece)
        runStart = i + 1
        runBytes = 0
      }
      if (n > runStart) ok = sink.write(this.copy(runStart, n, runBytes))
      sink.uncork()
    }
    this.clear()
    return ok
  }

  /** pieces[from, to) in one new Buffer of `size` bytes, chunk framing included. */
  private copy(from: number, to: number, size: number): Buffer {
    const out = this.alloc(size)
    const pieces = this.pieces as Buffer[]
    const flags = this.chunkFlags
    let pos = 0
    for (let i = from; i < to; i++) {
      const piece = pieces[i]
      if (flags[i] === 0) {
        pos += piece.copy(out, pos)
        continue
      }
      const length = piece.length
      for (let shift = 4 * (hexDigits(length) - 1); shift >= 0; shift -= 4) out[pos++] = HEX[(length >>> shift) & 0xf]
      out[pos++] = 0x0d
      out[pos++] = 0x0a
      pos += piece.copy(out, pos)
      out[pos++] = 0x0d
      out[pos++] = 0x0a
    }
    return out
  }
}

/**
 * `data` as one chunk of a chunked body, without copying it: size line, data, CRLF, as three
 * writes (the caller corks). Returns the last write's result.
 */
export function writeChunk(sink: BatchSink, data: Buffer): boolean {
  sink.write(Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'))
  sink.write(data)
  return sink.write(CRLF)
}
