/**
 * Memory under a flood: a million distinct pushes in bursts against the plain-mode server. The
 * dedup store is bounded, so RSS must level off (≤ the limit) and stay level: the RSS after a
 * settling pause at 10 % of the flood is compared with the one at 100 %.
 *
 * A million pre-built pushes would not fit the load generator comfortably, so each push is made
 * when autocannon asks for it: a fresh MsgId from a counter, and a URL signed once per second
 * (the plain-mode signature covers token, timestamp and nonce, not the body).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { signPushQuery } from '../../src/core/signature.js'
import { memoryMb, type Server } from './process.js'
import { account, textMessageXml } from './pushes.js'

export interface FloodResult {
  pushes: number
  bursts: number
  reqPerSec: number
  non2xx: number
  errors: number
  peakRssMb: number
  settledRssAt10PctMb: number
  settledRssAt100PctMb: number
  growthMb: number
  pass: boolean
}

export interface FloodOptions {
  pushes: number
  connections: number
  limitMb: number
  /** Pushes per burst. Default pushes / 20. */
  burst?: number
  /** Pause between bursts, ms. Default 1000. */
  pauseMs?: number
}

const SETTLE_MS = 3000
/** Allowed drift between the 10 % and 100 % settled RSS (allocator and JIT noise, not a leak). */
const DRIFT_MB = 15

export async function flood(server: Server, options: FloodOptions): Promise<FloodResult> {
  const burstSize = options.burst ?? Math.max(1, Math.floor(options.pushes / 20))
  const bursts = Math.ceil(options.pushes / burstSize)
  let n = 0
  const base = BigInt(Date.now()) * 1_000_000n + 900_000_000_000n
  let signedFor = 0
  let signedQuery = ''
  const next = (): { path: string; body: string } => {
    const now = Math.floor(Date.now() / 1000)
    if (now !== signedFor) {
      const nonce = String(100_000_000 + (now % 900_000_000))
      signedFor = now
      signedQuery = `/wx?${new URLSearchParams({ ...signPushQuery(account.token, { timestamp: now, nonce }) })}`
    }
    const i = n++
    const from = 'oFlood' + String(i % 9973).padStart(22, '0')
    return { path: signedQuery, body: textMessageXml(from, signedFor, `flood #${i}`, String(base + BigInt(i))) }
  }

  let peak = 0
  const sampler = setInterval(() => {
    peak = Math.max(peak, memoryMb(server.pid).rss)
  }, 100)
  let settled10 = NaN
  let sent = 0
  let non2xx = 0
  let errors = 0
  let busyMs = 0
  try {
    for (let b = 0; b < bursts; b++) {
      const amount = Math.min(burstSize, options.pushes - sent)
      const started = Date.now()
      const result = await autocannon({
        url: server.url,
        connections: options.connections,
        amount,
        timeout: 10,
        method: 'POST',
        headers: { 'content-type': 'text/xml' },
        requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, ...next() }) }],
      })
      busyMs += Date.now() - started
      sent += result.requests.total
      non2xx += result.non2xx
      errors += result.errors + result.timeouts
      process.stdout.write(`  burst ${b + 1}/${bursts}: ${sent} sent, RSS ${memoryMb(server.pid).rss.toFixed(1)} MB\n`)
      if (sent >= options.pushes * 0.1 && Number.isNaN(settled10)) {
        await sleep(SETTLE_MS)
        settled10 = memoryMb(server.pid).rss
      } else {
        await sleep(options.pauseMs ?? 1000)
      }
    }
    await sleep(SETTLE_MS)
  } finally {
    clearInterval(sampler)
  }
  const settled100 = memoryMb(server.pid).rss
  peak = Math.max(peak, memoryMb(server.pid).peak)
  const growthMb = settled100 - settled10
  const r = (x: number) => Math.round(x * 10) / 10
  return {
    pushes: sent,
    bursts,
    reqPerSec: Math.round((sent / busyMs) * 1000),
    non2xx,
    errors,
    peakRssMb: r(peak),
    settledRssAt10PctMb: r(settled10),
    settledRssAt100PctMb: r(settled100),
    growthMb: r(growthMb),
    pass: peak <= options.limitMb && growthMb <= DRIFT_MB && non2xx === 0 && errors === 0,
  }
}
