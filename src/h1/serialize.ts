// Heads on the way out: the received head's field lines are copied as raw byte ranges, minus
// the hop-by-hop fields (RFC 9110 §7.6.1) and the fields an edit replaces, plus the edit's lines
// and what the gateway adds (Via, framing, ...).

import type { HeadEdit } from './edits.js'
import { equalsIgnoringCase } from './grammar.js'
import {
  FieldKind,
  fieldName,
  fieldValue,
  type Head,
  isHopByHop,
  type RequestHead,
  type ResponseHead,
  type Trailer,
} from './head.js'

const CONNECTION_OPTIONS = new Set(['close', 'keep-alive', 'upgrade'])

/** Field names listed in Connection (besides its own options): also hop-by-hop. */
function connectionNamed(head: Head): Set<string> | null {
  let named: Set<string> | null = null
  for (const token of head.connection) {
    if (!CONNECTION_OPTIONS.has(token)) (named ??= new Set()).add(token)
  }
  return named
}

/** Which received fields go out, besides the end-to-end ones (flags). */
const enum Keep {
  EndToEnd = 0,
  /** Keep Upgrade (a requested upgrade, a 101). */
  Upgrade = 1,
  /** Drop Host (the gateway writes another: absolute-form target, a host edit). */
  DropHost = 2,
}

const enum Line {
  Copy = 0,
  Drop = 1,
  /** Name as received, value from the edit. */
  Replace = 2,
}

/** What build() does with each field line, reused from call to call: no array per head. */
let lineScratch = new Uint8Array(64)

/** Where a serialized head is built: a new Buffer of `size` bytes, or memory the caller reuses. */
export type Allocator = (size: number) => Buffer

/**
 * Marks in `lineScratch` what happens to each field line of `head` (Copy, Drop, Replace) and
 * returns how many are copied as they are.
 */
function markLines(head: Head, keep: Keep, edit: HeadEdit | null): number {
  const { raw, fields, kinds } = head
  const n = kinds.length
  const named = head.connection.length === 0 ? null : connectionNamed(head)
  const editDrop = edit?.drop ?? null
  const editValues = edit?.values ?? null
  if (lineScratch.length < n) lineScratch = new Uint8Array(Math.max(n, 2 * lineScratch.length))
  const line = lineScratch
  let copied = 0
  for (let i = 0; i < n; i++) {
    const kind = kinds[i]
    let drop =
      kind === FieldKind.ContentLength ||
      (isHopByHop(kind) && !(kind === FieldKind.Upgrade && (keep & Keep.Upgrade) !== 0)) ||
      (kind === FieldKind.Host && (keep & Keep.DropHost) !== 0)
    if (!drop && editDrop !== null) {
      // (Compared in place: no string per field.)
      const s = fields[4 * i]
      const e = fields[4 * i + 1]
      for (let d = 0; d < editDrop.length && !drop; d++) drop = equalsIgnoringCase(raw, s, e, editDrop[d])
    }
    if (!drop && named !== null)
      drop = named.has(raw.toString('latin1', fields[4 * i], fields[4 * i + 1]).toLowerCase())
    if (drop) line[i] = Line.Drop
    else if (editValues?.has(i) === true) line[i] = Line.Replace
    else {
      line[i] = Line.Copy
      copied++
    }
  }
  return copied
}

/**
 * Copies `prefix`, then `head.raw[rawFrom, rawTo)` (the rest of a status line), the kept field
 * lines of `head` (values replaced as `edit` says), the edit's lines and `suffix` into one
 * Buffer from `alloc`. `prefix` and `suffix` are latin1 strings. Content-Length is dropped too:
 * the caller writes the framing it chose.
 */
function build(
  head: Head,
  prefix: string,
  rawFrom: number,
  rawTo: number,
  keep: Keep,
  suffix: string,
  alloc: Allocator,
  edit: HeadEdit | null,
): Buffer {
  const { raw, fields } = head
  const n = head.kinds.length
  const copied = markLines(head, keep, edit)
  const line = lineScratch
  const values = edit?.values ?? null
  if (edit !== null) suffix = edit.lines + suffix
  let size = prefix.length + (rawTo - rawFrom) + suffix.length + 2
  for (let i = 0; i < n; i++) {
    if (line[i] === Line.Copy) size += (i + 1 < n ? fields[4 * (i + 1)] : raw.length - 2) - fields[4 * i]
    else if (line[i] === Line.Replace) {
      size += fields[4 * i + 1] - fields[4 * i] + 4 + ((values as ReadonlyMap<number, string>).get(i) as string).length
    }
  }
  const out = alloc(size)
  let pos = prefix.length === 0 ? 0 : out.write(prefix, 0, 'latin1')
  if (rawTo > rawFrom) pos += raw.copy(out, pos, rawFrom, rawTo)
  if (n > 0 && copied === n) {
    // Common case: every field line is kept as it is, one copy.
    pos += raw.copy(out, pos, fields[0], raw.length - 2)
  } else if (n > 0) {
    let runStart = -1
    for (let i = 0; i <= n; i++) {
      if (i < n && line[i] === Line.Copy) {
        if (runStart < 0) runStart = fields[4 * i]
        continue
      }
      if (runStart >= 0) {
        pos += raw.copy(out, pos, runStart, i < n ? fields[4 * i] : raw.length - 2)
        runStart = -1
      }
      if (i < n && line[i] === Line.Replace) {
        pos += raw.copy(out, pos, fields[4 * i], fields[4 * i + 1])
        pos += out.write(`: ${(values as ReadonlyMap<number, string>).get(i)}\r\n`, pos, 'latin1')
      }
    }
  }
  pos += out.write(suffix, pos, 'latin1')
  out[pos++] = 0x0d
  out[pos++] = 0x0a
  return pos === size ? out : out.subarray(0, pos)
}

/**
 * The fields a response relays as [name, value, name, value, ...] (latin1 strings, in order,
 * repeated names kept), for a client written through an API (node:http's ServerResponse) rather
 * than as bytes: what serializeResponseHead copies, values replaced as `edit` says, then the
 * edit's lines; not the framing nor what the gateway adds.
 */
export function relayedFields(head: ResponseHead, edit: HeadEdit | null = null): string[] {
  markLines(head, head.upgrade !== null ? Keep.Upgrade : Keep.EndToEnd, edit)
  const out: string[] = []
  for (let i = 0; i < head.kinds.length; i++) {
    const line = lineScratch[i]
    if (line === Line.Drop) continue
    out.push(fieldName(head, i), line === Line.Replace ? (edit?.values?.get(i) as string) : fieldValue(head, i))
  }
  if (edit !== null) {
    for (const l of edit.lines.split('\r\n')) {
      if (l === '') continue
      const colon = l.indexOf(':')
      out.push(l.slice(0, colon), l.slice(colon + 2))
    }
  }
  return out
}

/** The request-target to send upstream: origin-form (absolute-form is reduced to its path). */
export function originForm(head: RequestHead): string {
  const target = head.target
  if (target.charCodeAt(0) === 0x2f || target === '*') return target
  const afterScheme = target.indexOf('//') + 2
  const slash = target.slice(afterScheme).search(/[/?]/)
  if (slash < 0) return '/'
  const rest = target.slice(afterScheme + slash)
  return rest.charCodeAt(0) === 0x3f ? `/${rest}` : rest
}

/** How a request is reshaped on its way upstream (rewriting): each part null when unchanged. */
export interface RequestRewrite {
  /** The request-target (validated origin-form, or `*`). */
  readonly path: string | null
  /** The Host value (validated). */
  readonly host: string | null
  readonly edit: HeadEdit | null
}

/**
 * The request head sent upstream: HTTP/1.1 request line, end-to-end fields (as `rewrite` edits
 * them), then `extra` (field lines ending in CRLF: Via, X-Forwarded-*, framing, Connection, Host).
 * A Host the gateway writes (absolute-form, a host edit) comes first (RFC 9112 §3.2).
 */
export function serializeRequestHead(
  head: RequestHead,
  extra: string,
  alloc: Allocator = Buffer.allocUnsafe,
  rewrite: RequestRewrite | null = null,
): Buffer {
  const absolute = head.target.charCodeAt(0) !== 0x2f && head.target !== '*'
  const host = rewrite?.host ?? (absolute ? head.host : null)
  const keep = (head.upgrade.length > 0 ? Keep.Upgrade : Keep.EndToEnd) | (host !== null ? Keep.DropHost : 0)
  const edit = rewrite?.edit ?? null
  const path = rewrite?.path ?? null
  if (!absolute && path === null && host === null && head.minorVersion === 1) {
    // The request line goes as received: strict parsing admits exactly `method SP target SP
    // HTTP/1.1 CRLF` (method and target are latin1 strings: one character per byte).
    return build(head, '', 0, head.method.length + head.target.length + 12, keep, extra, alloc, edit)
  }
  let prefix = `${head.method} ${path ?? originForm(head)} HTTP/1.1\r\n`
  if (host !== null) prefix += `Host: ${host}\r\n`
  return build(head, prefix, 0, 0, keep, extra, alloc, edit)
}

/**
 * A response head relayed to the client: HTTP/1.1 status line as received, end-to-end fields (as
 * `edit` edits them), `extra`.
 */
export function serializeResponseHead(
  head: ResponseHead,
  extra: string,
  alloc: Allocator = Buffer.allocUnsafe,
  edit: HeadEdit | null = null,
): Buffer {
  const keep = head.upgrade !== null ? Keep.Upgrade : Keep.EndToEnd
  // An HTTP/1.1 status line goes as received, all of it; for HTTP/1.0, "HTTP/1.1" and then the
  // rest of the status line (" 200 OK\r\n") as received.
  if (head.minorVersion === 1) return build(head, '', 0, head.reasonEnd + 2, keep, extra, alloc, edit)
  return build(head, 'HTTP/1.1', 8, head.reasonEnd + 2, keep, extra, alloc, edit)
}

/** The last chunk of a chunked body, with no trailer section. */
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1')

/** The last chunk of a chunked body with `trailers` as its trailer section (RFC 9112 §7.1.2). */
export function serializeTrailers(trailers: readonly Trailer[]): Buffer {
  let t = '0\r\n'
  for (const [name, value] of trailers) t += `${name}: ${value}\r\n`
  return Buffer.from(`${t}\r\n`, 'latin1')
}
