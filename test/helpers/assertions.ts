// Assertions shared by the integration tests: what a gateway-made error response must look like
// (RULES.md "The error response") and what an aborted relay must never look like.

import type { Test } from 'tap'
import { field, type ReadMessage, readMessage } from './http-reader.js'
import type { RawClient } from './raw-client.js'

/**
 * The gateway's own error response: status, `Proxy-Status: strictgate; error=<type>;
 * details="<code>"`, `Cache-Control: no-store`, a plain-text body with a correct Content-Length.
 */
export function assertErrorResponse(t: Test, response: ReadMessage, status: number, code: string, type: string): void {
  t.equal(response.status, status, `status ${status}`)
  t.equal(field(response.headers, 'proxy-status'), `strictgate; error=${type}; details="${code}"`, 'Proxy-Status')
  t.equal(field(response.headers, 'cache-control'), 'no-store', 'Cache-Control: no-store')
  t.equal(response.framing, 'length', 'framed by Content-Length')
  t.ok(response.complete, 'complete')
  t.match(field(response.headers, 'content-type') ?? '', /^text\/plain/, 'text/plain')
}

/**
 * After the final head was relayed, a failure aborts the client connection, and what arrived is
 * visibly incomplete: no terminal chunk, no padding, no byte the upstream did not send.
 *
 * The gateway resets (resetAndDestroy), but a client cannot always tell: when the RST arrives
 * right behind unread data, Linux reports end-of-file to the reader (tcp_recvmsg checks
 * SOCK_DONE before sk_err). So the ending is 'reset' or 'fin', and the incomplete message is what
 * shows the truncation; GatewayError.status 0 (asserted by the callers) shows the abort.
 */
export async function assertAborted(
  t: Test,
  client: RawClient,
  opts: { relayable: Buffer | string; declaredLength?: number },
): Promise<void> {
  const ending = await client.closed()
  t.ok(ending === 'reset' || ending === 'fin', `client connection aborted (${ending})`)
  const received = client.received
  const sent = typeof opts.relayable === 'string' ? Buffer.from(opts.relayable, 'latin1') : opts.relayable
  if (received.length === 0) {
    t.pass('nothing arrived before the reset')
    return
  }
  const read = readMessage(received, 0, { response: true, eof: true })
  if (read === null) {
    t.fail('no response head')
    return
  }
  const message = read.message
  t.notOk(message.complete, `the response is not complete (${message.framing})`)
  t.equal(read.end, received.length, 'nothing after the response')
  if (message.framing === 'chunked') t.notOk(received.includes('0\r\n\r\n'), 'no terminal chunk')
  if (message.framing === 'length' && opts.declaredLength !== undefined) {
    t.ok(message.body.length < opts.declaredLength, 'Content-Length body not padded')
  }
  // Never more, nor other, bytes than the upstream sent.
  t.ok(
    message.body.length <= sent.length && sent.subarray(0, message.body.length).equals(message.body),
    'body is a prefix of what the upstream sent',
  )
}
