// The command line as users run it, in a child process: the built dist/cli.js (npm test builds
// first). Every wait is bounded; the child is killed when the test ends.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import type { Test } from 'tap'

export const root = new URL('../..', import.meta.url).pathname
export const cliPath = join(root, 'dist', 'cli.js')

/** Run the CLI to its end (bounded: 10 s). */
export function runCli(args: string[]) {
  return spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', timeout: 10_000 })
}

/** Start the CLI and resolve once `pattern` appears on its stdout (bounded: 60 s). */
export function startCli(t: Test, args: string[], pattern = /listening on (http:\/\/\S+) /) {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let out = ''
  let err = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d: string) => {
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
  return { child, ready, output: () => out }
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}
