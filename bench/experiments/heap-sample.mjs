// Preload (node --import ./bench/experiments/heap-sample.mjs ...): V8's sampling heap profiler
// over a window the driver chooses, counting objects the GC already collected too (what a
// request allocates and drops is exactly what we look for; `node --heap-prof` keeps only the
// objects still alive at exit). SIGUSR2 starts sampling; the next SIGUSR2 stops it and writes
// $HEAP_SAMPLE_OUT (default heap-<pid>.heapprofile). See heap-record.sh and bench/heap-top.mjs.

import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'

const INTERVAL = Number(process.env.HEAP_SAMPLE_INTERVAL ?? 1024) // bytes between samples (mean)
const out = process.env.HEAP_SAMPLE_OUT ?? `heap-${process.pid}.heapprofile`
const session = new Session()
session.connect()
let sampling = false

process.on('SIGUSR2', () => {
  if (!sampling) {
    session.post('HeapProfiler.enable')
    session.post('HeapProfiler.startSampling', {
      samplingInterval: INTERVAL,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    })
    sampling = true
    return
  }
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err) throw err
    writeFileSync(out, JSON.stringify({ interval: INTERVAL, ...result.profile }))
    sampling = false
    process.stderr.write(`heap-sample: wrote ${out}\n`)
  })
})
