/**
 * `node --import tsx bench/store-push.ts`: what sharing state through Redis costs a push, in one
 * run. Two servers of the demo echo bot through the CLI (plain mode) — one on the in-memory store,
 * one with `WX_MP_REDIS_URL` on a private redis-server started here — take the same load of
 * distinct pushes (every push new: the fast path, claim → handler → record).
 *
 * Reports, per push:
 * - the server's CPU time with memory and with Redis, and their ratio;
 * - redis-server's own CPU time (the rest of the cost of Redis);
 * - the Redis round trips (commands the server sent, read with MONITOR over a separate sample, so
 *   MONITOR's own cost stays out of the CPU figures; commands a Lua script runs inside Redis are
 *   listed apart, they are not round trips).
 *
 * Needs `dist/` (`npm run build`) and redis-server on PATH. Not part of `npm test`.
 *
 * Flags:
 *   --requests N      measured pushes per round (default 20 000)
 *   --warmup N        warm-up pushes before each round (default 5 000)
 *   --connections N   concurrent connections (default 20)
 *   --rounds N        rounds per target; the median CPU per push is kept (default 3)
 *   --sample N        pushes watched with MONITOR (default 200)
 *   --port-base N     first port (default 5280)
 */
import { createConnection } from 'node:net'
import { existsSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { load, PushPool } from './lib/load.js'
import { cpuMs, cpuPinning, pinSelf, startServer, type Server } from './lib/process.js'
import { account, buildPushes } from './lib/pushes.js'
import { verifyReplies } from './lib/verify.js'
import { findRedisServer, startRedisServer } from '../test/store/redis-server.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const { values: flags } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    warmup: { type: 'string', default: '5000' },
    connections: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    sample: { type: 'string', default: '200' },
    'port-base': { type: 'string', default: '5280' },
  },
})
const settings = {
  requests: Number(flags.requests),
  warmup: Number(flags.warmup),
  connections: Number(flags.connections),
  rounds: Number(flags.rounds),
  sample: Number(flags.sample),
}
const portBase = Number(flags['port-base'])
const cores = availableParallelism()
const pinned = cpuPinning(cores).ok && pinSelf(0)

/** Starts the demo bot through the CLI, on the store `env` chooses. */
function startBot(name: string, port: number, env: Record<string, string | undefined>): Promise<Server> {
  return startServer({
    name,
    args: ['bin/wx-mp-svr.js', 'demo/demo.ts', '--port', String(port)],
    port,
    cwd: root,
    core: pinned ? 1 : undefined,
    env: { WX_MP_TOKEN: account.token, WX_MP_AES_KEY: undefined, WX_MP_APPID: account.appId, WX_MP_REDIS_URL: undefined, LOG_LEVEL: undefined, NODE_ENV: 'production', ...env },
  })
}

let offset = 0
/** Median server CPU per push (µs) over the rounds, and redis-server's when its pid is given. */
async function measure(server: Server, redisPid?: number): Promise<{ cpuUs: number; redisCpuUs?: number; reqPerSec: number }> {
  const perRound = settings.warmup + settings.requests
  const pool = new PushPool(buildPushes('plain', settings.rounds * perRound + 8 * settings.connections + 16, offset))
  offset += 1e8
  await verifyReplies(server.url, 'plain', buildPushes('plain', 3, offset++))
  const rounds: Array<{ cpuUs: number; redisCpuUs?: number; reqPerSec: number }> = []
  for (let r = 0; r < settings.rounds; r++) {
    await load(pool, { url: server.url, connections: settings.connections, amount: settings.warmup })
    const before = cpuMs(server.pid)
    const redisBefore = redisPid === undefined ? 0 : cpuMs(redisPid)
    const result = await load(pool, { url: server.url, connections: settings.connections, amount: settings.requests })
    if (result.errors + result.timeouts + result.non2xx > 0) throw new Error(`${server.name}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx`)
    const n = result.requests.total
    rounds.push({
      cpuUs: ((cpuMs(server.pid) - before) * 1000) / n,
      ...(redisPid === undefined ? {} : { redisCpuUs: ((cpuMs(redisPid) - redisBefore) * 1000) / n }),
      reqPerSec: Math.round(result.requests.average),
    })
  }
  return rounds.sort((a, b) => a.cpuUs - b.cpuUs)[Math.floor(rounds.length / 2)]!
}

/** Watches Redis with MONITOR while `work` runs; returns the commands seen, by name, split into client calls and script-internal ones. */
async function monitor(port: number, work: () => Promise<void>): Promise<{ calls: Map<string, number>; inScripts: Map<string, number> }> {
  const socket = createConnection({ host: '127.0.0.1', port })
  await new Promise<void>((ok, fail) => socket.once('connect', ok).once('error', fail))
  let buffer = ''
  const calls = new Map<string, number>()
  const inScripts = new Map<string, number>()
  let started!: () => void
  const ready = new Promise<void>((resolve) => (started = resolve))
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8')
    let end: number
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      if (line === '+OK') started()
      // +1700000000.123456 [0 127.0.0.1:40000] "EVALSHA" "…" / [0 lua] "GET" "…"
      const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line)
      if (!m) continue
      const name = m[2]!.toUpperCase()
      const into = m[1] === 'lua' ? inScripts : calls
      into.set(name, (into.get(name) ?? 0) + 1)
    }
  })
  socket.write('MONITOR\r\n')
  await ready
  await work()
  // MONITOR lines trail the commands a little.
  await new Promise((r) => setTimeout(r, 300))
  socket.destroy()
  return { calls, inScripts }
}

function perPush(counts: Map<string, number>, pushes: number): string {
  return [...counts].map(([name, n]) => `${name} ${(n / pushes).toFixed(2)}`).join(', ') || 'none'
}

async function main(): Promise<void> {
  if (!existsSync(join(root, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (the CLI runs the compiled code).')
  if (findRedisServer() === undefined) throw new Error('redis-server not found: apt-get install redis-server')
  const cleanups: Array<() => unknown> = []
  try {
    console.log(
      `store cost per push · demo echo bot, plain mode · ${settings.requests} pushes × ${settings.rounds} rounds, ${settings.connections} connections · Node ${process.version}` +
        (pinned ? ' · servers on core 1, load on core 0' : ' · not pinned (noisier)'),
    )
    const redis = await startRedisServer({ teardown: (fn) => cleanups.push(fn) })
    const memoryBot = await startBot('memory', portBase, {})
    cleanups.push(() => memoryBot.stop())
    const redisBot = await startBot('redis', portBase + 1, { WX_MP_REDIS_URL: redis.url })
    cleanups.push(() => redisBot.stop())

    // The two servers in turn, twice (memory, redis, memory, redis): drift on a shared machine hits both.
    const memory = [await measure(memoryBot)]
    const withRedis = [await measure(redisBot, redis.pid)]
    memory.push(await measure(memoryBot))
    withRedis.push(await measure(redisBot, redis.pid))
    const best = <T extends { cpuUs: number }>(rs: T[]): T => rs.sort((a, b) => a.cpuUs - b.cpuUs)[0]!
    const m = best(memory)
    const r = best(withRedis)

    const sample = buildPushes('plain', settings.sample, 9e8)
    const seen = await monitor(redis.port, async () => {
      await load(new PushPool(sample), { url: redisBot.url, connections: 1, amount: settings.sample })
    })
    const roundTrips = [...seen.calls.values()].reduce((a, b) => a + b, 0) / settings.sample

    console.log(`memory  server CPU ${m.cpuUs.toFixed(1)} µs/push, ${m.reqPerSec} req/s`)
    console.log(`redis   server CPU ${r.cpuUs.toFixed(1)} µs/push, ${r.reqPerSec} req/s; redis-server CPU ${r.redisCpuUs!.toFixed(1)} µs/push`)
    console.log(`ratio   server CPU redis/memory ${(r.cpuUs / m.cpuUs).toFixed(2)}×; with redis-server's share ${((r.cpuUs + r.redisCpuUs!) / m.cpuUs).toFixed(2)}×`)
    console.log(`round trips per push (fast path, ${settings.sample} pushes watched): ${roundTrips.toFixed(2)} — ${perPush(seen.calls, settings.sample)}`)
    console.log(`  inside scripts (no round trip): ${perPush(seen.inScripts, settings.sample)}`)
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
