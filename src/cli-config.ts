// The command line's configuration while it runs: the --config file with the flags over it,
// turned into createGateway's options (plus the hooks only flags make, and the demo's upstream),
// the --tls-cert / --tls-key files, and what SIGHUP does: read both again and apply them to the
// running gateway (reconfigure, setTls) without touching its listener. A file that does not
// read, parse or validate, or certificates that cannot be used, leave everything as it was.

import { readFile } from 'node:fs/promises'
import { type CliConfig, DEFAULT_LISTEN } from './cli-args.js'
import type { CliLog } from './cli-log.js'
import { UsageError } from './cli-usage.js'
import { DEMO_RESPONSE_TIMEOUT_MS } from './demo/routes.js'
import type { Gateway, ListenTlsOptions } from './gateway.js'
import { checkTls } from './listeners.js'
import { ConfigReloader, type Config as FileConfig, type HostPort, mergeConfig } from './ops/config-file.js'
import { type GatewayOptions, resolveOptions } from './options.js'

/** The upstream option as one log field: the URLs, comma-separated. */
export function describeUpstream(upstream: unknown): string {
  const list = Array.isArray(upstream) ? upstream : [upstream]
  return list
    .map((u) => {
      if (typeof u === 'string') return u
      const o = u as { url?: string; host?: string; port?: number }
      return o.url ?? `http://${o.host}:${o.port}`
    })
    .join(',')
}

export class CliSettings {
  private readonly cli: CliConfig
  /** The demo upstream's URL (--demo), which replaces any other upstream. */
  private readonly demo: string | null
  private readonly reloader: ConfigReloader | null
  private config: FileConfig
  /** The gateway reloads apply to, once it runs. */
  private gateway: Gateway | null = null

  constructor(cli: CliConfig, demo: string | null) {
    this.cli = cli
    this.demo = demo
    this.config = mergeConfig({ options: {} }, cli.flags)
    this.reloader =
      cli.configFile === null
        ? null
        : new ConfigReloader(cli.configFile, (config) => this.apply(config), {
            flags: cli.flags,
            validate: (config) => resolveOptions(this.options(config)),
          })
  }

  /** The first load: the file (if any) under the flags, validated; throws a ConfigError or TypeError. */
  async load(): Promise<void> {
    if (this.reloader !== null) this.config = await this.reloader.load()
    else resolveOptions(this.options(this.config))
  }

  /** createGateway's options for `config` (the current one by default). */
  options(config: FileConfig = this.config): GatewayOptions {
    const options = { ...config.options, ...this.cli.hooks } as Record<string, unknown>
    if (this.demo !== null) {
      options.upstream = this.demo
      options.timeouts = { response: DEMO_RESPONSE_TIMEOUT_MS, ...(options.timeouts as object | undefined) }
    }
    return options as unknown as GatewayOptions
  }

  get listen(): HostPort {
    return this.config.listen ?? DEFAULT_LISTEN
  }

  get admin(): HostPort | null {
    return this.config.admin ?? null
  }

  get upstream(): string {
    return describeUpstream(this.options().upstream)
  }

  /** The listener's certificates (--tls-cert, --tls-key), read now; null without them. */
  async readTls(): Promise<ListenTlsOptions | null> {
    const files = this.cli.tls
    if (files === null) return null
    const read = (flag: string, file: string) =>
      readFile(file).catch((err: Error) => {
        throw new UsageError(`cannot read --${flag} ${file}: ${err.message}`)
      })
    return { cert: await read('tls-cert', files.cert), key: await read('tls-key', files.key) }
  }

  /** Reloads go to `gateway` from now on. */
  attach(gateway: Gateway): void {
    this.gateway = gateway
  }

  /**
   * SIGHUP: read the config file and the certificates again and apply them; log what happened
   * (what changed, or why nothing did). Never rejects.
   */
  async reload(log: CliLog): Promise<void> {
    if (this.reloader === null) {
      if (this.cli.tls === null) {
        log.event('reload', { ok: false, reason: 'nothing to reload: no --config, no --tls-cert' })
        return
      }
      try {
        await this.apply(this.config)
        log.event('reload', { ok: true, changed: ['tls'] })
      } catch (err) {
        log.event('reload', { ok: false, reason: `${(err as Error).message}; the configuration stays as it was` })
      }
      return
    }
    const result = await this.reloader.reload()
    if (!result.ok) {
      log.event('reload', { ok: false, reason: `${result.error.message}; the configuration stays as it was` })
      return
    }
    const changed = this.cli.tls === null ? result.changed : [...result.changed, 'tls']
    log.event('reload', { ok: true, changed })
    const restart = result.changed.filter((k) => k === 'listen' || k === 'admin')
    if (restart.length > 0)
      log.event('reload', { ok: true, restart: restart.map((k) => `${k} changes need a restart`) })
  }

  /**
   * Apply a validated configuration and the certificates read now: the certificates are checked
   * before anything changes (a bad pair refuses the whole reload), then reconfigure, then setTls.
   */
  private async apply(config: FileConfig): Promise<void> {
    const gateway = this.gateway
    if (gateway === null) throw new Error('the gateway is not running yet')
    const secure = await this.readTls()
    if (secure !== null) {
      try {
        checkTls(secure)
      } catch (err) {
        throw new Error(
          `--tls-cert/--tls-key: ${(err as Error).message.replace('strictgate: listen option "tls" ', '')}`,
        )
      }
    }
    gateway.reconfigure(this.options(config))
    if (secure !== null) gateway.setTls(secure)
    this.config = config
  }
}
