/**
 * A TCP proxy that can silence the connections it carries without closing them: what a load
 * balancer or NAT does when it drops an idle connection, or a host that vanished — the client's
 * socket stays open, nothing comes back. New connections through the proxy work normally.
 */
import { createConnection, createServer, type Socket } from 'node:net'
import type { ServerOwner } from './redis-server.js'

export interface SilentProxy {
  /** Port to connect to instead of the target. */
  readonly port: number
  /** Connections opened so far. */
  readonly connections: number
  /** From now on, the connections open now drop everything in both directions, and stay open. */
  silenceOpenConnections(): void
}

export async function startSilentProxy(owner: ServerOwner, targetPort: number): Promise<SilentProxy> {
  const sockets = new Set<Socket>()
  const pairs: { silent: boolean }[] = []
  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    const pair = { silent: false }
    pairs.push(pair)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => undefined)
      socket.on('close', () => sockets.delete(socket))
    }
    client.on('data', (chunk) => pair.silent || upstream.write(chunk))
    upstream.on('data', (chunk) => pair.silent || client.write(chunk))
    client.on('close', () => pair.silent || upstream.destroy())
    upstream.on('close', () => pair.silent || client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  owner.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return {
    port,
    get connections() {
      return pairs.length
    },
    silenceOpenConnections() {
      for (const pair of pairs) pair.silent = true
    },
  }
}
