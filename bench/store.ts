/**
 * `node --import tsx bench/store.ts`: the dedup fast path of a push — one `claim`, then one `set`
 * of the reply — on the in-memory store and on Redis over loopback, in one run.
 *
 * Reports pushes/s (claim+set pairs per second), this process's CPU time per pair, and for Redis
 * the server's CPU time per pair too (from /proc), so the CPU cost of Redis vs memory is a ratio of
 * two figures measured side by side. Not part of `npm test`.
 *
 * Flags:
 *   --pairs N          claim+set pairs per measured round (default 20 000)
 *   --concurrency N    pairs in flight at once on Redis, as concurrent pushes would be (default 50)
 *   --rounds N         measured rounds per target; the median is kept (default 3)
 *   --url URL          use this Redis instead of starting a private redis-server
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { createRedisStore, MemoryStore, StoreKeys, type WxMpStore } from '../src/store/index.js'
import { findRedisServer, startRedisServer } from '../test/store/redis-server.js'

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    url: { type: 'string' },
  },
})
const pairs = Number(values.pairs)
const concurrency = Number(values.concurrency)
const rounds = Number(values.rounds)

const keys = new StoreKeys('wxmp', 'wx1234567890abcdef')
// A typical text reply as the dedup record keeps it.
const reply = `<xml><ToUserName><![CDATA[oUser1234567890abcdefghijk]]></ToUserName><FromUserName><![CDATA[gh_0123456789ab]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${'你好'.repeat(40)}]]></Content></xml>`
const TTL = 60_000

interface Round {
  pairsPerSec: number
  cpuUsPerPair: number
  serverCpuUsPerPair?: number
}

/** CPU time (user+system) of a process from /proc, in µs; undefined where /proc is absent. */
function processCpuUs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    // utime and stime are fields 14 and 15 of stat (index 11 and 12 after the command), in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100
  } catch {
    return undefined
  }
}

let round = 0
/** `inFlight` pairs at a time with awaits, or `'sync'`: a plain loop (the memory store answers at once). */
async function measure(store: WxMpStore, inFlight: number | 'sync', serverPid?: number): Promise<Round> {
  const prefix = `r${round++}-`
  let next = 0
  const onePair = async (i: number) => {
    const key = keys.key('dedup', prefix + i)
    const claimed = await store.claim(key, 'pending', TTL)
    if (claimed !== undefined) throw new Error(`bench key ${key} was already claimed`)
    await store.set(key, reply, TTL)
  }
  const worker = async () => {
    while (next < pairs) await onePair(next++)
  }
  const serverBefore = processCpuUs(serverPid)
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  if (inFlight === 'sync') {
    for (let i = 0; i < pairs; i++) {
      const key = keys.key('dedup', prefix + i)
      if (store.claim(key, 'pending', TTL) !== undefined) throw new Error(`bench key ${key} was already claimed`)
      store.set(key, reply, TTL)
    }
  } else {
    await Promise.all(Array.from({ length: inFlight }, worker))
  }
  const elapsedMs = performance.now() - started
  const cpu = process.cpuUsage(cpuBefore)
  const serverAfter = processCpuUs(serverPid)
  const result: Round = { pairsPerSec: (pairs * 1000) / elapsedMs, cpuUsPerPair: (cpu.user + cpu.system) / pairs }
  if (serverBefore !== undefined && serverAfter !== undefined) result.serverCpuUsPerPair = (serverAfter - serverBefore) / pairs
  return result
}

function median(rs: Round[]): Round {
  const sorted = [...rs].sort((a, b) => a.cpuUsPerPair - b.cpuUsPerPair)
  return sorted[Math.floor(sorted.length / 2)]!
}

async function bench(name: string, store: WxMpStore, inFlight: number | 'sync', serverPid?: number): Promise<Round> {
  await measure(store, inFlight, serverPid) // warm-up (JIT, script cache)
  const results: Round[] = []
  for (let i = 0; i < rounds; i++) results.push(await measure(store, inFlight, serverPid))
  const m = median(results)
  const server = m.serverCpuUsPerPair === undefined ? '' : `, redis-server CPU ${m.serverCpuUsPerPair.toFixed(1)} µs/pair`
  console.log(`${name.padEnd(28)} ${Math.round(m.pairsPerSec).toString().padStart(9)} pairs/s, client CPU ${m.cpuUsPerPair.toFixed(2)} µs/pair${server}`)
  return m
}

const cleanups: (() => unknown)[] = []
try {
  console.log(`claim+set pairs (the dedup fast path of one push), ${pairs} per round, median of ${rounds} rounds, Node ${process.version}`)
  const memory = await bench('memory', new MemoryStore({ maxBytes: 256 * 1024 * 1024 }), 'sync')

  let url = values.url
  let serverPid: number | undefined
  if (url === undefined) {
    if (findRedisServer() === undefined) {
      console.log('redis: skipped (redis-server not found: apt-get install redis-server, or pass --url)')
      process.exit(0)
    }
    const server = await startRedisServer({ teardown: (fn) => cleanups.push(fn) })
    url = server.url
    serverPid = server.pid
  }
  const redis = createRedisStore({ url })
  await redis.connect()
  cleanups.push(() => redis.close())
  const sequential = await bench('redis, 1 in flight', redis, 1, serverPid)
  const concurrent = await bench(`redis, ${concurrency} in flight`, redis, concurrency, serverPid)
  console.log(
    `client CPU per push, redis/memory: ${(sequential.cpuUsPerPair / memory.cpuUsPerPair).toFixed(1)}x sequential, ${(concurrent.cpuUsPerPair / memory.cpuUsPerPair).toFixed(1)}x at ${concurrency} in flight`,
  )
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup()
}
