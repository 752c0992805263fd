// Client-onread experiment (see _forward.mjs): client reads through onread, way 2 (re-wrapped handle).
import { forwardSystem } from './_forward.mjs'

export default forwardSystem(import.meta.url, { name: 'fwd-rewrap', order: 6.2, way: 'rewrap' })
