// Start a gateway in front of an upstream for one test: listens on 127.0.0.1:0, records every
// GatewayError its onError hook sees (and the request head it came with), and is closed when the
// test ends. Tests wait for a reported code with `error(code)`: some codes (B5, CLIENT_ABORTED)
// are reported after the client already has its answer.

import type { Test } from 'tap'
import {
  createGateway,
  type ErrorCode,
  type Gateway,
  type GatewayError,
  type GatewayOptions,
  type RequestHead,
} from '../../src/index.js'
import type { ReadMessage } from './http-reader.js'
import { RawClient, rawRequest, WAIT_MS } from './raw-client.js'
import { trackGateway } from './resources.js'

export interface TestGateway {
  readonly gateway: Gateway
  readonly port: number
  /** Errors seen by onError, in order. */
  readonly errors: GatewayError[]
  /** The request head passed with each error (undefined when there was none). */
  readonly errorRequests: (RequestHead | undefined)[]
  /** Wait until onError saw `code`; resolves to that error. */
  error(code: ErrorCode, timeoutMs?: number): Promise<GatewayError>
  /** The codes seen so far. */
  codes(): ErrorCode[]
  connect(): Promise<RawClient>
  request(bytes: string | Buffer, opts?: { head?: boolean }): Promise<{ client: RawClient; response: ReadMessage }>
}

/** Bounded defaults so a failing test ends quickly; a test overrides what it exercises. */
export const TEST_TIMEOUTS = { shutdown: 3_000, connect: 3_000, response: 8_000, idle: 8_000, request: 8_000 }

export async function startGateway(
  t: Test,
  upstream: GatewayOptions['upstream'],
  options: Omit<GatewayOptions, 'upstream'> = {},
): Promise<TestGateway> {
  const errors: GatewayError[] = []
  const errorRequests: (RequestHead | undefined)[] = []
  const listeners = new Set<() => void>()
  const userHook = options.onError
  const gateway = createGateway({
    ...options,
    upstream,
    timeouts: { ...TEST_TIMEOUTS, ...options.timeouts },
    onError(err, req) {
      errors.push(err)
      errorRequests.push(req)
      for (const listener of [...listeners]) listener()
      return userHook?.(err, req)
    },
  })
  t.teardown(trackGateway(gateway, t.fullname))
  const { port } = await gateway.listen({ port: 0, host: '127.0.0.1' })
  return {
    gateway,
    port,
    errors,
    errorRequests,
    codes: () => errors.map((e) => e.code),
    error(code, timeoutMs = WAIT_MS) {
      return new Promise((resolve, reject) => {
        const listener = () => {
          const found = errors.find((e) => e.code === code)
          if (found === undefined) return
          clearTimeout(timer)
          listeners.delete(listener)
          resolve(found)
        }
        const timer = setTimeout(() => {
          listeners.delete(listener)
          reject(new Error(`timed out waiting for ${code}; onError saw [${errors.map((e) => e.code).join(', ')}]`))
        }, timeoutMs)
        listeners.add(listener)
        listener()
      })
    },
    connect: () => RawClient.connect(t, port),
    request: (bytes, opts) => rawRequest(t, port, bytes, opts),
  }
}
