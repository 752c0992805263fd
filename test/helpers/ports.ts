// Ports for failure cases, on 127.0.0.1 only.
import net from 'node:net'

/** A port that was bound, then closed: connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}
