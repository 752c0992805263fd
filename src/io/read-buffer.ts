// The buffer a socket read through `onread` reads into (upstream connections: net.connect's
// option; accepted client sockets: client-reads.ts): the same memory again and again, not a new
// allocation per read as a 'data' listener gets, and without the Readable machinery in between.
//
// A buffer that something still refers to after the read's callback (a write that did not
// complete holds a view of it) is left to it, and reading goes on in a new one: the callback
// says so with `hold()`. The buffer starts at `min` and doubles each time a read fills it, up to
// `max`, so large bodies come in few, large reads.

export class ReadBuffer {
  private buffer: Buffer | null = null
  /** Something kept a reference into `buffer`: the next read needs a new one. */
  private held = false
  /** The last read filled `buffer`: the next one gets a larger one (up to `max`). */
  private filled = false
  private readonly min: number
  private readonly max: number

  constructor(min: number, max: number) {
    this.min = min
    this.max = max
  }

  /**
   * The `onread` buffer source: asked before the first read, after each, and again for every new
   * socket handle (Node 20 tries a host name's addresses one after another, each on a handle of
   * its own: autoSelectFamily). So it always returns the buffer to read into, never undefined,
   * which would leave a new handle reading into memory the callback never sees.
   */
  readonly next = (): Buffer => {
    const current = this.buffer
    if (current !== null && !this.held && !(this.filled && current.length < this.max)) return current
    let size = this.min
    if (current !== null) size = this.filled ? Math.min(2 * current.length, this.max) : current.length
    return this.fresh(size)
  }

  /** A read of `nread` bytes went into `buffer`: call before its bytes are handed on. */
  read(nread: number, buffer: Buffer): Buffer {
    this.filled = nread === buffer.length
    return buffer.subarray(0, nread)
  }

  /** Something still refers to the bytes of the last read. */
  hold(): void {
    this.held = true
  }

  /**
   * A buffer of the smallest size, replacing a larger one, for a connection about to sit idle
   * (null when the current one is that small already): what an idle connection keeps is `min`.
   */
  shrink(): Buffer | null {
    if (this.buffer === null || this.buffer.length <= this.min) return null
    return this.fresh(this.min)
  }

  private fresh(size: number): Buffer {
    this.held = false
    this.filled = false
    // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared pool (which a
    // long-lived read buffer would keep alive whole).
    const next = Buffer.allocUnsafeSlow(size)
    this.buffer = next
    return next
  }
}
