/**
 * `npm run bench`: the kit against the ceiling, in one run.
 *
 * Starts, each in its own process pinned to core 1 (the load generator runs on core 0):
 *   ceiling  a bare Fastify route that reads the body and returns fixed XML (bench/ceiling.mjs)
 *   plain    the kit through its CLI with the demo echo bot, 明文模式
 *   safe     the same in 安全模式 (token, AES key, appId)
 * and measures req/s, p50/p99 latency, server CPU time per request (from /proc, over the measured
 * window only) and peak RSS; then the deadline under load. `--flood` adds the memory flood.
 *
 * Flags:
 *   --quick             tiny request counts, short deadline (the test suite's smoke run)
 *   --flood             also send 1 000 000 distinct pushes in bursts to the plain server (~3 min)
 *   --flood-pushes N    how many pushes the flood sends
 *   --only-flood        the flood alone
 *   --profile           run the kit's servers with --cpu-prof (bench/results/profiles/)
 *   --requests N        measured requests per round (default 40 000)
 *   --warmup N          warm-up requests before each round (default 10 000)
 *   --connections N     concurrent connections (default 50)
 *   --rounds N          rounds per target; the median CPU/request is kept (default 3)
 *   --out FILE          where to write the results (default bench/results/latest.json)
 *   --port-base N       first port to use (default 5180)
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { burst, type DeadlineResult } from './lib/deadline.js'
import { flood, type FloodResult } from './lib/flood.js'
import { load, PushPool } from './lib/load.js'
import { cpuMs, cpuPinning, memoryMb, pinSelf, startServer, type Server } from './lib/process.js'
import { account, buildPushes, type PushMode } from './lib/pushes.js'
import { verifyReplies } from './lib/verify.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    flood: { type: 'boolean', default: false },
    'flood-pushes': { type: 'string' },
    'only-flood': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    requests: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
    'port-base': { type: 'string' },
  },
})

const quick = flags.quick
const settings = {
  requests: Number(flags.requests ?? (quick ? 300 : 40_000)),
  warmup: Number(flags.warmup ?? (quick ? 100 : 10_000)),
  connections: Number(flags.connections ?? (quick ? 8 : 50)),
  rounds: Number(flags.rounds ?? (quick ? 1 : 3)),
  deadlinePushes: quick ? 50 : 2000,
  /** The kit's default; --quick shortens it so the smoke run stays fast. */
  replyTimeoutMs: quick ? 300 : 4500,
  floodPushes: Number(flags['flood-pushes'] ?? 1_000_000),
}
const outFile = resolve(root, flags.out ?? 'bench/results/latest.json')
const portBase = Number(flags['port-base'] ?? 5180)
const targets = { plainCpuRatio: 2.2, safeCpuRatio: 4.0, peakRssMb: 120, floodRssMb: 200 } as const

const SERVER_CORE = 1
const LOAD_CORE = 0

/** Cores of the machine, read before this process pins itself to one. */
const cores = availableParallelism()

function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : ''
  return {
    nproc: cores,
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  }
}

/** Warns when dist/ (what the CLI runs) is older than the sources of the hot path. */
function checkBuild(): void {
  const dist = join(root, 'dist/cli/main.js')
  if (!existsSync(dist)) throw new Error('dist/ is missing: run `npm run build` first (the CLI runs the compiled code).')
  const built = statSync(dist).mtimeMs
  const stale = ['src/core', 'src/server', 'src/cli']
    .flatMap((dir) => readdirSync(join(root, dir), { recursive: true }).map((f) => join(root, dir, String(f))))
    .filter((f) => f.endsWith('.ts') && statSync(f).mtimeMs > built)
  if (stale.length > 0) console.warn(`warning: dist/ is older than ${stale.length} source file(s); run \`npm run build\` first.`)
}

interface TargetResult {
  reqPerSec: number
  latencyP50Ms: number
  latencyP99Ms: number
  cpuUsPerReq: number
  peakRssMb: number
  requests: number
  errors: number
  non2xx: number
  verifiedReplies: number
  /** CPU µs/request of every round, when --rounds > 1. */
  rounds?: number[]
}

type TargetName = 'ceiling' | 'plain' | 'safe'

const pinning = cpuPinning(cores)
const pinned = pinning.ok && pinSelf(LOAD_CORE)

function round(value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

async function startTarget(name: TargetName | 'never', port: number, env: Record<string, string | undefined> = {}, stdoutFile?: string): Promise<Server> {
  const profileDir = join(root, 'bench/results/profiles')
  const nodeFlags = flags.profile && name !== 'ceiling' ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : []
  if (nodeFlags.length) mkdirSync(profileDir, { recursive: true })
  const args =
    name === 'ceiling'
      ? ['bench/ceiling.mjs']
      : ['bin/wx-mp-svr.js', name === 'never' ? 'bench/fixtures/never.ts' : 'demo/demo.ts', '--port', String(port)]
  const safe = name === 'safe' ? { WX_MP_AES_KEY: account.aesKey, WX_MP_APPID: account.appId } : {}
  return startServer({
    name,
    args,
    port,
    cwd: root,
    core: pinned ? SERVER_CORE : undefined,
    nodeFlags,
    stdoutFile,
    // Only what the run sets: no WX_MP_* or LOG_LEVEL leaks in from the caller's environment.
    env: { WX_MP_TOKEN: account.token, WX_MP_AES_KEY: undefined, WX_MP_APPID: undefined, LOG_LEVEL: undefined, NODE_ENV: 'production', ...safe, ...env },
  })
}

async function measureTarget(name: TargetName, port: number): Promise<TargetResult> {
  const mode: PushMode = name === 'safe' ? 'safe' : 'plain'
  const server = await startTarget(name, port)
  try {
    const perRound = settings.warmup + settings.requests
    // Sized above the count: autocannon builds each connection's next request ahead.
    const pool = new PushPool(buildPushes(mode, settings.rounds * perRound + 8 * settings.connections + 16))
    const verifiedReplies = await verifyReplies(server.url, name === 'ceiling' ? 'ceiling' : mode, buildPushes(mode, 3, 1e9))
    const cpu: number[] = []
    let last
    for (let r = 0; r < settings.rounds; r++) {
      await load(pool, { url: server.url, connections: settings.connections, amount: settings.warmup })
      const before = cpuMs(server.pid)
      const result = await load(pool, { url: server.url, connections: settings.connections, amount: settings.requests })
      const spent = cpuMs(server.pid) - before
      cpu.push((spent * 1000) / result.requests.total)
      last = result
    }
    // And the answers under load are still right.
    await verifyReplies(server.url, name === 'ceiling' ? 'ceiling' : mode, buildPushes(mode, 3, 2e9))
    const sorted = [...cpu].sort((a, b) => a - b)
    const result = last!
    return {
      reqPerSec: Math.round(result.requests.average),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      cpuUsPerReq: round(sorted[Math.floor(sorted.length / 2)]!),
      peakRssMb: round(memoryMb(server.pid).peak),
      requests: result.requests.total,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      verifiedReplies: verifiedReplies + 3,
      ...(settings.rounds > 1 ? { rounds: cpu.map((c) => round(c)) } : {}),
    }
  } finally {
    await server.stop()
  }
}

interface DeadlineReport extends DeadlineResult {
  deadlineMs: number
  /** From arrival at the server (its onRequest) to the answer, from the kit's own log lines. */
  server: { lines: number; p50Ms: number; p99Ms: number; maxMs: number }
  pass: boolean
}

/**
 * 2 000 pushes at once to a handler that never finishes. The server is warmed up first with the
 * same kind of push (as a server in service is), then the burst is timed by the client (from
 * writing each request) and by the server (its log line's `ms`, from arrival to answer).
 */
async function deadlineUnderLoad(port: number): Promise<DeadlineReport> {
  // `success` answers at the deadline (the other strategies hold attempts or answer a placeholder,
  // each measured by the slow-reply tests): this measures that every push is answered in time.
  const env: Record<string, string> = { WX_MP_SLOW_REPLY: 'success', ...(quick ? { WX_MP_REPLY_TIMEOUT_MS: String(settings.replyTimeoutMs) } : {}) }
  const logFile = join(tmpdir(), `wx-mp-svr-bench-deadline-${process.pid}.log`)
  const server = await startTarget('never', port, env, logFile)
  try {
    const timeout = settings.replyTimeoutMs + 10_000
    await burst(port, buildPushes('plain', settings.deadlinePushes, 3e9), timeout)
    const before = readFileSync(logFile, 'utf8').length
    const result = await burst(port, buildPushes('plain', settings.deadlinePushes, 4e9), timeout)
    const ms = readFileSync(logFile, 'utf8')
      .slice(before)
      .split('\n')
      .filter((line) => line.includes('"outcome":"deadline"'))
      .map((line) => (JSON.parse(line) as { ms: number }).ms)
      .sort((a, b) => a - b)
    const at = (p: number) => ms[Math.min(ms.length - 1, Math.ceil((p / 100) * ms.length) - 1)] ?? NaN
    const serverSide = { lines: ms.length, p50Ms: at(50), p99Ms: at(99), maxMs: ms[ms.length - 1] ?? NaN }
    const pass = result.answeredSuccess === result.pushes && serverSide.lines === result.pushes && serverSide.p99Ms <= settings.replyTimeoutMs + 50
    return { deadlineMs: settings.replyTimeoutMs, ...result, server: serverSide, pass }
  } finally {
    await server.stop()
    rmSync(logFile, { force: true })
  }
}

function table(results: Record<TargetName, TargetResult>): string {
  const c = results.ceiling
  const rows = [['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'CPU ×ceiling', 'peak RSS MB']]
  for (const name of ['ceiling', 'plain', 'safe'] as const) {
    const r = results[name]
    rows.push([
      name,
      String(r.reqPerSec),
      String(r.latencyP50Ms),
      String(r.latencyP99Ms),
      String(r.cpuUsPerReq),
      name === 'ceiling' ? '1.00' : (r.cpuUsPerReq / c.cpuUsPerReq).toFixed(2),
      String(r.peakRssMb),
    ])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)))
  const line = (row: string[]) => '| ' + row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ') + ' |'
  return [line(rows[0]!), '|' + widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|') + '|', ...rows.slice(1).map(line)].join('\n')
}

async function main(): Promise<void> {
  checkBuild()
  const info = machine()
  console.log(`wx-mp-svr benchmark · ${info.nproc} cores · ${info.cpuModel} · Node ${info.node}`)
  console.log(
    pinned
      ? `pinning: servers on core ${SERVER_CORE}, load generator on core ${LOAD_CORE} (taskset)`
      : `pinning: not pinned (${pinning.why ?? 'taskset failed'}); server and load generator share the cores, figures are noisier`,
  )
  const output: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { ...info, pinned },
    settings: { ...settings, pipelining: 1, logging: 'info (one JSON line per push, to /dev/null)', dedup: 'on (MemoryDedupStore, 10 000)', deadlineMs: 4500 },
    targets,
  }

  if (!flags['only-flood']) {
    const results = {} as Record<TargetName, TargetResult>
    let port = portBase
    for (const name of ['ceiling', 'plain', 'safe'] as const) {
      process.stdout.write(`measuring ${name}… `)
      results[name] = await measureTarget(name, port++)
      console.log(`${results[name].cpuUsPerReq} µs CPU/request, ${results[name].reqPerSec} req/s`)
    }
    const ratio = (name: 'plain' | 'safe') => round(results[name].cpuUsPerReq / results.ceiling.cpuUsPerReq, 2)
    const ratios = { plain: ratio('plain'), safe: ratio('safe') }
    const peakRssMb = Math.max(results.plain.peakRssMb, results.safe.peakRssMb)
    output['results'] = results
    output['ratios'] = ratios
    output['met'] = {
      plainCpuRatio: ratios.plain <= targets.plainCpuRatio,
      safeCpuRatio: ratios.safe <= targets.safeCpuRatio,
      peakRssMb: peakRssMb <= targets.peakRssMb,
    }
    console.log('\n' + table(results) + '\n')
    console.log(`plain ${ratios.plain}× (target ≤ ${targets.plainCpuRatio}×), safe ${ratios.safe}× (target ≤ ${targets.safeCpuRatio}×), peak RSS ${peakRssMb} MB (target ≤ ${targets.peakRssMb} MB)`)

    process.stdout.write(`\ndeadline under load: ${settings.deadlinePushes} pushes at once, handler never finishes… `)
    const deadline = await deadlineUnderLoad(port++)
    output['deadline'] = deadline
    console.log(
      `${deadline.answeredSuccess}/${deadline.pushes} answered success (deadline ${deadline.deadlineMs} ms, target p99 ≤ ${deadline.deadlineMs + 50} ms) ${deadline.pass ? 'PASS' : 'FAIL'}\n` +
        `  server, arrival → answer:  p50 ${deadline.server.p50Ms} ms, p99 ${deadline.server.p99Ms} ms, max ${deadline.server.maxMs} ms\n` +
        `  client, write → answer:    p50 ${deadline.p50Ms} ms, p99 ${deadline.p99Ms} ms, max ${deadline.maxMs} ms (the burst took the client ${deadline.burstWriteMs} ms to write)`,
    )
  }

  if (flags.flood || flags['only-flood']) {
    console.log(`\nflood: ${settings.floodPushes} distinct pushes in bursts to the plain server`)
    const server = await startTarget('plain', portBase + 10)
    let result: FloodResult
    try {
      result = await flood(server, { pushes: settings.floodPushes, connections: settings.connections, limitMb: targets.floodRssMb })
    } finally {
      await server.stop()
    }
    output['flood'] = result
    console.log(
      `flood: peak RSS ${result.peakRssMb} MB (limit ${targets.floodRssMb}); settled RSS ${result.settledRssAt10PctMb} MB at 10%, ` +
        `${result.settledRssAt100PctMb} MB at 100% (growth ${result.growthMb} MB); ${result.reqPerSec} req/s; ${result.pass ? 'PASS' : 'FAIL'}`,
    )
  }

  mkdirSync(dirname(outFile), { recursive: true })
  writeFileSync(outFile, JSON.stringify(output, null, 2) + '\n')
  console.log(`\nwrote ${outFile}`)
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
