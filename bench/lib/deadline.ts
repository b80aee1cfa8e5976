/**
 * Deadline under load: many pushes at once to a handler that never finishes. Every one must be
 * answered `success`, and on time: the answer time is measured by the client, from the moment its
 * request was written to the moment the whole answer was read.
 *
 * Connections are opened first (in batches, as a busy proxy keeps them), then every request is
 * written in one go, so the server takes the whole burst at once.
 */
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { Push } from './pushes.js'

export interface DeadlineResult {
  pushes: number
  answeredSuccess: number
  other: number
  p50Ms: number
  p99Ms: number
  maxMs: number
  /** How long writing the whole burst took the client. */
  burstWriteMs: number
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', noDelay: true })
    socket.once('connect', () => resolve(socket))
    socket.once('error', reject)
  })
}

/** Sends `pushes` at once over fresh connections and measures each answer. */
export async function burst(port: number, pushes: readonly Push[], timeoutMs: number): Promise<DeadlineResult> {
  const sockets: Socket[] = []
  for (let i = 0; i < pushes.length; i += 200) {
    sockets.push(...(await Promise.all(pushes.slice(i, i + 200).map(() => open(port)))))
  }
  const requests = pushes.map((push) => {
    const body = Buffer.from(push.body, 'utf8')
    return Buffer.concat([
      Buffer.from(
        `POST ${push.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      ),
      body,
    ])
  })
  const times: number[] = []
  let answeredSuccess = 0
  let other = 0
  const sends: Array<() => void> = []
  const done = sockets.map(
    (socket, i) =>
      new Promise<void>((resolve) => {
        let sentAt = 0
        const chunks: Buffer[] = []
        if (socket.destroyed) {
          // Closed by the server before the burst (a connection over its cap): it answers nothing.
          other++
          resolve()
          return
        }
        socket.on('data', (chunk: Buffer) => chunks.push(chunk))
        socket.on('error', () => undefined)
        socket.once('close', () => {
          times.push(performance.now() - sentAt)
          const text = Buffer.concat(chunks).toString('utf8')
          if (text.startsWith('HTTP/1.1 200') && text.endsWith('\r\n\r\nsuccess')) answeredSuccess++
          else other++
          resolve()
        })
        socket.setTimeout(timeoutMs, () => socket.destroy())
        sends.push(() => {
          sentAt = performance.now()
          socket.write(requests[i]!)
        })
      }),
  )
  const started = performance.now()
  for (const send of sends) send()
  const burstWriteMs = performance.now() - started
  await Promise.all(done)
  times.sort((a, b) => a - b)
  const round = (ms: number): number => Math.round(ms * 10) / 10
  return {
    pushes: pushes.length,
    answeredSuccess,
    other,
    p50Ms: round(percentile(times, 50)),
    p99Ms: round(percentile(times, 99)),
    maxMs: round(times[times.length - 1] ?? NaN),
    burstWriteMs: round(burstWriteMs),
  }
}
