// Memory for the bytes the gateway builds per request (the request head sent upstream, the
// response head and the batch written to the client), taken from one reused block instead of a
// new Buffer each: no allocation, no garbage, and memory the cache has seen recently.
//
// A Buffer written to a socket is only read again by the socket if the write did not complete
// at once (it is queued: `writableLength > 0` afterwards). So: take memory, write it, then
// `settle` with whether the socket still holds bytes. While no write has ever been left pending,
// everything taken is free again and the next take starts over at the beginning; once one has,
// the block is never reused: takes go on after it, and a new block is started when it is full.

/** Block size; a take larger than a quarter of it gets a Buffer of its own. */
const BLOCK_SIZE = 64 * 1024

export class OutputArena {
  private block = Buffer.allocUnsafeSlow(BLOCK_SIZE)
  private pos = 0
  /** A write from this block is (or may be) still pending: never reuse it. */
  private pinned = false

  /**
   * `size` bytes to fill and write before the next `settle`. Arrow function: passed as the
   * allocator to the serializers.
   */
  readonly take = (size: number): Buffer => {
    if (size > BLOCK_SIZE / 4) return Buffer.allocUnsafe(size)
    if (size > BLOCK_SIZE - this.pos) {
      this.block = Buffer.allocUnsafeSlow(BLOCK_SIZE)
      this.pos = 0
      this.pinned = false
    }
    const out = this.block.subarray(this.pos, this.pos + size)
    this.pos += size
    return out
  }

  /**
   * Everything taken so far has been written (or copied into what was): `pending` says whether
   * the socket written to still holds bytes.
   */
  settle(pending: boolean): void {
    if (pending) this.pinned = true
    else if (!this.pinned) this.pos = 0
  }
}
