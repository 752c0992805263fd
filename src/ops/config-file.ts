// `--config FILE`: a JSON file with createGateway's option names, plus `listen` and `admin`
// ("host:port"), which only the command line has. This module checks what only it can: the
// JSON itself, that every top-level name is a known option (a typo must not be ignored
// silently), that function-valued options are not there, and the two addresses. The option
// values are checked by the gateway's own resolveOptions, passed in as `validate`, so the file
// gets the same errors as code does, prefixed with the file's name.
//
// Reload (SIGHUP) re-reads the file; a file that does not parse or validate leaves the running
// configuration as it was.

import { readFile } from 'node:fs/promises'
import { FUNCTION_OPTIONS, OPTION_NAMES } from '../options.js'

/** Top-level names a config file may hold: createGateway's data options (not its functions). */
export const FILE_OPTIONS: readonly string[] = OPTION_NAMES.filter((name) => !FUNCTION_OPTIONS.includes(name))

export interface HostPort {
  host: string
  port: number
}

/** A configuration from a file or from flags, in one shape so that the two can be merged. */
export interface Config {
  /** Gateway options by createGateway's names; their values unchecked until `validate`. */
  options: Record<string, unknown>
  listen?: HostPort
  admin?: HostPort
}

/** A config file that cannot be used: names the file and, when there is one, the key. */
export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    what: string,
  ) {
    super(`strictgate: config file ${file}: ${key === undefined ? '' : `"${key}" `}${what}`)
  }
}

/** `host:port`, `[v6]:port`; port 0-65535. null when it is not one (the CLI's --listen and --admin too). */
export function parseHostPort(value: string): HostPort | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(value)
  if (m === null || Number(m[3]) > 65535) return null
  return { host: m[1] ?? m[2], port: Number(m[3]) }
}

/** "line L column C" for a JSON.parse error that names a position (V8 does). */
function jsonErrorAt(text: string, message: string): string {
  const m = /position (\d+)/.exec(message)
  if (m === null) return message
  const before = text.slice(0, Number(m[1])).split('\n')
  const where = `line ${before.length} column ${before[before.length - 1].length + 1}`
  return message.includes('line ') ? message : `${message} (${where})`
}

/** Parse a config file's text. Throws ConfigError. */
export function parseConfig(text: string, file: string): Config {
  // A byte order mark is how some editors save UTF-8; it is not JSON.
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  let json: unknown
  try {
    json = JSON.parse(source)
  } catch (err) {
    throw new ConfigError(file, undefined, `is not valid JSON: ${jsonErrorAt(source, (err as Error).message)}`)
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(file, undefined, 'must hold a JSON object of options')
  }
  const config: Config = { options: {} }
  for (const [key, value] of Object.entries(json)) {
    if (key === 'listen' || key === 'admin') {
      const address = typeof value === 'string' ? parseHostPort(value) : null
      if (address === null) {
        throw new ConfigError(
          file,
          key,
          `must be "host:port" (127.0.0.1:8080, [::1]:8080), got ${JSON.stringify(value)}`,
        )
      }
      config[key] = address
    } else if (FUNCTION_OPTIONS.includes(key)) {
      throw new ConfigError(file, key, 'is a function option: set it in code (createGateway), not in a config file')
    } else if (FILE_OPTIONS.includes(key)) {
      config.options[key] = value
    } else {
      throw new ConfigError(
        file,
        key,
        `is not a known option (known: ${[...FILE_OPTIONS, 'listen', 'admin'].join(', ')})`,
      )
    }
  }
  return config
}

/** Read and parse a config file. Throws ConfigError (unreadable file, bad JSON, unknown key...). */
export async function loadConfigFile(file: string): Promise<Config> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new ConfigError(file, undefined, `cannot be read: ${(err as Error).message}`)
  }
  return parseConfig(text, file)
}

/** An object of options: what JSON.parse makes, or a literal (a Buffer, say, is a value). */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

/** `over` on top of `base`: objects merge key by key, anything else (lists too) replaces. */
function mergeValues(base: unknown, over: unknown): unknown {
  if (over === undefined) return base
  if (!isPlainObject(base) || !isPlainObject(over)) return over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = mergeValues(base[k], v)
  return out
}

/**
 * The flags on top of the file: a flag overrides the file's value for what it sets, and only
 * that (`--connect-timeout` changes `timeouts.connect`, the file's other timeouts stay); a list
 * (`--upstream` twice) replaces the file's list. Neither input is changed.
 */
export function mergeConfig(file: Config, flags: Config): Config {
  const merged: Config = { options: mergeValues(file.options, flags.options) as Record<string, unknown> }
  const listen = flags.listen ?? file.listen
  const admin = flags.admin ?? file.admin
  if (listen !== undefined) merged.listen = { ...listen }
  if (admin !== undefined) merged.admin = { ...admin }
  return merged
}

/** Run `validate` on a config; its TypeError becomes a ConfigError naming the file and the option. */
function validated(config: Config, file: string, validate: ((config: Config) => void) | undefined): Config {
  if (validate === undefined) return config
  try {
    validate(config)
  } catch (err) {
    if (!(err instanceof TypeError)) throw err
    const message = err.message.replace(/^strictgate: /, '')
    throw new ConfigError(file, undefined, message)
  }
  return config
}

export interface ConfigReloaderOptions {
  /** What the command line set: it overrides the file at every load. */
  flags?: Config
  /** Check a merged configuration (the gateway's resolveOptions); a TypeError refuses it. */
  validate?: (config: Config) => void
  /** Why a reload was refused (the running configuration stays). */
  log?: (message: string) => void
}

export type ReloadResult =
  | {
      ok: true
      config: Config /** Top-level names whose value changed (listen/admin need a restart). */
      changed: string[]
    }
  | { ok: false; error: Error }

function changedKeys(before: Config, after: Config): string[] {
  const keys = new Set([...Object.keys(before.options), ...Object.keys(after.options)])
  const out = [...keys].filter((k) => JSON.stringify(before.options[k]) !== JSON.stringify(after.options[k]))
  for (const k of ['listen', 'admin'] as const) if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) out.push(k)
  return out
}

/**
 * Loads the file, merges the flags over it, validates, and hands the result to `apply`
 * (gateway.reconfigure, for a reload). Reloads run one at a time, in the order asked.
 */
export class ConfigReloader {
  private config: Config | null = null
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    readonly file: string,
    private readonly apply: (config: Config) => void | Promise<void>,
    private readonly options: ConfigReloaderOptions = {},
  ) {}

  /** The configuration last applied; null before load(). */
  get current(): Config | null {
    return this.config
  }

  /** The first load, at startup: validated but not applied; throws ConfigError (startup must fail). */
  async load(): Promise<Config> {
    const config = await this.read()
    this.config = config
    return config
  }

  /** Re-read the file and apply it. Never rejects: a bad file or a failing apply keeps the old configuration. */
  reload(): Promise<ReloadResult> {
    const next = this.queue.then(() => this.reloadNow())
    this.queue = next
    return next
  }

  private async read(): Promise<Config> {
    const merged = mergeConfig(await loadConfigFile(this.file), this.options.flags ?? { options: {} })
    return validated(merged, this.file, this.options.validate)
  }

  private async reloadNow(): Promise<ReloadResult> {
    try {
      const config = await this.read()
      await this.apply(config)
      const changed = this.config === null ? [] : changedKeys(this.config, config)
      this.config = config
      return { ok: true, config, changed }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      this.options.log?.(`strictgate: reload refused, the configuration stays as it was: ${error.message}`)
      return { ok: false, error }
    }
  }
}
