// Checks shared by the option parsers: each throws a TypeError naming the option (never later,
// on the first request).

export function fail(option: string, message: string): never {
  throw new TypeError(`strictgate: option "${option}" ${message}`)
}

export function checkObject(value: unknown, option: string): Record<string, unknown> {
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(option, 'must be an object')
  return value as Record<string, unknown>
}

export function checkKeys(obj: Record<string, unknown>, allowed: readonly string[], option: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) fail(`${option}.${key}`, `is not a known option (known: ${allowed.join(', ')})`)
  }
}

export function positiveInt(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(option, 'must be a positive integer')
  return value
}
