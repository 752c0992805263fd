// The states of a client connection (ClientConnection) and of its request-side timer.

export const enum ClientState {
  /** Waiting for, or reading, a request head. */
  Head = 0,
  /** Reading a request body. */
  Body = 1,
  /** Request read; its response is in flight. */
  Waiting = 2,
  /** Bytes flow to and from an upgraded upstream connection. */
  Tunnel = 3,
  /** Ending: no more requests are read. */
  Closing = 4,
  Closed = 5,
}

export const enum Timer {
  None = 0,
  /** Head of the first request, or of a request whose first byte arrived (timeouts.request). */
  RequestHead = 1,
  /** Idle between requests (timeouts.keepAlive). */
  KeepAlive = 2,
}
