// The package as users get it: what `npm pack` ships, and importing it by name from ESM and
// from CommonJS out of an installed tarball (npm test builds dist/ first).
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

const root = new URL('..', import.meta.url).pathname

t.test('npm pack ships dist, README, LICENSE and notices only', async (t) => {
  const [info] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8' }))
  const files: string[] = info.files.map((f: { path: string }) => f.path).sort()
  for (const f of files) {
    t.ok(
      /^(dist\/|README\.md$|LICENSE$|THIRD_PARTY_NOTICES\.md$|package\.json$)/.test(f),
      `${f} belongs in the package`,
    )
  }
  for (const f of [
    'dist/index.js',
    'dist/index.cjs',
    'dist/index.d.ts',
    'dist/index.d.cts',
    'dist/cli.js',
    'dist/demo.js',
    'LICENSE',
    'README.md',
    'THIRD_PARTY_NOTICES.md',
  ]) {
    t.ok(files.includes(f), `ships ${f}`)
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  t.same(pkg.dependencies ?? {}, {}, 'no runtime dependencies')
})

t.test('the packed tarball imports by name from ESM and CommonJS', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'strictgate-pack-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const tarball = execFileSync('npm', ['pack', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop() as string
  const target = join(dir, 'node_modules', 'strictgate')
  mkdirSync(target, { recursive: true })
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', target, '--strip-components=1'])
  writeFileSync(join(dir, 'package.json'), '{"name":"consumer","private":true}')
  const esm = execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import { createGateway, GatewayError, ResponseParser } from 'strictgate'; import { ROUTES } from 'strictgate/demo'; const gw = createGateway({ upstream: 'http://127.0.0.1:9' }); const p = new ResponseParser({ onHead(){}, onBody(){}, onTrailers(){}, onComplete(){} }); p.expect({ method: 'GET', upgrade: [] }); console.log(typeof gw.listen, new GatewayError('UPSTREAM_CLOSED', 'x').status, p.execute(Buffer.from('HTTP/1.1 204 No Content\\r\\n\\r\\n')), ROUTES.length > 0)",
    ],
    { cwd: dir, encoding: 'utf8' },
  )
  t.equal(esm.trim(), 'function 502 27 true')
  const cjs = execFileSync(
    process.execPath,
    [
      '-e',
      "const { createGateway, statusFor } = require('strictgate'); console.log(typeof createGateway, statusFor('UPSTREAM_CONNECT_TIMEOUT'))",
    ],
    { cwd: dir, encoding: 'utf8' },
  )
  t.equal(cjs.trim(), 'function 504')
  const help = execFileSync(process.execPath, [join(target, 'dist', 'cli.js'), '--version'], { encoding: 'utf8' })
  t.match(help, /^\d+\.\d+\.\d+/)
})
