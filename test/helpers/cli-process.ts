// The command line as users run it: the built dist/cli.js (npm test builds first), in a process
// of its own, watched through its stdout. Every wait is bounded.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import type { Test } from 'tap'

export const root = new URL('../..', import.meta.url).pathname
export const cli = join(root, 'dist', 'cli.js')
/**
 * src/cli.ts under the TypeScript loader tap runs tests with (this process's execArgv): tap
 * follows the process and collects its coverage. A start costs seconds of CPU (about 5 s), so
 * only the tests that cover the CLI's own paths use it.
 */
export const cliFromSource = [...process.execArgv, join(root, 'src', 'cli.ts')]

/** Run `node dist/cli.js ...args` to its end (bounded: 10 s). */
export function runCli(args: string[]) {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 10_000 })
}

/**
 * Start `node dist/cli.js ...args` (or `entry`: cliFromSource) and resolve `ready` once `pattern`
 * appears on its stdout (rejects if it exits first, or after 60 s: a generous bound for a loaded
 * machine). With `t`, the process is killed when the test ends.
 */
export function startCli(
  args: string[],
  pattern: RegExp = /listening on (http:\/\/\S+) /,
  t?: Test,
  entry: readonly string[] = [cli],
) {
  const child = spawn(process.execPath, [...entry, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  t?.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; got:\n${out}${err}`)), 60_000)
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (d: string) => {
      out += d
      const m = out.match(pattern)
      if (m !== null) {
        clearTimeout(timer)
        resolve(m)
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code} before ${pattern}:\n${out}${err}`))
    })
  })
  // An unobserved rejection (the test failed elsewhere first) must not end the test process.
  ready.catch(() => {})
  return { child, ready, output: () => out, errors: () => err }
}

/** The exit code (null: ended by a signal), once the process has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}
