// Observability without hooks: node:diagnostics_channel. One strictgate:exchange message per
// exchange carries what an access log line needs; its request is undefined when the exchange
// failed before a request head was complete (400, 408, a 503 at the connection limit...).
import diagnostics from 'node:diagnostics_channel'
import type { ErrorMessage, ExchangeMessage } from 'strictgate'

export function subscribe(errors: string[], exchanges: string[]) {
  const onError = (message: unknown) => {
    const { error, request } = message as ErrorMessage
    errors.push(`${request?.target ?? '-'} ${error.code}`)
  }
  const onExchange = (message: unknown) => {
    const { client, request, status, bytesSent, durationMs, upstream, error } = message as ExchangeMessage
    const line = [client, request?.method, request?.target, status, bytesSent, upstream, error?.code]
    exchanges.push(`${line.map((v) => v ?? '-').join(' ')} ${durationMs >= 0 ? 'timed' : ''}`)
  }
  diagnostics.subscribe('strictgate:error', onError)
  diagnostics.subscribe('strictgate:exchange', onExchange)
  return () => {
    diagnostics.unsubscribe('strictgate:error', onError)
    diagnostics.unsubscribe('strictgate:exchange', onExchange)
  }
}
