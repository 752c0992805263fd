// The error codes are public API (README "Error codes", docs/RULES.md): every code, the status the
// client gets, its RFC 9209 Proxy-Status error type and its source, written out here as one table,
// so that changing, adding or removing a code is a visible change to this file.

import { readFileSync } from 'node:fs'
import t from 'tap'
import { ERROR_CODES, type ErrorCode, GatewayError, proxyStatusFor, sourceFor, statusFor } from '../src/errors.js'

// code, status (0: the client connection is aborted, there is no response), Proxy-Status error type, source
const TABLE: [code: string, status: number, proxyStatus: string, source: string][] = [
  ['UPSTREAM_INVALID_VERSION', 502, 'http_protocol_error', 'upstream'],
  ['UPSTREAM_INVALID_STATUS_LINE', 502, 'http_protocol_error', 'upstream'],
  ['UPSTREAM_INVALID_STATUS_CODE', 502, 'http_protocol_error', 'upstream'],
  ['UPSTREAM_INVALID_HEADER', 502, 'http_protocol_error', 'upstream'],
  ['UPSTREAM_HEADERS_TOO_LARGE', 502, 'http_response_header_section_size', 'upstream'],
  ['UPSTREAM_INVALID_CONTENT_LENGTH', 502, 'http_protocol_error', 'upstream'],
  ['UPSTREAM_INVALID_FRAMING', 502, 'http_protocol_error', 'upstream'],
  ['UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING', 502, 'http_response_transfer_coding', 'upstream'],
  ['UPSTREAM_INVALID_UPGRADE', 502, 'http_upgrade_failed', 'upstream'],
  ['UPSTREAM_INVALID_CHUNK', 502, 'http_protocol_error', 'upstream'],
  ['UPSTREAM_TRUNCATED_BODY', 502, 'http_response_incomplete', 'upstream'],
  ['UPSTREAM_EXTRA_DATA', 502, 'http_protocol_error', 'upstream'],
  ['UPSTREAM_CONNECT_REFUSED', 502, 'connection_refused', 'upstream'],
  ['UPSTREAM_DNS_ERROR', 502, 'dns_error', 'upstream'],
  ['UPSTREAM_UNREACHABLE', 502, 'destination_unavailable', 'upstream'],
  ['UPSTREAM_CONNECT_TIMEOUT', 504, 'connection_timeout', 'upstream'],
  ['UPSTREAM_CLOSED', 502, 'connection_terminated', 'upstream'],
  ['UPSTREAM_RESPONSE_TIMEOUT', 504, 'http_response_timeout', 'upstream'],
  ['UPSTREAM_IDLE_TIMEOUT', 504, 'connection_read_timeout', 'upstream'],
  ['UPSTREAM_UNAVAILABLE', 502, 'destination_unavailable', 'upstream'],
  ['UPSTREAM_TLS_ERROR', 502, 'tls_protocol_error', 'upstream'],
  ['UPSTREAM_TLS_CERTIFICATE_ERROR', 502, 'tls_certificate_error', 'upstream'],
  ['CLIENT_INVALID_REQUEST', 400, 'http_request_error', 'client'],
  ['CLIENT_UNSUPPORTED_METHOD', 501, 'http_request_error', 'client'],
  ['CLIENT_UNSUPPORTED_VERSION', 505, 'http_request_error', 'client'],
  ['CLIENT_INVALID_HEADER', 400, 'http_request_error', 'client'],
  ['CLIENT_HEADERS_TOO_LARGE', 431, 'http_request_error', 'client'],
  ['CLIENT_URI_TOO_LONG', 414, 'http_request_error', 'client'],
  ['CLIENT_INVALID_FRAMING', 400, 'http_request_error', 'client'],
  ['CLIENT_UNSUPPORTED_TRANSFER_ENCODING', 501, 'http_request_error', 'client'],
  ['CLIENT_BODY_TOO_LARGE', 413, 'http_request_error', 'client'],
  ['CLIENT_TIMEOUT', 408, 'http_request_error', 'client'],
  ['CLIENT_ABORTED', 0, 'http_request_error', 'client'],
  ['GATEWAY_CONNECTION_LIMIT', 503, 'connection_limit_reached', 'gateway'],
  ['GATEWAY_SOCKET_ERROR', 502, 'proxy_internal_error', 'gateway'],
  ['GATEWAY_INTERNAL_ERROR', 502, 'proxy_internal_error', 'gateway'],
  ['GATEWAY_BODY_CONSUMED', 500, 'proxy_internal_error', 'gateway'],
]

t.test('the error-code table: every code, its status, Proxy-Status error type and source', async (t) => {
  t.same(
    [...ERROR_CODES],
    TABLE.map(([code]) => code),
    'exactly these codes, in this order',
  )
  t.same(
    ERROR_CODES.map((code) => [code, statusFor(code), proxyStatusFor(code), sourceFor(code)]),
    TABLE,
    'each with this status, Proxy-Status error type and source',
  )
})

t.test('a GatewayError carries its code, its row of the table, and an offset or status given', async (t) => {
  for (const [code, status, proxyStatus, source] of TABLE) {
    const err = new GatewayError(code as ErrorCode, 'x', { offset: 3 })
    t.same(
      [err.code, err.status, err.proxyStatus, err.source, err.offset, err.name],
      [code, status, proxyStatus, source, 3, 'GatewayError'],
      code,
    )
  }
  const aborted = new GatewayError('UPSTREAM_TRUNCATED_BODY', 'cut', { status: 0 })
  t.equal(aborted.status, 0, 'status given: what the client got (0: aborted)')
  t.equal(aborted.offset, undefined, 'no offset unless given')
})

t.test("the README's error-code table says the same", async (t) => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
  const rows = [...readme.matchAll(/^\| `([A-Z_]+)` \| (\d{3}|abort) \| `([a-z_]+)` \|/gm)].map((m) => [
    m[1],
    m[2] === 'abort' ? 0 : Number(m[2]),
    m[3],
  ])
  t.same(
    rows,
    TABLE.map(([code, status, proxyStatus]) => [code, status, proxyStatus]),
    'README "Error codes": the same codes, statuses and Proxy-Status types, in the same order',
  )
})
