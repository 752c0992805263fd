// HAProxy, only when `haproxy` is on PATH: one process with one thread (`nbthread 1`, `-db`:
// foreground, no master, so the measured pid is the one doing the work), keep-alive on both
// sides (`http-reuse always`: idle upstream connections are shared between client connections,
// like nginx's `keepalive` pool), a generated config in the run's temp directory, no logging.
// Everything else is HAProxy's default (buffer size, retries).
//
// When it cannot connect to the upstream, HAProxy answers 503 (after its retries), not 502:
// that is its documented behaviour, so the harness's unreachable-upstream check expects 503.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { onPath } from './_common.mjs'

export default {
  name: 'haproxy',
  order: 4.5,
  badGatewayStatus: 503,
  available: () => (onPath('haproxy') === null ? 'haproxy is not on PATH' : true),
  version() {
    // `haproxy -v` prints "HAProxy version 2.6.12-1+deb12u3 2025/10/03 - https://haproxy.org/".
    const r = spawnSync(onPath('haproxy'), ['-v'], { encoding: 'utf8' })
    return /version (\S+)/.exec(r.stdout ?? '')?.[1] ?? 'unknown'
  },
  command({ upstream, port, tmpDir }) {
    const dir = join(tmpDir, `haproxy-${port}`)
    mkdirSync(dir, { recursive: true })
    const { hostname, port: upstreamPort } = new URL(upstream)
    const conf = join(dir, 'haproxy.cfg')
    writeFileSync(
      conf,
      `global
  nbthread 1
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  option http-keep-alive
  http-reuse always

frontend gateway
  bind 127.0.0.1:${port}
  default_backend upstream

backend upstream
  server origin ${hostname}:${upstreamPort}
`,
    )
    return { command: onPath('haproxy'), args: ['-db', '-f', conf] }
  },
}
