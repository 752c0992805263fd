// An API gateway: /api/... goes to the API service without its /api prefix and with the
// service's own Host; everything else goes to the web app as it came.
import { createGateway } from 'strictgate'

export async function start(web: string, api: string) {
  const gateway = createGateway({
    upstream: [web, api],
    route: (request) =>
      /^\/api(\/|\?|$)/.test(request.target)
        ? { target: api, path: request.target.replace(/^\/api\/?/, '/'), host: 'target' }
        : { target: web },
  })
  const address = await gateway.listen({ port: 0, host: '127.0.0.1' })
  return { url: `http://127.0.0.1:${address.port}`, close: () => gateway.close() }
}
