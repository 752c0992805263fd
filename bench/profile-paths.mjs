// Node's own JavaScript functions on the socket write and read paths, by name, shared by the
// profile summaries (bench/profile-top.mjs for V8's --cpu-prof, bench/perf-split.mjs for perf).

// Node's JavaScript functions on the write path (lib/internal/streams/writable.js, lib/net.js,
// lib/internal/stream_base_commons.js).
export const WRITE_JS = new Set([
  'Writable.write',
  '_write',
  'writeOrBuffer',
  'Socket._write',
  'Socket._writev',
  'Socket._writeGeneric',
  'writeGeneric',
  'writevGeneric',
  'handleWriteReq',
  'createWriteWrap',
  'afterWriteDispatched',
  'onwrite',
  'afterWrite',
  'afterWriteTick',
  'Writable.cork',
  'Writable.uncork',
  'clearBuffer',
  'doWrite',
  'onWriteComplete',
  'Socket._unrefTimer',
])
// ... and on the 'data' read path (lib/internal/streams/readable.js, lib/net.js).
export const READ_JS = new Set([
  'Readable.push',
  'readableAddChunk',
  'readableAddChunkPushByteMode',
  'addChunk',
  'maybeReadMore',
  'maybeReadMore_',
  'Readable.read',
  'Socket.read',
  'Socket._read',
  'tryReadStart',
  'flow',
  'resume_',
  'Readable.resume',
  'Socket.resume',
  'Socket.pause',
  'Readable.pause',
  'emitReadable',
  'emitReadable_',
])
