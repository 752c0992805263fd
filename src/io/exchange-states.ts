// Where an exchange (exchange.ts) is, and how it ends: its `end(outcome)` takes one of these.

export const enum ExchangeState {
  /** Waiting for an upstream connection. */
  Connecting = 0,
  /** Request head sent; no final response head yet. */
  AwaitingHead = 1,
  /** Final head relayed; body in flight. */
  Relaying = 2,
  /** The response is complete (or a 101 handed both connections to a tunnel). */
  Done = 3,
  Failed = 4,
}

/** How an exchange ends (`end`). */
export const enum Outcome {
  /** The response was relayed completely. */
  Complete = 0,
  /** A 101 was relayed: the connections are a tunnel now. */
  Tunnel = 1,
  /** Nothing of the final response was sent: the client gets an error response. */
  Answer = 2,
  /** Part of the response was sent: the client connection is aborted. */
  Abort = 3,
  /** The client went away first: nothing to tell it. */
  ClientGone = 4,
  /** The client's request turned out malformed: the client connection answers it. */
  Abandoned = 5,
}
