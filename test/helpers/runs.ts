// fast-check run counts: FC_NUM_RUNS overrides a test file's default. Anything but a positive
// integer is an error: fast-check treats 0 or NaN runs as "run nothing" and passes.

export function numRuns(defaultRuns: number): number {
  const env = process.env.FC_NUM_RUNS
  if (env === undefined || env === '') return defaultRuns
  const n = Number(env)
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`FC_NUM_RUNS must be a positive integer, got ${JSON.stringify(env)}`)
  return n
}
