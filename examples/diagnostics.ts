// Observability without hooks: node:diagnostics_channel.
import diagnostics from 'node:diagnostics_channel'
import type { ErrorMessage, ExchangeMessage } from 'strictgate'

export function subscribe(errors: string[], exchanges: string[]) {
  const onError = (message: unknown) => {
    const { error, request } = message as ErrorMessage
    errors.push(`${request?.target ?? '-'} ${error.code}`)
  }
  const onExchange = (message: unknown) => {
    const { request, status, durationMs } = message as ExchangeMessage
    exchanges.push(`${request.target} ${status} ${durationMs >= 0 ? 'timed' : ''}`)
  }
  diagnostics.subscribe('strictgate:error', onError)
  diagnostics.subscribe('strictgate:exchange', onExchange)
  return () => {
    diagnostics.unsubscribe('strictgate:error', onError)
    diagnostics.unsubscribe('strictgate:exchange', onExchange)
  }
}
