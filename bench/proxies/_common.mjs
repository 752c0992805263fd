// Shared by the bench/proxies/*.mjs files (files starting with "_" are not systems).
//
// A system file default-exports a descriptor that bench/run.mjs uses:
//   name       column label, unique
//   order      position in tables and charts (direct is 0)
//   available  () => true, or a string saying why the system is skipped
//   version    () => string, recorded in the results
//   command    ({ upstream, port, tmpDir, nodeFlags, dist, nodePath }) => { command, args }: the process
//              to start.
//              It must listen on 127.0.0.1:port and proxy every path to `upstream`
//              (http://127.0.0.1:N) with keep-alive on both sides, answering 502 when the
//              upstream is unreachable. run.mjs waits until the port accepts connections,
//              measures that process's pid, and stops it with SIGTERM.
//   badGatewayStatus  the status it answers when the upstream is unreachable (default 502)
//   node       true for a Node-based system (nodeSystem()): `--node=...` also runs it under that
//              Node binary (nodePath), as a system of its own named `<name>@node<major>`
// For a Node-based system, nodeSystem() builds the descriptor, and running the same file with
// `node file --upstream=URL --port=N [--dist=DIR]` starts the proxy (dist: which strictgate
// build to load; run.mjs passes a snapshot of dist/ or of --compare's directory). The Node
// binary is the one running bench/run.mjs unless nodePath names another.

import { accessSync, constants, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Version from a dependency's package.json in the repository's node_modules. */
export function packageVersion(name) {
  const url = new URL(`../../node_modules/${name}/package.json`, import.meta.url)
  return JSON.parse(readFileSync(url, 'utf8')).version
}

export function nodeSystem(moduleUrl, { name, order, version, listen }) {
  const file = fileURLToPath(moduleUrl)
  if (process.argv[1] === file) serve(listen)
  return {
    name,
    order,
    available: () => true,
    version,
    node: true,
    command: ({ upstream, port, nodeFlags = [], dist, nodePath = process.execPath }) => ({
      command: nodePath,
      args: [...nodeFlags, file, `--upstream=${upstream}`, `--port=${port}`, ...(dist ? [`--dist=${dist}`] : [])],
    }),
  }
}

function serve(listen) {
  const args = Object.fromEntries(
    process.argv.slice(2).map((a) => {
      const i = a.indexOf('=')
      return [a.slice(2, i), a.slice(i + 1)]
    }),
  )
  if (args.upstream === undefined || args.port === undefined) {
    console.error('usage: node <system>.mjs --upstream=http://127.0.0.1:N --port=N')
    process.exit(2)
  }
  // A normal exit on SIGTERM, so that `node --cpu-prof` writes its profile.
  process.on('SIGTERM', () => process.exit(0))
  Promise.resolve(listen(args.upstream, Number(args.port), args)).catch((err) => {
    console.error(err)
    process.exit(1)
  })
}

/** Absolute path of an executable on PATH, or null. */
export function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir === '') continue
    const file = `${dir}/${command}`
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return null
}
