// Run many independent cases concurrently, a bounded number at a time: the exhaustive offset
// loops of test/reliability/ stay fast on 2 cores without opening thousands of sockets at once.

/** Run `fn` on every item, at most `size` at a time; resolves to the results in item order. */
export async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker))
  return results
}

/** 0..n inclusive. */
export const offsets = (n: number): number[] => Array.from({ length: n + 1 }, (_, k) => k)

/** About `count` offsets spread evenly over 0..n-1, always including 0 and n-1. */
export function sampleOffsets(n: number, count: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, k) => k)
  const out = new Set<number>([0, n - 1])
  for (let i = 1; i < count - 1; i++) out.add(Math.round((i * (n - 1)) / (count - 1)))
  return [...out].sort((a, b) => a - b)
}
