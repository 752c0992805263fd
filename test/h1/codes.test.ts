// Which code each rule violation gets in each direction (src/h1/codes.ts), pinned as one table:
// the codes are public API, so a change here must be a visible change of this test.
import t from 'tap'
import { REQUEST_CODES, RESPONSE_CODES, Violation } from '../../src/h1/codes.js'

const TABLE: [Violation, string, string, string][] = [
  // violation, name, upstream response, client request
  [Violation.StartLine, 'StartLine', 'UPSTREAM_INVALID_STATUS_LINE', 'CLIENT_INVALID_REQUEST'],
  [Violation.Version, 'Version', 'UPSTREAM_INVALID_VERSION', 'CLIENT_UNSUPPORTED_VERSION'],
  [Violation.StatusCode, 'StatusCode', 'UPSTREAM_INVALID_STATUS_CODE', 'CLIENT_INVALID_REQUEST'],
  [Violation.Method, 'Method', 'UPSTREAM_INVALID_STATUS_LINE', 'CLIENT_UNSUPPORTED_METHOD'],
  [Violation.Target, 'Target', 'UPSTREAM_INVALID_STATUS_LINE', 'CLIENT_INVALID_REQUEST'],
  [Violation.TargetTooLong, 'TargetTooLong', 'UPSTREAM_INVALID_STATUS_LINE', 'CLIENT_URI_TOO_LONG'],
  [Violation.Field, 'Field', 'UPSTREAM_INVALID_HEADER', 'CLIENT_INVALID_HEADER'],
  [Violation.HeadTooLarge, 'HeadTooLarge', 'UPSTREAM_HEADERS_TOO_LARGE', 'CLIENT_HEADERS_TOO_LARGE'],
  [Violation.ContentLength, 'ContentLength', 'UPSTREAM_INVALID_CONTENT_LENGTH', 'CLIENT_INVALID_FRAMING'],
  [Violation.Framing, 'Framing', 'UPSTREAM_INVALID_FRAMING', 'CLIENT_INVALID_FRAMING'],
  [
    Violation.TransferCoding,
    'TransferCoding',
    'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING',
    'CLIENT_UNSUPPORTED_TRANSFER_ENCODING',
  ],
  [Violation.Upgrade, 'Upgrade', 'UPSTREAM_INVALID_UPGRADE', 'CLIENT_INVALID_HEADER'],
  // Also a trailer section over the head limits: 400 in a request (RULES.md client table, B2).
  [Violation.Chunk, 'Chunk', 'UPSTREAM_INVALID_CHUNK', 'CLIENT_INVALID_FRAMING'],
  [Violation.BodyTooLarge, 'BodyTooLarge', 'GATEWAY_INTERNAL_ERROR', 'CLIENT_BODY_TOO_LARGE'],
  [Violation.ClosedInHead, 'ClosedInHead', 'UPSTREAM_CLOSED', 'CLIENT_ABORTED'],
  [Violation.ClosedInBody, 'ClosedInBody', 'UPSTREAM_TRUNCATED_BODY', 'CLIENT_ABORTED'],
  [Violation.ExtraData, 'ExtraData', 'UPSTREAM_EXTRA_DATA', 'CLIENT_INVALID_REQUEST'],
  [Violation.Internal, 'Internal', 'GATEWAY_INTERNAL_ERROR', 'GATEWAY_INTERNAL_ERROR'],
]

t.test('one code per violation and direction', async (t) => {
  t.equal(Object.keys(RESPONSE_CODES).length, TABLE.length, 'every violation of the response table is pinned')
  t.equal(Object.keys(REQUEST_CODES).length, TABLE.length, 'every violation of the request table is pinned')
  for (const [v, name, response, request] of TABLE) {
    t.equal(RESPONSE_CODES[v], response, `${name}, upstream response`)
    t.equal(REQUEST_CODES[v], request, `${name}, client request`)
  }
})
