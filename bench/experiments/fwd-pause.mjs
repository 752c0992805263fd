// Client-onread experiment (see _forward.mjs): client reads through onread, way 1 (pauseOnConnect + kBuffer).
import { forwardSystem } from './_forward.mjs'

export default forwardSystem(import.meta.url, { name: 'fwd-pause', order: 6.1, way: 'pause' })
