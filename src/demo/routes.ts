// The demo upstream's routes: each answer is the exact bytes it writes, so the broken routes
// can break exactly one rule of RULES.md (the one named in `rule`).

export interface DemoRoute {
  path: string
  description: string
  /** The RULES.md row the route breaks, if any. */
  rule?: string
  /** What the gateway answers (for the index page and the README). */
  expect: string
}

/** How a route answers: bytes to write, then what to do with the connection. */
export type DemoAnswer =
  | { kind: 'bytes'; bytes: Buffer; after: 'keep' | 'end' | 'reset' }
  | { kind: 'delay'; ms: number; bytes: Buffer }
  | { kind: 'close' }

const text = (status: string, body: string, extra = ''): Buffer =>
  Buffer.from(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
  )

const raw = (s: string): Buffer => Buffer.from(s, 'latin1')

/** Longer than the demo gateway's response timeout (demo.ts), so /slow gets a 504. */
export const SLOW_MS = 3_000
export const DEMO_RESPONSE_TIMEOUT_MS = 1_500

export const ROUTES: readonly (DemoRoute & { answer: () => DemoAnswer })[] = [
  {
    path: '/hello',
    description: 'a small valid response (Content-Length)',
    expect: '200, relayed',
    answer: () => ({
      kind: 'bytes',
      bytes: text('200 OK', 'Hello from the strictgate demo upstream!\n'),
      after: 'keep',
    }),
  },
  {
    path: '/chunked',
    description: 'a valid chunked response with a chunk extension',
    expect: '200, relayed chunked (extensions dropped)',
    answer: () => ({
      kind: 'bytes',
      bytes: raw(
        'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n' +
          '7;note=demo\r\nchunked\r\n9\r\n response\r\n1\r\n\n\r\n0\r\n\r\n',
      ),
      after: 'keep',
    }),
  },
  {
    path: '/large',
    description: '1 MiB body',
    expect: '200, 1 MiB relayed without copying',
    answer: () => ({
      kind: 'bytes',
      bytes: Buffer.concat([
        raw('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n'),
        Buffer.alloc(1_048_576, 0x61),
      ]),
      after: 'keep',
    }),
  },
  {
    path: '/slow',
    description: `answers after ${SLOW_MS} ms, longer than the demo's response timeout`,
    expect: '504 UPSTREAM_RESPONSE_TIMEOUT',
    answer: () => ({ kind: 'delay', ms: SLOW_MS, bytes: text('200 OK', 'too late\n') }),
  },
  {
    path: '/broken/status-code',
    rule: 'S3',
    description: 'status code 999',
    expect: '502 UPSTREAM_INVALID_STATUS_CODE',
    answer: () => ({ kind: 'bytes', bytes: text('999 Nope', 'x\n'), after: 'keep' }),
  },
  {
    path: '/broken/version',
    rule: 'S1',
    description: 'HTTP/2.0 in an HTTP/1.1 status line',
    expect: '502 UPSTREAM_INVALID_VERSION',
    answer: () => ({ kind: 'bytes', bytes: raw('HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nx\n'), after: 'keep' }),
  },
  {
    path: '/broken/missing-reason-space',
    rule: 'S2',
    description: 'status line without the SP after the code',
    expect: '502 UPSTREAM_INVALID_STATUS_LINE',
    answer: () => ({ kind: 'bytes', bytes: raw('HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nx\n'), after: 'keep' }),
  },
  {
    path: '/broken/space-before-colon',
    rule: 'H1',
    description: 'whitespace between a field name and the colon',
    expect: '502 UPSTREAM_INVALID_HEADER',
    answer: () => ({ kind: 'bytes', bytes: raw('HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nx\n'), after: 'keep' }),
  },
  {
    path: '/broken/obs-fold',
    rule: 'H3',
    description: 'a field value folded onto a second line',
    expect: '502 UPSTREAM_INVALID_HEADER',
    answer: () => ({
      kind: 'bytes',
      bytes: raw('HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nx\n'),
      after: 'keep',
    }),
  },
  {
    path: '/broken/bare-lf',
    rule: 'H4',
    description: 'a field line ending in LF without CR',
    expect: '502 UPSTREAM_INVALID_HEADER',
    answer: () => ({
      kind: 'bytes',
      bytes: raw('HTTP/1.1 200 OK\r\nX-A: b\nContent-Length: 2\r\n\r\nx\n'),
      after: 'keep',
    }),
  },
  {
    path: '/broken/duplicate-content-length',
    rule: 'F1',
    description: 'two Content-Length fields',
    expect: '502 UPSTREAM_INVALID_CONTENT_LENGTH',
    answer: () => ({
      kind: 'bytes',
      bytes: raw('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nx\n'),
      after: 'keep',
    }),
  },
  {
    path: '/broken/content-length-and-chunked',
    rule: 'F2',
    description: 'Content-Length and Transfer-Encoding: chunked together',
    expect: '502 UPSTREAM_INVALID_FRAMING',
    answer: () => ({
      kind: 'bytes',
      bytes: raw('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nx\n\r\n0\r\n\r\n'),
      after: 'keep',
    }),
  },
  {
    path: '/broken/transfer-encoding-gzip',
    rule: 'F3',
    description: 'Transfer-Encoding other than chunked',
    expect: '502 UPSTREAM_INVALID_FRAMING',
    answer: () => ({
      kind: 'bytes',
      bytes: raw('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nx\n'),
      after: 'end',
    }),
  },
  {
    path: '/broken/truncated-body',
    rule: 'B3',
    description: 'Content-Length: 100, then 10 bytes and FIN',
    expect: 'head relayed, then the client connection is aborted',
    answer: () => ({
      kind: 'bytes',
      bytes: raw('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789'),
      after: 'end',
    }),
  },
  {
    path: '/broken/bad-chunk',
    rule: 'B1',
    description: 'a chunk size that is not hex',
    expect: 'head relayed, then the client connection is aborted (no terminal chunk)',
    answer: () => ({
      kind: 'bytes',
      bytes: raw('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nbroken\r\n0\r\n\r\n'),
      after: 'end',
    }),
  },
  {
    path: '/broken/close-before-head',
    description: 'closes the connection before sending anything',
    expect: '502 UPSTREAM_CLOSED',
    answer: () => ({ kind: 'close' }),
  },
  {
    path: '/broken/reset-mid-body',
    rule: 'B4',
    description: 'close-delimited body cut by a TCP reset',
    expect: 'head relayed, then the client connection is aborted',
    answer: () => ({ kind: 'bytes', bytes: raw('HTTP/1.1 200 OK\r\n\r\npartial body'), after: 'reset' }),
  },
]

export function indexPage(): Buffer {
  const rows = ROUTES.map(
    (r) =>
      `<tr><td><a href="${r.path}">${r.path}</a></td><td>${r.rule ?? ''}</td><td>${r.description}</td><td>${r.expect}</td></tr>`,
  ).join('\n')
  const body = `<!doctype html>
<html><head><meta charset="utf-8"><title>strictgate demo</title></head>
<body>
<h1>strictgate demo upstream</h1>
<p>Every route below is served through the gateway. Broken routes send raw bytes that break one rule of RULES.md; the gateway answers 502/504 or aborts instead of relaying them.</p>
<table border="1" cellpadding="4">
<tr><th>route</th><th>rule</th><th>what the upstream sends</th><th>what the gateway does</th></tr>
${rows}
</table>
</body></html>
`
  return Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

export function notFound(): Buffer {
  return text('404 Not Found', 'no such demo route; see /\n')
}
