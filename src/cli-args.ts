// Command-line flags: parsing and help text (the CLI itself is cli.ts).

import { parseArgs } from 'node:util'
import { rewriteOptions } from './cli-rewrite.js'
import { UsageError } from './cli-usage.js'
import { DEFAULT_LIMITS } from './h1/limits.js'
import { type Config as FileConfig, type HostPort, parseHostPort } from './ops/config-file.js'
import { DEFAULT_HEALTH, DEFAULT_HEALTH_CHECK, DEFAULT_POOL, DEFAULT_TIMEOUTS, type GatewayOptions } from './options.js'
import { VERSION } from './version.js'

/** Where the gateway listens when neither --listen nor the config file says. */
export const DEFAULT_LISTEN: HostPort = { host: '127.0.0.1', port: 8080 }

interface Flag {
  name: string
  type: 'string' | 'boolean'
  multiple?: boolean
  default: string
  help: string
  /** Where the value goes in GatewayOptions (numeric flags). */
  option?: [group: 'timeouts' | 'limits' | 'pool' | 'health', key: string]
}

const FLAGS: Flag[] = [
  {
    name: 'config',
    type: 'string',
    default: 'none',
    help: "JSON file of createGateway's options plus listen and admin; flags override it; SIGHUP reloads it",
  },
  { name: 'listen', type: 'string', default: '127.0.0.1:8080', help: 'address to listen on, host:port' },
  {
    name: 'tls-cert',
    type: 'string',
    default: 'none',
    help: 'certificate chain (PEM file): serve HTTPS on --listen (with --tls-key; SIGHUP reloads both)',
  },
  { name: 'tls-key', type: 'string', default: 'none', help: 'private key (PEM file) of --tls-cert' },
  {
    name: 'upstream',
    type: 'string',
    multiple: true,
    default: '(required unless --demo)',
    help: 'upstream: http://host:port, https://host:port or unix:/path; repeat it to balance several',
  },
  { name: 'demo', type: 'boolean', default: 'off', help: 'start the built-in demo upstream and proxy to it' },
  {
    name: 'connect-timeout',
    type: 'string',
    default: `${DEFAULT_TIMEOUTS.connect}`,
    help: 'ms to connect upstream (504)',
    option: ['timeouts', 'connect'],
  },
  {
    name: 'response-timeout',
    type: 'string',
    default: `${DEFAULT_TIMEOUTS.response}`,
    help: 'ms for the response head (504)',
    option: ['timeouts', 'response'],
  },
  {
    name: 'idle-timeout',
    type: 'string',
    default: `${DEFAULT_TIMEOUTS.idle}`,
    help: 'ms without a body byte (abort)',
    option: ['timeouts', 'idle'],
  },
  {
    name: 'request-timeout',
    type: 'string',
    default: `${DEFAULT_TIMEOUTS.request}`,
    help: 'ms for a client request head (408)',
    option: ['timeouts', 'request'],
  },
  {
    name: 'keep-alive-timeout',
    type: 'string',
    default: `${DEFAULT_TIMEOUTS.keepAlive}`,
    help: 'ms an idle keep-alive connection stays open',
    option: ['timeouts', 'keepAlive'],
  },
  {
    name: 'shutdown-timeout',
    type: 'string',
    default: `${DEFAULT_TIMEOUTS.shutdown}`,
    help: 'ms to finish in-flight exchanges on stop',
    option: ['timeouts', 'shutdown'],
  },
  {
    name: 'max-header-bytes',
    type: 'string',
    default: `${DEFAULT_LIMITS.maxHeaderBytes}`,
    help: 'largest head, both ways',
    option: ['limits', 'maxHeaderBytes'],
  },
  {
    name: 'max-header-count',
    type: 'string',
    default: `${DEFAULT_LIMITS.maxHeaderCount}`,
    help: 'most fields in a head',
    option: ['limits', 'maxHeaderCount'],
  },
  {
    name: 'max-url-bytes',
    type: 'string',
    default: `${DEFAULT_LIMITS.maxUrlBytes}`,
    help: 'longest request-target (414)',
    option: ['limits', 'maxUrlBytes'],
  },
  {
    name: 'max-request-body-bytes',
    type: 'string',
    default: 'unlimited',
    help: 'largest request body (413)',
    option: ['limits', 'maxRequestBodyBytes'],
  },
  {
    name: 'max-connections',
    type: 'string',
    default: 'unlimited',
    help: 'client connections at once (503 beyond)',
    option: ['limits', 'maxConnections'],
  },
  {
    name: 'max-interim-responses',
    type: 'string',
    default: `${DEFAULT_LIMITS.maxInterimResponses}`,
    help: '1xx responses before the final one',
    option: ['limits', 'maxInterimResponses'],
  },
  {
    name: 'max-sockets',
    type: 'string',
    default: `${DEFAULT_POOL.maxSockets}`,
    help: 'upstream connections',
    option: ['pool', 'maxSockets'],
  },
  {
    name: 'max-idle',
    type: 'string',
    default: `${DEFAULT_POOL.maxIdle}`,
    help: 'idle keep-alive upstream connections kept',
    option: ['pool', 'maxIdle'],
  },
  {
    name: 'balance',
    type: 'string',
    default: 'round-robin',
    help: 'round-robin, least-connections or power-of-two-choices',
  },
  {
    name: 'max-fails',
    type: 'string',
    default: `${DEFAULT_HEALTH.maxFails}`,
    help: 'failures within --fail-window that mark a target down',
    option: ['health', 'maxFails'],
  },
  {
    name: 'fail-window',
    type: 'string',
    default: `${DEFAULT_HEALTH.failWindow}`,
    help: 'ms failures are counted over',
    option: ['health', 'failWindow'],
  },
  {
    name: 'fail-timeout',
    type: 'string',
    default: `${DEFAULT_HEALTH.failTimeout}`,
    help: 'ms a target stays down before one trial request',
    option: ['health', 'failTimeout'],
  },
  {
    name: 'health-check',
    type: 'string',
    default: 'off',
    help: 'PATH probed with GET on every target (active health checks; --max-fails failures mark it down)',
  },
  {
    name: 'health-check-interval',
    type: 'string',
    default: `${DEFAULT_HEALTH_CHECK.interval}`,
    help: 'ms between two probes of a target (jittered ±10%)',
  },
  {
    name: 'health-check-timeout',
    type: 'string',
    default: `${DEFAULT_HEALTH_CHECK.timeout}`,
    help: 'ms a probe may take, connect to the end of the response',
  },
  { name: 'retries', type: 'string', default: 'targets - 1', help: 'other targets tried after a failure' },
  {
    name: 'route',
    type: 'string',
    multiple: true,
    default: 'none',
    help: 'PREFIX=URL: requests under PREFIX go to URL (repeatable; the longest prefix wins)',
  },
  {
    name: 'strip-prefix',
    type: 'boolean',
    default: 'off',
    help: 'remove the --route prefix from the path sent upstream',
  },
  { name: 'change-origin', type: 'boolean', default: 'off', help: "send the target's authority as Host" },
  {
    name: 'rewrite-location',
    type: 'boolean',
    default: 'off',
    help: 'rewrite Location/Content-Location at the target origin to the client-facing one',
  },
  {
    name: 'cookie-domain',
    type: 'string',
    multiple: true,
    default: 'none',
    help: "FROM=TO for Set-Cookie Domain ('*' any, empty TO removes; repeatable)",
  },
  {
    name: 'cookie-path',
    type: 'string',
    multiple: true,
    default: 'none',
    help: "FROM=TO for Set-Cookie Path ('*' any, empty TO removes; repeatable)",
  },
  {
    name: 'request-header',
    type: 'string',
    multiple: true,
    default: 'none',
    help: "'Name: value' set on requests (empty value removes; repeatable)",
  },
  {
    name: 'response-header',
    type: 'string',
    multiple: true,
    default: 'none',
    help: "'Name: value' set on responses (empty value removes; repeatable)",
  },
  { name: 'via', type: 'string', default: '1.1 strictgate', help: 'Via field value added both ways' },
  { name: 'no-via', type: 'boolean', default: 'off', help: 'add no Via field' },
  {
    name: 'no-via-request',
    type: 'boolean',
    default: 'off',
    help: 'add Via to responses only (an nginx upstream then gzips: see gzip_proxied)',
  },
  { name: 'x-forwarded', type: 'boolean', default: 'off', help: 'add X-Forwarded-For/-Proto/-Host' },
  { name: 'log', type: 'string', default: 'text', help: 'log format (errors, access log, events): text or json' },
  {
    name: 'access-log',
    type: 'boolean',
    default: 'off',
    help: 'one line per exchange on stdout: time client method target status bytes ms upstream code',
  },
  {
    name: 'admin',
    type: 'string',
    default: 'off',
    help: 'host:port of the admin listener: GET /metrics (Prometheus), GET /healthz',
  },
  {
    name: 'workers',
    type: 'string',
    default: '1',
    help: 'processes sharing the port (SO_REUSEPORT where Node and the OS have it, else cluster round-robin)',
  },
  { name: 'version', type: 'boolean', default: '', help: 'print the version' },
  { name: 'help', type: 'boolean', default: '', help: 'print this help' },
]

export function helpText(): string {
  const lines = FLAGS.map((f) => {
    const name = `--${f.name}${f.type === 'string' ? ' <value>' : ''}`
    const def = f.default === '' ? '' : ` (default: ${f.default})`
    return `  ${name.padEnd(34)}${f.help}${def}`
  })
  return `strictgate ${VERSION}: a strict HTTP/1.1 gateway

Usage:
  strictgate --upstream http://127.0.0.1:3000 [--listen 127.0.0.1:8080] [flags]
  strictgate --demo

Flags:
${lines.join('\n')}
`
}

function positive(flag: string, value: string): number {
  if (!/^[1-9][0-9]*$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`--${flag} must be a positive integer, got ${JSON.stringify(value)}`)
  }
  return Number(value)
}

function address(flag: string, value: string): HostPort {
  const parsed = parseHostPort(value)
  if (parsed === null) {
    throw new UsageError(
      `--${flag} must be host:port (e.g. 127.0.0.1:8080 or [::1]:8080), got ${JSON.stringify(value)}`,
    )
  }
  return parsed
}

export interface CliConfig {
  /**
   * What the flags set, in a config file's shape: mergeConfig puts it over the file (--config),
   * so a flag wins for what it sets. listen is absent unless --listen was given.
   */
  flags: FileConfig
  /** The options only flags make, functions a file cannot hold (--route, --*-header). */
  hooks: Pick<GatewayOptions, 'route' | 'onResponse'>
  /** --config: the file, or null. */
  configFile: string | null
  /** --tls-cert and --tls-key: the files, or null. */
  tls: { cert: string; key: string } | null
  demo: boolean
  log: 'text' | 'json'
  accessLog: boolean
  workers: number
  action: 'run' | 'help' | 'version'
}

/** Parse argv into a configuration; throws UsageError with a message naming the flag. */
export function parseCli(argv: string[]): CliConfig {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(FLAGS.map((f) => [f.name, { type: f.type, multiple: f.multiple ?? false }])),
    })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>
  const action = v.help === true ? 'help' : v.version === true ? 'version' : 'run'
  const groups: Record<'timeouts' | 'limits' | 'pool' | 'health', Record<string, unknown>> = {
    timeouts: {},
    limits: {},
    pool: {},
    health: {},
  }
  for (const f of FLAGS) {
    const value = v[f.name]
    if (f.option !== undefined && typeof value === 'string') groups[f.option[0]][f.option[1]] = positive(f.name, value)
  }
  const check: Record<string, unknown> = {}
  if (typeof v['health-check'] === 'string') check.path = v['health-check']
  for (const key of ['interval', 'timeout']) {
    const value = v[`health-check-${key}`]
    if (typeof value === 'string') check[key] = positive(`health-check-${key}`, value)
  }
  if (Object.keys(check).length > 0) groups.health.check = check
  // Only the groups a flag set: an empty one would still be a value merged over the file's.
  const options: Record<string, unknown> = Object.fromEntries(
    Object.entries(groups).filter(([, group]) => Object.keys(group).length > 0),
  )
  if (v['no-via'] === true) options.via = false
  else if (v['no-via-request'] === true) {
    options.via = typeof v.via === 'string' ? { value: v.via, request: false } : { request: false }
  } else if (typeof v.via === 'string') options.via = v.via
  if (v['x-forwarded'] === true) options.xForwarded = true
  if (typeof v.balance === 'string') options.balance = v.balance
  if (typeof v.retries === 'string') {
    if (!/^[0-9]+$/.test(v.retries))
      throw new UsageError(`--retries must be a non-negative integer, got ${JSON.stringify(v.retries)}`)
    options.retries = Number(v.retries)
  }
  const log = v.log ?? 'text'
  if (log !== 'text' && log !== 'json') throw new UsageError(`--log must be text or json, got ${JSON.stringify(log)}`)
  const given = (v.upstream as string[] | undefined) ?? []
  const demo = v.demo === true
  const configFile = typeof v.config === 'string' ? v.config : null
  const list = (name: string) => (v[name] as string[] | undefined) ?? []
  const rewrite = rewriteOptions(
    {
      route: list('route'),
      stripPrefix: v['strip-prefix'] === true,
      changeOrigin: v['change-origin'] === true,
      rewriteLocation: v['rewrite-location'] === true,
      cookieDomain: list('cookie-domain'),
      cookiePath: list('cookie-path'),
      requestHeader: list('request-header'),
      responseHeader: list('response-header'),
    },
    given,
  )
  const { route, onResponse, ...data } = rewrite.options
  Object.assign(options, data)
  const upstreams = [...given, ...rewrite.targets]
  if (upstreams.length > 0) options.upstream = upstreams.length === 1 ? upstreams[0] : upstreams
  if (action === 'run') {
    if (demo && upstreams.length > 0) throw new UsageError('--demo and --upstream / --route exclude each other')
    if (!demo && upstreams.length === 0 && configFile === null) {
      throw new UsageError('--upstream is required (or --demo, or a --config file naming the upstream)')
    }
  }
  const flags: FileConfig = { options }
  if (typeof v.listen === 'string') flags.listen = address('listen', v.listen)
  if (typeof v.admin === 'string') flags.admin = address('admin', v.admin)
  const cert = v['tls-cert']
  const key = v['tls-key']
  if ((typeof cert === 'string') !== (typeof key === 'string'))
    throw new UsageError('--tls-cert and --tls-key go together')
  const hooks: CliConfig['hooks'] = {}
  if (route !== undefined) hooks.route = route
  if (onResponse !== undefined) hooks.onResponse = onResponse
  return {
    flags,
    hooks,
    configFile,
    tls: typeof cert === 'string' && typeof key === 'string' ? { cert, key } : null,
    demo,
    log,
    accessLog: v['access-log'] === true,
    workers: typeof v.workers === 'string' ? positive('workers', v.workers) : 1,
    action,
  }
}
