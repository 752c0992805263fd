// A custom error page: onError observes every failure and may replace the response.
import { createGateway } from 'strictgate'

export async function start(upstream: string, log: string[]) {
  const gateway = createGateway({
    upstream,
    onError(err, request) {
      log.push(`${request?.method ?? '-'} ${request?.target ?? '-'} ${err.code} ${err.status}`)
      if (err.status === 502) {
        return {
          headers: { 'Content-Type': 'text/html; charset=utf-8' },
          body: `<h1>Upstream trouble</h1><p>${err.code}</p>\n`,
        }
      }
    },
  })
  const address = await gateway.listen({ port: 0, host: '127.0.0.1' })
  return { url: `http://127.0.0.1:${address.port}`, close: () => gateway.close() }
}
