// The layout rules of DESIGN.md and STYLE.md that a reviewer would otherwise check by eye: no
// import cycle in src/ (type-only imports count), src/h1/ imports no I/O, no file in src/ over
// 500 lines, and docs/ARCHITECTURE.md names every file.

import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const SRC = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? files(p) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : []
  })
}

/** Every module specifier a file imports or re-exports from, type-only ones included. */
function imports(file: string): string[] {
  const source = readFileSync(file, 'utf8')
  const out: string[] = []
  for (const m of source.matchAll(/^(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]/gms)) out.push(m[1])
  for (const m of source.matchAll(/^import\s+['"]([^'"]+)['"]/gm)) out.push(m[1])
  return out
}

const all = files(SRC)
const graph = new Map<string, string[]>()
for (const file of all) {
  const local = imports(file)
    .filter((s) => s.startsWith('.'))
    .map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')))
  graph.set(file, local)
}
const rel = (f: string) => path.relative(SRC, f)

t.test('the import checker sees the imports (it is not vacuous)', async (t) => {
  t.ok(all.length > 20, `${all.length} files`)
  const exchange = graph.get(path.join(SRC, 'io', 'exchange.ts')) ?? []
  t.ok(exchange.includes(path.join(SRC, 'io', 'client.ts')), 'exchange.ts imports client.ts (a type-only import)')
  for (const [file, deps] of graph)
    for (const d of deps) if (!graph.has(d)) t.fail(`${rel(file)} imports a missing ${d}`)
})

t.test('no import cycle in src/, type-only imports included', async (t) => {
  const state = new Map<string, 'visiting' | 'done'>()
  const cycles: string[] = []
  const visit = (file: string, stack: string[]) => {
    if (state.get(file) === 'done') return
    if (state.get(file) === 'visiting') {
      cycles.push([...stack.slice(stack.indexOf(file)), file].map(rel).join(' → '))
      return
    }
    state.set(file, 'visiting')
    for (const dep of graph.get(file) ?? []) visit(dep, [...stack, file])
    state.set(file, 'done')
  }
  for (const file of all) visit(file, [])
  t.same(cycles, [], 'cycles')
})

t.test('src/h1/ is pure: no sockets, timers, events or I/O', async (t) => {
  for (const file of all.filter((f) => rel(f).startsWith(`h1${path.sep}`))) {
    const io = imports(file).filter((s) => /^node:(net|tls|http|http2|dgram|fs|events|timers|child_process)/.test(s))
    t.same(io, [], `${rel(file)} imports no I/O module`)
    t.notMatch(readFileSync(file, 'utf8'), /\bset(Timeout|Interval|Immediate)\(/, `${rel(file)} sets no timer`)
  }
})

t.test('no file in src/ over 500 lines', async (t) => {
  for (const file of all) {
    const lines = readFileSync(file, 'utf8').split('\n').length
    t.ok(lines <= 500, `${rel(file)}: ${lines} lines`)
  }
})

t.test('docs/ARCHITECTURE.md names every file in src/ (the README says it lists them all)', async (t) => {
  const doc = readFileSync(path.join(SRC, '..', 'docs', 'ARCHITECTURE.md'), 'utf8')
  for (const file of all) t.ok(doc.includes(path.basename(file)), rel(file))
})
