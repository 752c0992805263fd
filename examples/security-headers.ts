// Every response gains security headers and loses Server, whatever the upstream sent.
import { createGateway } from 'strictgate'

export async function start(upstream: string) {
  const gateway = createGateway({
    upstream,
    onResponse: () => ({
      headers: {
        Server: null,
        'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
        'X-Content-Type-Options': 'nosniff',
        'X-Frame-Options': 'DENY',
      },
    }),
  })
  const address = await gateway.listen({ port: 0, host: '127.0.0.1' })
  return { url: `http://127.0.0.1:${address.port}`, close: () => gateway.close() }
}
