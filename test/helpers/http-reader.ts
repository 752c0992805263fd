// A small, independent HTTP/1.1 message reader for tests: what a client (or an upstream) of the
// gateway actually received, decoded without any code from src/. It is deliberately strict about
// framing so that a gateway bug (a missing terminal chunk, a padded body) shows as `complete:
// false` or a thrown error rather than being papered over.

export type Fields = [name: string, value: string][]

export interface ReadMessage {
  /** The start line, without CRLF. */
  startLine: string
  /** Response status (0 for requests). */
  status: number
  headers: Fields
  body: Buffer
  trailers: Fields
  /** How the body was delimited on the wire. */
  framing: 'none' | 'length' | 'chunked' | 'close'
  /** The message ended where its framing says (false: cut short by the end of the input). */
  complete: boolean
  /** The exact bytes of the message. */
  raw: Buffer
}

export class MalformedMessage extends Error {}

/** Strip OWS (SP / HTAB only: String.prototype.trim would also eat obs-text such as 0xA0). */
export const trimOws = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '')

const CRLFCRLF = Buffer.from('\r\n\r\n')

/** All values of a field (case-insensitive name). */
export function fieldValues(headers: Fields, name: string): string[] {
  const lower = name.toLowerCase()
  return headers.filter(([n]) => n.toLowerCase() === lower).map(([, v]) => v)
}

/** The single value of a field, undefined when absent; throws when repeated. */
export function field(headers: Fields, name: string): string | undefined {
  const values = fieldValues(headers, name)
  if (values.length > 1) throw new MalformedMessage(`${name} appears ${values.length} times`)
  return values[0]
}

/** Comma-separated list members of every line of a field, lowercased. */
export function listField(headers: Fields, name: string): string[] {
  return fieldValues(headers, name)
    .flatMap((v) => v.split(','))
    .map((v) => trimOws(v).toLowerCase())
    .filter((v) => v !== '')
}

function parseFields(lines: string[]): Fields {
  const out: Fields = []
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0 || /[ \t]/.test(line.slice(0, colon))) throw new MalformedMessage(`bad field line ${line}`)
    out.push([line.slice(0, colon), trimOws(line.slice(colon + 1))])
  }
  return out
}

export interface ReadOptions {
  /** Parse a response (true) or a request (false). */
  response: boolean
  /** Responses: the request was HEAD (no body whatever the fields say). */
  head?: boolean
  /** No more bytes will come: a close-delimited body ends here; anything unfinished is incomplete. */
  eof?: boolean
  /** Read the head only (the body, if any, is left unread: `body` empty, `complete` false). */
  headOnly?: boolean
}

/**
 * Read one message from `buf` at `start`. Returns the message and where it ended, or null when
 * more bytes are needed (never null with `eof`: then an unfinished message is `complete: false`).
 */
export function readMessage(
  buf: Buffer,
  start: number,
  opts: ReadOptions,
): { message: ReadMessage; end: number } | null {
  const headEnd = buf.indexOf(CRLFCRLF, start)
  if (headEnd < 0) {
    if (!opts.eof || start >= buf.length) return null
    throw new MalformedMessage(`input ended inside a head: ${JSON.stringify(buf.toString('latin1', start))}`)
  }
  const headText = buf.toString('latin1', start, headEnd)
  if (/\r(?!\n)|(?<!\r)\n/.test(`${headText}\r\n`)) throw new MalformedMessage('bare CR or LF in a head')
  const [startLine, ...lines] = headText.split('\r\n')
  const headers = parseFields(lines)
  let status = 0
  if (opts.response) {
    const m = /^HTTP\/1\.[01] (\d{3}) [\t -~\x80-\xff]*$/.exec(startLine)
    if (m === null) throw new MalformedMessage(`bad status line ${JSON.stringify(startLine)}`)
    status = Number(m[1])
  }
  let pos = headEnd + 4
  const te = listField(headers, 'transfer-encoding')
  const cl = fieldValues(headers, 'content-length')
  if (te.length > 0 && cl.length > 0) throw new MalformedMessage('Transfer-Encoding and Content-Length')
  if (cl.length > 1) throw new MalformedMessage('more than one Content-Length')
  const noBody = opts.response && (opts.head === true || status < 200 || status === 204 || status === 304)
  const done = (
    framing: ReadMessage['framing'],
    body: Buffer,
    complete: boolean,
    end: number,
    trailers: Fields = [],
  ) => ({
    message: { startLine, status, headers, body, trailers, framing, complete, raw: buf.subarray(start, end) },
    end,
  })
  if (noBody) return done('none', Buffer.alloc(0), true, pos)
  if (opts.headOnly)
    return done(te.length > 0 ? 'chunked' : cl.length > 0 ? 'length' : 'none', Buffer.alloc(0), false, pos)
  if (te.length > 0) {
    if (te.length !== 1 || te[0] !== 'chunked') throw new MalformedMessage(`Transfer-Encoding ${te.join(',')}`)
    const pieces: Buffer[] = []
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos, 'latin1')
      if (lineEnd < 0) return opts.eof ? done('chunked', Buffer.concat(pieces), false, buf.length) : null
      const sizeText = buf.toString('latin1', pos, lineEnd)
      const m = /^([0-9a-fA-F]+)(;.*)?$/.exec(sizeText)
      if (m === null) throw new MalformedMessage(`bad chunk size line ${JSON.stringify(sizeText)}`)
      const size = Number.parseInt(m[1], 16)
      if (size === 0) {
        const trailerEnd = buf.indexOf('\r\n', lineEnd + 2, 'latin1')
        if (buf.length >= lineEnd + 4 && buf[lineEnd + 2] === 0x0d && buf[lineEnd + 3] === 0x0a) {
          return done('chunked', Buffer.concat(pieces), true, lineEnd + 4)
        }
        const sectionEnd = buf.indexOf(CRLFCRLF, lineEnd)
        if (trailerEnd < 0 || sectionEnd < 0) {
          return opts.eof ? done('chunked', Buffer.concat(pieces), false, buf.length) : null
        }
        const trailers = parseFields(buf.toString('latin1', lineEnd + 2, sectionEnd).split('\r\n'))
        return done('chunked', Buffer.concat(pieces), true, sectionEnd + 4, trailers)
      }
      if (buf.length < lineEnd + 2 + size + 2) {
        if (!opts.eof) return null
        pieces.push(buf.subarray(lineEnd + 2, Math.min(buf.length, lineEnd + 2 + size)))
        return done('chunked', Buffer.concat(pieces), false, buf.length)
      }
      pieces.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size))
      if (buf[lineEnd + 2 + size] !== 0x0d || buf[lineEnd + 3 + size] !== 0x0a) {
        throw new MalformedMessage('chunk data not followed by CRLF')
      }
      pos = lineEnd + 4 + size
    }
  }
  if (cl.length === 1) {
    if (!/^\d+$/.test(cl[0])) throw new MalformedMessage(`bad Content-Length ${cl[0]}`)
    const length = Number(cl[0])
    if (buf.length - pos < length) {
      return opts.eof ? done('length', buf.subarray(pos), false, buf.length) : null
    }
    return done('length', buf.subarray(pos, pos + length), true, pos + length)
  }
  if (!opts.response) return done('none', Buffer.alloc(0), true, pos)
  // Close-delimited: complete only when the input ended (the caller tells how it ended).
  return opts.eof ? done('close', buf.subarray(pos), true, buf.length) : null
}
