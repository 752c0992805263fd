// A gateway in a process of its own whose file descriptors are used up on purpose, to see what it
// does when the kernel refuses it a socket (EMFILE): run with `node --import tsx` under a small
// `ulimit -n`. It fills its descriptor table with /dev/null until open() fails, then frees one
// (the next accept succeeds, and the upstream connect after it fails), and sends { port } over
// IPC; every strictgate:error it sees goes over IPC too.
//
// argv: upstream URL.

import diagnostics from 'node:diagnostics_channel'
import { closeSync, openSync } from 'node:fs'
import { createGateway, type ErrorMessage } from '../../dist/index.js'

const [upstream] = process.argv.slice(2)
const send = (msg: unknown) => (process.send as (msg: unknown) => boolean)(msg)

diagnostics.subscribe('strictgate:error', (m) => {
  const { error } = m as ErrorMessage
  send({ code: error.code, status: error.status, message: error.message })
})
const gateway = createGateway({ upstream })
const { port } = await gateway.listen({ port: 0, host: '127.0.0.1' })

const filler: number[] = []
for (;;) {
  try {
    filler.push(openSync('/dev/null', 'r'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err
    break
  }
}
closeSync(filler.pop() as number)
send({ port })
process.on('disconnect', () => process.exit(0))
