// A self-signed certificate for 127.0.0.1, made with openssl when a test needs TLS (a TLS front
// server, an HTTP/2 one). Tests that need it skip, naming openssl, where it is not installed.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A tap `skip` value: false, or why the test cannot run here. */
export const noOpenssl: false | string = hasOpenssl() ? false : 'openssl is not on PATH: cannot make a test certificate'

export interface Credentials {
  key: string
  cert: string
}

let made: Credentials | null = null

/** Key and certificate for CN and subjectAltName 127.0.0.1 (one per test process). */
export function selfSigned(): Credentials {
  if (made !== null) return made
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-cert-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    made = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
    return made
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
