// Client-onread experiment (see _forward.mjs): client reads through 'data', as strictgate does today.
import { forwardSystem } from './_forward.mjs'

export default forwardSystem(import.meta.url, { name: 'fwd-data', order: 6, way: 'data' })
