// What the gateway publishes on its diagnostics channels during one test, collected in order;
// unsubscribed when the test ends. Tests wait for a message with `eventually`-style polling of
// `messages` (some are published after the client has its answer: an abort, a client gone).
import diagnostics from 'node:diagnostics_channel'
import type { Test } from 'tap'
import { eventually } from './raw-client.js'

export interface Channel<M> {
  readonly messages: M[]
  /** Wait until `count` messages arrived; resolves to them. */
  wait(count: number, what?: string): Promise<M[]>
}

/** Collect every message on `name` until `t` ends. */
export function collect<M>(t: Test, name: string): Channel<M> {
  const messages: M[] = []
  const listener = (m: unknown) => {
    messages.push(m as M)
  }
  diagnostics.subscribe(name, listener)
  t.teardown(() => {
    diagnostics.unsubscribe(name, listener)
  })
  return {
    messages,
    async wait(count, what = `${count} message(s) on ${name}`) {
      await eventually(() => messages.length >= count, what)
      return messages
    },
  }
}
