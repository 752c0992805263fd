// Memory for request heads that must outlive the read buffer they arrived in (client reads go to
// a reused buffer: client-reads.ts). Heads are carved out of blocks one after another; a block is
// never reused, so a head stays valid as long as anything refers to it, and the block is freed by
// the garbage collector with the last head in it. One copy, no allocation per head.

/** Block size: a few dozen typical heads; a head larger than a quarter of it gets its own Buffer. */
const BLOCK_SIZE = 16 * 1024

export class HeadMemory {
  private block = Buffer.allocUnsafeSlow(BLOCK_SIZE)
  private pos = 0

  /** `size` bytes of their own (arrow function: passed to the request parser). */
  readonly take = (size: number): Buffer => {
    if (size > BLOCK_SIZE / 4) return Buffer.allocUnsafe(size)
    if (size > BLOCK_SIZE - this.pos) {
      this.block = Buffer.allocUnsafeSlow(BLOCK_SIZE)
      this.pos = 0
    }
    const out = this.block.subarray(this.pos, this.pos + size)
    this.pos += size
    return out
  }
}
