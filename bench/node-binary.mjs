// A second Node binary for `npm run bench -- --node=...`: a path to an executable, or a major
// version (`24`), which means Node from the npm registry (package `node-<platform>-<arch>@24`,
// the same way .ci/run gets Node 24), installed once into a cache directory outside the
// repository: $HOME/.cache/strictgate-node<major> (the directory .ci/run uses for 24).
//
// Run directly, it prints the binary's path: `node bench/node-binary.mjs 22`.

import { spawnSync } from 'node:child_process'
import { accessSync, constants, mkdirSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The cache directory for a major version. */
export function cacheDir(major) {
  return join(os.homedir(), '.cache', `strictgate-node${major}`)
}

function executable(file) {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The absolute path of the Node binary `spec` names (a path, or a major version, installed
 * from the npm registry when missing), and its version. Throws with a message saying why not.
 */
export function resolveNode(spec) {
  let file
  if (/^[1-9][0-9]*$/.test(spec)) {
    const pkg = `node-${process.platform}-${process.arch}`
    const dir = cacheDir(spec)
    file = join(dir, 'node_modules', pkg, 'bin', 'node')
    if (!executable(file)) {
      mkdirSync(dir, { recursive: true })
      console.error(`installing ${pkg}@${spec} into ${dir} (npm) …`)
      const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `${pkg}@${spec}`], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 300_000,
      })
      if (npm.status !== 0 || !executable(file)) {
        throw new Error(`--node=${spec}: npm install ${pkg}@${spec} failed:\n${npm.stderr ?? npm.error}`)
      }
    }
  } else {
    file = resolve(spec)
    if (!executable(file)) throw new Error(`--node=${spec}: not an executable file`)
  }
  const r = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 })
  const version = r.stdout?.trim() ?? ''
  if (r.status !== 0 || !/^v\d+\.\d+\.\d+/.test(version)) throw new Error(`--node=${spec}: ${file} --version failed`)
  return { path: file, version }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const spec = process.argv[2]
  if (spec === undefined) {
    console.error('usage: node bench/node-binary.mjs <major version | path>')
    process.exit(2)
  }
  try {
    console.log(resolveNode(spec).path)
  } catch (err) {
    console.error(err.message)
    process.exit(1)
  }
}
