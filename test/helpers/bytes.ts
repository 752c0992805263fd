// Test bodies: deterministic bytes to compare byte for byte after a relay.
import { createHash } from 'node:crypto'

/** `n` deterministic bytes (xorshift32: all 256 values, no short period), by seed. */
export function pattern(n: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(n)
  let x = seed >>> 0 || 1
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')
