import t from 'tap'
import { ERROR_CODES, GatewayError, proxyStatusFor, statusFor } from '../src/errors.js'

t.test('every code has a status and a Proxy-Status error type', async (t) => {
  for (const code of ERROR_CODES) {
    const status = statusFor(code)
    t.ok(status === 0 || (status >= 400 && status <= 599), `${code} status ${status}`)
    t.match(proxyStatusFor(code), /^[a-z_]+$/, `${code} proxy status`)
    const err = new GatewayError(code, 'x', { offset: 3 })
    t.equal(err.code, code)
    t.equal(err.offset, 3)
    t.equal(err.status, status)
  }
})
