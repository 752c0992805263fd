// A gateway in a process of its own whose file descriptors are used up on purpose, to see what it
// does when the kernel refuses it a socket (EMFILE): run with `node --import tsx` under a small
// `ulimit -n`. It sends { port } over IPC; told 'starve' once a client connection is accepted, it
// fills its descriptor table with /dev/null until open() fails (the upstream connect for that
// client's request then fails) and answers { starved }; every strictgate:error it sees goes over
// IPC too.
//
// argv: upstream URL.

import diagnostics from 'node:diagnostics_channel'
import { openSync } from 'node:fs'
import { createGateway, type ErrorMessage } from '../../dist/index.js'

const [upstream] = process.argv.slice(2)
const send = (msg: unknown) => (process.send as (msg: unknown) => boolean)(msg)

diagnostics.subscribe('strictgate:error', (m) => {
  const { error } = m as ErrorMessage
  send({ code: error.code, status: error.status, message: error.message })
})
const gateway = createGateway({ upstream })
const { port } = await gateway.listen({ port: 0, host: '127.0.0.1' })

// Told to starve (the client's connection is accepted by then): take every descriptor left, so
// that the upstream connect the request asks for gets none. A runtime frees descriptors of its
// own a moment after start (the module loader's: one on Node 20, three on Node 22, within 50 ms),
// which the connect would get: the table is filled again until two rounds 100 ms apart find it
// still full.
const filler: number[] = []
function fill(): number {
  let n = 0
  for (; ; n++) {
    try {
      filler.push(openSync('/dev/null', 'r'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err
      return n
    }
  }
}
process.on('message', async (msg) => {
  if (msg !== 'starve') return
  while (gateway.stats().clients < 1) await new Promise((resolve) => setTimeout(resolve, 5))
  fill()
  for (let quiet = 0; quiet < 2; ) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    quiet = fill() === 0 ? quiet + 1 : 0
  }
  send({ starved: filler.length })
})
send({ port })
process.on('disconnect', () => process.exit(0))
