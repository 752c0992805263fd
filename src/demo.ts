// `strictgate/demo`: the demo upstream, for tests and for trying the gateway by hand.
export { type DemoUpstream, startDemoUpstream } from './demo/demo-upstream.js'
export { DEMO_RESPONSE_TIMEOUT_MS, type DemoRoute, ROUTES, SLOW_MS } from './demo/routes.js'
