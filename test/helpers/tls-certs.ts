// Certificates made with openssl at test time: a private CA and a server certificate it signed
// for `localhost`. Tests that need them skip, naming openssl, where it is not installed.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

/** A tap `skip` option: false, or why the test cannot run. */
export const needsOpenssl: false | string = hasOpenssl()
  ? false
  : 'openssl is not on PATH: cannot make a test certificate'

export interface PrivateCa {
  /** The CA certificate (PEM): what a client trusts. */
  ca: string
  /** The server's key and certificate (PEM), for `localhost` (subjectAltName DNS:localhost). */
  key: string
  cert: string
}

/** Make a private CA and a server certificate for localhost, both valid for a day. */
export function privateCa(): PrivateCa {
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-ca-'))
  try {
    const f = (name: string) => join(dir, name)
    const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', cwd: dir })
    const subj = (cn: string) => ['-subj', `/CN=${cn}`]
    run([
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      ...subj('strictgate test CA'),
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
    ])
    run([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      ...subj('localhost'),
      '-keyout',
      f('server.key'),
      '-out',
      f('server.csr'),
    ])
    // The server certificate names localhost (RFC 6125: names are matched on subjectAltName).
    writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost\n')
    run([
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      f('ext.cnf'),
      '-out',
      f('server.pem'),
    ])
    return {
      ca: readFileSync(f('ca.pem'), 'utf8'),
      key: readFileSync(f('server.key'), 'utf8'),
      cert: readFileSync(f('server.pem'), 'utf8'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A self-signed certificate for CN and subjectAltName IP 127.0.0.1 (a TLS front server, an HTTP/2 one). */
export interface Credentials {
  key: string
  cert: string
}

let made: Credentials | null = null

/** Key and certificate for 127.0.0.1 (one per test process). */
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
