// The strictgate command line (dist/cli.js) as a system, its stdout to a file in the run's temp
// directory; with strictgate-cli-access-log.mjs, the cost of --access-log (issue 16's measure):
//   npm run bench -- --with=bench/experiments --systems=strictgate-cli,strictgate-cli-access-log --workloads=small
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url))

/** A system running dist/cli.js with `flags`, stdout appended to `<tmpDir>/<name>.log` (sh execs node: the pid measured is the gateway's). */
export function cliSystem(name, order, flags) {
  return {
    name,
    order,
    available: () => true,
    version: () => JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
    command: ({ upstream, port, tmpDir, nodeFlags = [], dist = DIST, nodePath = process.execPath }) => ({
      command: '/bin/sh',
      args: [
        '-c',
        `exec "$@" >>"${join(tmpDir, `${name}.log`)}"`,
        'sh',
        nodePath,
        ...nodeFlags,
        join(dist, 'cli.js'),
        '--upstream',
        upstream,
        '--listen',
        `127.0.0.1:${port}`,
        ...flags,
      ],
    }),
  }
}

export default cliSystem('strictgate-cli', 2.1, [])
