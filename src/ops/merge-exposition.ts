// One exposition out of several (--workers: each worker counts its own exchanges, the primary's
// admin listener serves them all): every sample gains a label saying whose it is, and each
// family is written once, its HELP and TYPE first, then the samples of every part in order
// (the format wants a family's samples together). The parts come from our own Registry, which
// writes HELP and TYPE before a family's samples, so a sample belongs to the family last named.

import { escapeLabelValue } from './metrics.js'

export interface ExpositionPart {
  /** The value of the label added to every sample of this part (e.g. a worker's pid). */
  readonly value: string
  /** Exposition text (format 0.0.4) as Registry#render writes it. */
  readonly text: string
}

/** The sample line with `name="value"` as its first label. */
function withLabel(line: string, label: string): string {
  let end = 0
  while (end < line.length && line[end] !== '{' && line[end] !== ' ') end++
  if (line[end] === '{') return `${line.slice(0, end + 1)}${label},${line.slice(end + 1)}`
  return `${line.slice(0, end)}{${label}}${line.slice(end)}`
}

/** Merge `parts`, labelling each one's samples `label="<part.value>"`. */
export function mergeExpositions(label: string, parts: readonly ExpositionPart[]): string {
  const families = new Map<string, { meta: string[]; samples: string[] }>()
  for (const part of parts) {
    const text = `${label}="${escapeLabelValue(part.value)}"`
    let current: { meta: string[]; samples: string[] } | undefined
    for (const line of part.text.split('\n')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) /.exec(line)
      if (m !== null) {
        current = families.get(m[2])
        if (current === undefined) families.set(m[2], (current = { meta: [], samples: [] }))
        if (!current.meta.some((l) => l.startsWith(`# ${m[1]} `))) current.meta.push(line)
      } else if (line !== '' && !line.startsWith('#') && current !== undefined) {
        current.samples.push(withLabel(line, text))
      }
    }
  }
  let out = ''
  for (const { meta, samples } of families.values()) {
    for (const line of [...meta, ...samples]) out += `${line}\n`
  }
  return out
}
