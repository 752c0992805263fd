// The wasm binding (src/h1/llhttp.ts): one shared instance, re-entry refused, callback
// exceptions carried out of wasm and rethrown, spans as offsets into the caller's Buffer, and
// one total table from llhttp's errno to our codes.

import t from 'tap'
import { ERROR_CODES, isErrorCode } from '../../src/errors.js'
import { REQUEST_CODES, RESPONSE_CODES } from '../../src/h1/codes.js'
import { Errno, Llhttp, type LlhttpCallbacks, ParserType, Phase, Span, violationFor } from '../../src/h1/llhttp.js'

interface Recorded {
  spans: [Span, string][]
  heads: number
  messages: number
}

/** Callbacks that record spans (decoded from `buf`) and stop after each message, like the parsers do. */
function recorder(buf: () => Buffer, extra: Partial<LlhttpCallbacks> = {}): LlhttpCallbacks & Recorded {
  const r: LlhttpCallbacks & Recorded = {
    spans: [],
    heads: 0,
    messages: 0,
    onSpan(kind, start, end) {
      const last = r.spans[r.spans.length - 1]
      const text = buf().toString('latin1', start, end)
      if (last !== undefined && last[0] === kind) last[1] += text
      else r.spans.push([kind, text])
      return 0
    },
    onHeadersComplete() {
      r.heads++
      return 0
    },
    onMessageComplete() {
      r.messages++
      return Errno.PAUSED
    },
    ...extra,
  }
  return r
}

const REQUEST = Buffer.from(
  'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
  'latin1',
)

t.test('spans are offsets into the caller Buffer, also from a start offset', async (t) => {
  const buf = Buffer.concat([Buffer.from('junk!', 'latin1'), REQUEST])
  const cb = recorder(() => buf)
  const ll = new Llhttp(ParserType.Request, cb)
  t.equal(ll.execute(buf, 5, buf.length), Errno.PAUSED, 'paused after the message')
  t.equal(ll.pos, buf.length, 'stopped right after the message')
  t.equal(ll.reason, '')
  t.same(cb.spans, [
    [Span.Url, '/p'],
    [Span.HeaderField, 'Host'],
    [Span.HeaderValue, 'a'],
    [Span.HeaderField, 'Transfer-Encoding'],
    [Span.HeaderValue, 'chunked'],
    [Span.Body, 'abc'],
  ])
  t.equal(cb.heads, 1)
  t.equal(cb.messages, 1)
  ll.destroy()
})

t.test('chunks larger than the scratch area grow it', async (t) => {
  for (const size of [40_000, 70_000, 1_000]) {
    const data = Buffer.alloc(size, 0x61)
    const buf = Buffer.concat([
      Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n`, 'latin1'),
      data,
      Buffer.from('\r\n0\r\n\r\n', 'latin1'),
    ])
    const bodies: Buffer[] = []
    const ll = new Llhttp(ParserType.Response, {
      onSpan: (kind, start, end) => {
        if (kind === Span.Body) bodies.push(buf.subarray(start, end))
        return 0
      },
      onHeadersComplete: () => 0,
      onMessageComplete: () => Errno.PAUSED,
    })
    t.equal(ll.execute(buf, 0, buf.length), Errno.PAUSED, `${size} bytes parsed`)
    t.ok(Buffer.concat(bodies).equals(data), 'body spans cover the data exactly')
    ll.destroy()
  }
})

t.test('nested execute is rejected and the parser stays usable', async (t) => {
  const other = new Llhttp(
    ParserType.Request,
    recorder(() => REQUEST),
  )
  let self: Llhttp | undefined
  const inner: Error[] = []
  const cb = recorder(() => REQUEST, {
    onHeadersComplete() {
      try {
        ;(self as Llhttp).execute(REQUEST, 0, REQUEST.length)
      } catch (error) {
        inner.push(error as Error)
      }
      // The same shared wasm instance: another parser is refused too.
      other.execute(REQUEST, 0, REQUEST.length)
      return 0
    },
  })
  const ll = new Llhttp(ParserType.Request, cb)
  self = ll
  t.throws(() => ll.execute(REQUEST, 0, REQUEST.length), /llhttp: nested execute/, 'execute inside a callback throws')
  t.match(inner[0]?.message, /llhttp: nested execute/, 'the nested call itself threw')
  t.throws(() => ll.execute(REQUEST, 0, REQUEST.length), /llhttp: nested execute/, 'again on the next message')
  // Without the re-entering callback the parser (and the other one) parse normally.
  const plain = recorder(() => REQUEST)
  const ll2 = new Llhttp(ParserType.Request, plain)
  t.equal(ll2.execute(REQUEST, 0, REQUEST.length), Errno.PAUSED)
  t.equal(other.execute(REQUEST, 0, REQUEST.length), Errno.PAUSED, 'the other parser was not disturbed')
  t.equal(plain.messages, 1)
  const nestedFinish = new Llhttp(ParserType.Response, {
    onSpan: () => 0,
    onHeadersComplete: () => 0,
    onMessageComplete: () => {
      nestedFinish.finish()
      return 0
    },
  })
  const close = Buffer.from('HTTP/1.1 200 OK\r\n\r\nbody', 'latin1')
  t.equal(nestedFinish.execute(close, 0, close.length), Errno.OK)
  t.throws(() => nestedFinish.finish(), /llhttp: nested finish/, 'finish inside a callback throws')
  for (const p of [ll, ll2, other, nestedFinish]) p.destroy()
})

t.test("a callback's exception is rethrown after execute and the parser stays usable", async (t) => {
  const boom = new Error('boom')
  for (const where of ['span', 'headers', 'message'] as const) {
    let armed = true
    const cb = recorder(() => REQUEST, {
      onSpan(kind) {
        if (armed && where === 'span' && kind === Span.HeaderValue) throw boom
        return 0
      },
      onHeadersComplete() {
        if (armed && where === 'headers') throw boom
        return 0
      },
      onMessageComplete() {
        if (armed && where === 'message') throw boom
        cb.messages++
        return Errno.PAUSED
      },
    })
    const ll = new Llhttp(ParserType.Request, cb)
    t.throws(() => ll.execute(REQUEST, 0, REQUEST.length), boom, `thrown from ${where}, rethrown as is`)
    armed = false
    t.equal(ll.execute(REQUEST, 0, REQUEST.length), Errno.PAUSED, `after a throw in ${where}, the next message parses`)
    t.equal(cb.messages, 1)
    ll.destroy()
  }
})

t.test("a callback's exception during finish is rethrown and the parser stays usable", async (t) => {
  const boom = new Error('boom at EOF')
  let armed = true
  let messages = 0
  const ll = new Llhttp(ParserType.Response, {
    onSpan: () => 0,
    onHeadersComplete: () => 0,
    onMessageComplete: () => {
      if (armed) throw boom
      messages++
      return Errno.PAUSED
    },
  })
  // A close-delimited body ends at EOF: llhttp calls on_message_complete from llhttp_finish.
  const close = Buffer.from('HTTP/1.1 200 OK\r\n\r\nbody', 'latin1')
  t.equal(ll.execute(close, 0, close.length), Errno.OK)
  t.throws(() => ll.finish(), boom)
  armed = false
  ll.reset()
  const cl = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'latin1')
  t.equal(ll.execute(cl, 0, cl.length), Errno.PAUSED, 'the next message parses')
  t.equal(messages, 1)
  ll.destroy()
})

t.test('errors carry llhttp errno, position and reason; finish reports an unfinished message', async (t) => {
  const ll = new Llhttp(
    ParserType.Response,
    recorder(() => Buffer.alloc(0)),
  )
  const bad = Buffer.from('HTTP/1.1 200 OK\r\nA B: c\r\n\r\n', 'latin1')
  t.equal(ll.execute(bad, 0, bad.length), Errno.INVALID_HEADER_TOKEN)
  t.equal(ll.pos, 18)
  t.match(ll.reason, /header/i)
  ll.reset()
  const partial = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', 'latin1')
  const ll2 = new Llhttp(
    ParserType.Response,
    recorder(() => partial),
  )
  t.equal(ll2.execute(partial, 0, partial.length), Errno.OK)
  t.equal(ll2.pos, partial.length)
  t.equal(ll2.finish(), Errno.INVALID_EOF_STATE)
  t.match(ll2.reason, /./)
  ll.destroy()
  ll2.destroy()
})

t.test('every llhttp errno, in a head and in a body, maps to a code of the right side', async (t) => {
  let checked = 0
  for (let errno = 0; errno <= 40; errno++) {
    for (const phase of [Phase.Head, Phase.Body]) {
      const violation = violationFor(errno, phase)
      for (const [codes, side] of [
        [RESPONSE_CODES, 'UPSTREAM'],
        [REQUEST_CODES, 'CLIENT'],
      ] as const) {
        const code = codes[violation]
        if (!isErrorCode(code)) t.fail(`errno ${errno} phase ${phase} → ${String(code)}`)
        const prefix = code.slice(0, code.indexOf('_'))
        if (prefix !== 'GATEWAY' && prefix !== side) t.fail(`errno ${errno}: ${code} is from the wrong side`)
        checked++
      }
    }
  }
  t.equal(checked, 41 * 4, 'all combinations mapped to a code of ERROR_CODES')
  t.ok(ERROR_CODES.length > 0)
  // The table's meaning, spot-checked.
  const code = (errno: number, type: ParserType, phase: Phase) =>
    (type === ParserType.Response ? RESPONSE_CODES : REQUEST_CODES)[violationFor(errno, phase)]
  const R = ParserType.Response
  const Q = ParserType.Request
  t.equal(code(Errno.INVALID_VERSION, R, Phase.Head), 'UPSTREAM_INVALID_VERSION')
  t.equal(code(Errno.INVALID_VERSION, Q, Phase.Head), 'CLIENT_UNSUPPORTED_VERSION')
  t.equal(code(Errno.INVALID_METHOD, Q, Phase.Head), 'CLIENT_UNSUPPORTED_METHOD')
  t.equal(code(Errno.INVALID_HEADER_TOKEN, R, Phase.Head), 'UPSTREAM_INVALID_HEADER')
  t.equal(code(Errno.INVALID_CONTENT_LENGTH, Q, Phase.Head), 'CLIENT_INVALID_FRAMING')
  t.equal(code(Errno.INVALID_TRANSFER_ENCODING, Q, Phase.Head), 'CLIENT_UNSUPPORTED_TRANSFER_ENCODING')
  t.equal(code(Errno.INVALID_TRANSFER_ENCODING, R, Phase.Head), 'UPSTREAM_UNSUPPORTED_TRANSFER_ENCODING')
  t.equal(code(Errno.INVALID_CHUNK_SIZE, R, Phase.Body), 'UPSTREAM_INVALID_CHUNK')
  t.equal(code(Errno.INVALID_CHUNK_SIZE, Q, Phase.Body), 'CLIENT_INVALID_FRAMING')
  t.equal(code(Errno.INVALID_EOF_STATE, R, Phase.Body), 'UPSTREAM_TRUNCATED_BODY')
  t.equal(code(Errno.INVALID_EOF_STATE, Q, Phase.Body), 'CLIENT_ABORTED')
  t.equal(code(Errno.OK, R, Phase.Head), 'GATEWAY_INTERNAL_ERROR', 'no error is not a rule')
  t.equal(code(Errno.USER, R, Phase.Head), 'GATEWAY_INTERNAL_ERROR')
  t.equal(code(40, Q, Phase.Head), 'GATEWAY_INTERNAL_ERROR')
})
