// nginx, only when `nginx` is on PATH: one worker, keep-alive upstream connections, a generated
// config whose pid, logs and temp files live in the run's temp directory. `master_process off`
// makes the measured pid the process doing the work (one worker, no master to fork it).
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { onPath } from './_common.mjs'

export default {
  name: 'nginx',
  order: 4,
  available: () => (onPath('nginx') === null ? 'nginx is not on PATH' : true),
  version() {
    // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
    const r = spawnSync(onPath('nginx'), ['-v'], { encoding: 'utf8' })
    return `${r.stderr}${r.stdout}`.trim().replace(/^nginx version: nginx\//, '')
  },
  command({ upstream, port, tmpDir }) {
    const dir = join(tmpDir, `nginx-${port}`)
    mkdirSync(dir, { recursive: true })
    const { hostname, port: upstreamPort } = new URL(upstream)
    const conf = join(dir, 'nginx.conf')
    writeFileSync(
      conf,
      `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events {
  worker_connections 4096;
}
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  upstream backend {
    server ${hostname}:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
    )
    return { command: onPath('nginx'), args: ['-p', dir, '-e', `${dir}/error.log`, '-c', conf] }
  },
}
