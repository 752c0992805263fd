// A one-shot timeout that is cheap to re-arm, for the timeouts the gateway moves on every
// request (request head, keep-alive idle, response head, pooled connection idle).
//
// Re-arming a Node timer per request costs a clearTimeout and a new Timeout object each time,
// several times per request. Here `arm` only
// stores a deadline; the one underlying Timeout is created, or replaced, only when the new
// deadline is earlier than the moment it will fire at. A Timeout that fires before the current
// deadline (the deadline moved later, or was disarmed and armed again) re-arms for the rest, so
// the callback runs at the deadline, as a fresh setTimeout would.

export class Deadline {
  /** When the callback is due (Date.now() time); 0: disarmed. */
  private at = 0
  /** The duration last armed: bounds a re-arm if the wall clock steps back. */
  private ms = 0
  /** When the pending Timeout fires; meaningful while `timer` is not null. */
  private fireAt = 0
  private timer: NodeJS.Timeout | null = null
  private readonly onExpire: () => void
  /** An unref'd deadline does not keep the process alive (like a socket timeout). */
  private readonly unref: boolean

  constructor(onExpire: () => void, unref: boolean) {
    this.onExpire = onExpire
    this.unref = unref
  }

  /** Call `onExpire` in `ms` milliseconds (replacing any earlier arming). */
  arm(ms: number): void {
    const at = Date.now() + ms
    this.at = at
    this.ms = ms
    // The pending Timeout fires first: it re-arms for the rest then.
    if (this.timer !== null && this.fireAt <= at) return
    this.schedule(at, ms)
  }

  /** Do not call `onExpire` (a pending Timeout stays and fires harmlessly, unless armed again). */
  disarm(): void {
    this.at = 0
  }

  /** Disarm and drop the Timeout: for endings, so that nothing is left scheduled. */
  clear(): void {
    this.at = 0
    if (this.timer !== null) {
      clearTimeout(this.timer)
      this.timer = null
    }
  }

  private schedule(at: number, ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.fireAt = at
    const timer = setTimeout(this.onTimer, ms)
    if (this.unref) timer.unref()
    this.timer = timer
  }

  private readonly onTimer = (): void => {
    this.timer = null
    const at = this.at
    if (at === 0) return
    const now = Date.now()
    if (now < at) {
      // Moved later since this Timeout was set (or the loop's clock lags Date.now()). A wall
      // clock stepped back would put the deadline further away than armed: bound it.
      const rest = Math.min(at - now, this.ms)
      this.at = now + rest
      this.schedule(this.at, rest)
      return
    }
    this.at = 0
    this.onExpire()
  }
}
