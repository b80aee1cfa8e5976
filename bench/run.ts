/**
 * `npm run bench`: the kit against the ceiling and its peers, in one run.
 *
 * Starts, each in its own process pinned to core 1 (the load generator runs on core 0), one
 * process per target and mode:
 *   ceiling    a bare Fastify route that reads the body and returns fixed XML (bench/ceiling.mjs)
 *   reference  a careful Fastify + fast-xml-parser + node:crypto echo, no dedup, no log (bench/peers/reference.mjs)
 *   co-wechat  co-wechat 2.4 on Koa 3 (bench/peers/co-wechat.cjs)
 *   wechat     node-webot's wechat 2.1 on Express 5 (bench/peers/webot-wechat.cjs)
 *   kit        `node bin/wx-mp-svr.js demo/demo.ts`, the README's production command, with the echo demo
 * each in 明文 (plain) and 安全 (safe) mode, under the same load (50 connections, distinct signed
 * pushes, every answer checked), and measures req/s, p50/p99 latency, server CPU time per request
 * (from /proc, over the measured window only) and peak RSS. Then the kit's start-up (spawn → first
 * 200 on /healthz) and idle RSS, the deadline under load, and with `--flood` the memory flood.
 * Prints the table, writes the JSON and, on a full run, the chart (docs/bench.svg).
 *
 * The peers are installed for the benchmark only, from bench/package.json and its lockfile
 * (`npm ci --prefix bench`, run here when they are missing); wx-mp-svr never depends on them.
 *
 * Flags:
 *   --quick             tiny request counts, short deadline, only the ceiling and the kit, no start-up timing (the test suite's smoke run)
 *   --targets LIST      which servers, comma-separated (default: ceiling,reference,co-wechat,wechat,kit)
 *   --flood             also send 1 000 000 distinct pushes in bursts to the plain server (~3 min)
 *   --flood-pushes N    how many pushes the flood sends
 *   --only-flood        the flood alone
 *   --profile           run the kit's servers with --cpu-prof (bench/results/profiles/)
 *   --node-flag FLAG    a node flag for the kit's servers (repeatable), e.g. --node-flag=--max-semi-space-size=2
 *   --startup-node BIN  also measure start-up and idle RSS with this node binary (repeatable)
 *   --requests N        measured requests per round (default 40 000)
 *   --warmup N          warm-up requests before each round (default 10 000)
 *   --connections N     concurrent connections (default 50)
 *   --rounds N          rounds per target; the median CPU/request is kept (default 3)
 *   --out FILE          where to write the results (default bench/results/latest.json)
 *   --chart FILE        where to write the chart (default docs/bench.svg on a full run, none with --quick)
 *   --port-base N       first port to use (default 5180)
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { barChart, type ChartRow } from './lib/chart.js'
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
    targets: { type: 'string' },
    flood: { type: 'boolean', default: false },
    'flood-pushes': { type: 'string' },
    'only-flood': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'node-flag': { type: 'string', multiple: true, default: [] },
    'startup-node': { type: 'string', multiple: true, default: [] },
    requests: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    rounds: { type: 'string' },
    out: { type: 'string' },
    chart: { type: 'string' },
    'port-base': { type: 'string' },
  },
})

const quick = flags.quick
const settings = {
  requests: Number(flags.requests ?? (quick ? 300 : 40_000)),
  warmup: Number(flags.warmup ?? (quick ? 100 : 10_000)),
  connections: Number(flags.connections ?? (quick ? 8 : 50)),
  rounds: Number(flags.rounds ?? (quick ? 1 : 3)),
  // Under the kit's cap of 1 024 open connections (defaultHttpLimits.maxConnections): each push is its own connection.
  deadlinePushes: quick ? 50 : 1000,
  /** The kit's default; --quick shortens it so the smoke run stays fast. */
  replyTimeoutMs: quick ? 300 : 4500,
  floodPushes: Number(flags['flood-pushes'] ?? 1_000_000),
  /** Start-ups of the kit timed (median kept; none in the smoke run), and how long it idles before its RSS is read. */
  startups: quick ? 0 : 5,
  idleSettleMs: quick ? 500 : 10_000,
}
const outFile = resolve(root, flags.out ?? 'bench/results/latest.json')
const chartFile = flags.chart ? resolve(root, flags.chart) : quick ? undefined : join(root, 'docs/bench.svg')
const portBase = Number(flags['port-base'] ?? 5180)
/** The targets of the performance issue: CPU per push at most the reference's (ratios to the ceiling), memory, start-up. */
const targets = { cpu: 'at most the reference in both modes', peakRssMb: 100, idleRssMb: 60, floodRssMb: 120, firstHealthzMs: 500 } as const

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
  const stale = ['src/core', 'src/server', 'src/cli', 'src/store', 'src/slow-reply']
    .filter((dir) => existsSync(join(root, dir)))
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

/** A server of the comparison: how to start it, and what it is called in the table. */
interface Target {
  id: 'ceiling' | 'reference' | 'co-wechat' | 'wechat' | 'kit'
  label: string
  /** Its name in the chart (shorter). */
  short: string
  modes: readonly PushMode[]
  /** node arguments, given the port. */
  args: (port: number) => string[]
  /** Installed from bench/package.json. */
  installed?: boolean
}

const TARGETS: readonly Target[] = [
  { id: 'ceiling', label: 'bare Fastify route returning fixed XML (the ceiling)', short: 'bare Fastify (ceiling)', modes: ['plain'], args: () => ['bench/ceiling.mjs'] },
  { id: 'reference', label: 'a careful Fastify + fast-xml-parser + node:crypto echo (no dedup, no log)', short: 'careful Fastify echo', modes: ['plain', 'safe'], args: () => ['bench/peers/reference.mjs'] },
  { id: 'co-wechat', label: 'co-wechat 2.4 on Koa 3', short: 'co-wechat 2.4 · Koa 3', modes: ['plain', 'safe'], args: () => ['bench/peers/co-wechat.cjs'], installed: true },
  { id: 'wechat', label: 'node-webot wechat 2.1 on Express 5', short: 'wechat 2.1 · Express 5', modes: ['plain', 'safe'], args: () => ['bench/peers/webot-wechat.cjs'], installed: true },
  { id: 'kit', label: 'wx-mp-svr (node bin, demo.ts)', short: 'wx-mp-svr (demo.ts)', modes: ['plain', 'safe'], args: (port) => ['bin/wx-mp-svr.js', 'demo/demo.ts', '--port', String(port)] },
]

const pinning = cpuPinning(cores)
const pinned = pinning.ok && pinSelf(LOAD_CORE)

function round(value: number, digits = 1): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

/** The targets this run measures: --targets, less the installed peers in a quick run. */
function chosenTargets(): Target[] {
  const names = flags.targets?.split(',').map((t) => t.trim()).filter(Boolean)
  if (names) {
    const unknown = names.filter((n) => !TARGETS.some((t) => t.id === n))
    if (unknown.length > 0) throw new Error(`unknown target(s) ${unknown.join(', ')}: choose from ${TARGETS.map((t) => t.id).join(', ')}`)
    return TARGETS.filter((t) => names.includes(t.id))
  }
  // The smoke run stays small: the ceiling and the kit.
  return TARGETS.filter((t) => !quick || t.id === 'ceiling' || t.id === 'kit')
}

/** Installs the peers from bench/package-lock.json when they are missing; false (and why) when that fails. */
function installPeers(): { ok: boolean; why?: string } {
  const present = ['co-wechat', 'wechat', 'koa', 'express'].every((p) => existsSync(join(root, 'bench/node_modules', p, 'package.json')))
  if (present) return { ok: true }
  console.log('installing the peers for the benchmark only: npm ci --prefix bench')
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
  const result = spawnSync(npm, ['ci', '--prefix', join(root, 'bench'), '--no-audit', '--no-fund'], { stdio: 'inherit' })
  if (result.status === 0) return { ok: true }
  return { ok: false, why: `npm ci --prefix bench failed (${result.error?.message ?? `exit ${result.status}`})` }
}

/** Starts a server of the comparison; the kit gets --cpu-prof under --profile, and --node-flag. */
async function startTarget(
  target: Target | 'never',
  mode: PushMode,
  port: number,
  env: Record<string, string | undefined> = {},
  stdoutFile?: string,
): Promise<Server> {
  const kit = target === 'never' || target.id === 'kit'
  const name = target === 'never' ? 'never' : `${target.id} ${mode}`
  const profileDir = join(root, 'bench/results/profiles')
  const profile = flags.profile && kit ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name.replace(' ', '-')}-${Date.now()}.cpuprofile`] : []
  if (profile.length) mkdirSync(profileDir, { recursive: true })
  const nodeFlags = kit ? [...flags['node-flag'], ...profile] : []
  const args = target === 'never' ? ['bin/wx-mp-svr.js', 'bench/fixtures/never.ts', '--port', String(port)] : target.args(port)
  const safe = mode === 'safe' ? { WX_MP_AES_KEY: account.aesKey, WX_MP_APPID: account.appId } : {}
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

async function measureTarget(target: Target, mode: PushMode, port: number): Promise<TargetResult> {
  const server = await startTarget(target, mode, port)
  const verifyAs = target.id === 'ceiling' ? 'ceiling' : mode
  try {
    const perRound = settings.warmup + settings.requests
    // Sized above the count: autocannon builds each connection's next request ahead.
    const pool = new PushPool(buildPushes(mode, settings.rounds * perRound + 8 * settings.connections + 16))
    const verifiedReplies = await verifyReplies(server.url, verifyAs, buildPushes(mode, 3, 1e9))
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
    await verifyReplies(server.url, verifyAs, buildPushes(mode, 3, 2e9))
    const result = last!
    return {
      reqPerSec: Math.round(result.requests.average),
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      cpuUsPerReq: round(median(cpu)),
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

interface StartupResult {
  node: string
  /** Spawn → first 200 on /healthz, ms: every start-up, and their median. */
  firstHealthzMs: number[]
  firstHealthzMedianMs: number
  /** RSS after idling idleSettleMs once serving (median over the start-ups), MB. */
  idleRssMb: number
  /** Its highest RSS while starting and idling (median), MB. */
  startupPeakRssMb: number
}

/**
 * The kit as the README's production command starts it (`node bin/wx-mp-svr.js demo/demo.ts`, a
 * `.ts` handler), unpinned as on a user's machine: time to the first 200 on /healthz, then its RSS
 * after idling. Repeated; medians kept.
 */
async function startup(node: string, port: number): Promise<StartupResult> {
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim()
  const ready: number[] = []
  const idle: number[] = []
  const peak: number[] = []
  for (let i = 0; i < settings.startups; i++) {
    const server = await startServer({
      name: `kit start-up (${version})`,
      args: ['bin/wx-mp-svr.js', 'demo/demo.ts', '--port', String(port)],
      port,
      cwd: root,
      node,
      env: { WX_MP_TOKEN: account.token, WX_MP_AES_KEY: undefined, WX_MP_APPID: undefined, LOG_LEVEL: undefined, NODE_ENV: 'production' },
    })
    try {
      ready.push(server.readyMs)
      await sleep(settings.idleSettleMs)
      const memory = memoryMb(server.pid)
      idle.push(memory.rss)
      peak.push(memory.peak)
    } finally {
      await server.stop()
    }
  }
  return {
    node: version,
    firstHealthzMs: ready.map((ms) => Math.round(ms)),
    firstHealthzMedianMs: Math.round(median(ready)),
    idleRssMb: round(median(idle)),
    startupPeakRssMb: round(median(peak)),
  }
}

interface DeadlineReport extends DeadlineResult {
  deadlineMs: number
  /** From arrival at the server (its onRequest) to the answer, from the kit's own log lines. */
  server: { lines: number; p50Ms: number; p99Ms: number; maxMs: number }
  pass: boolean
}

/**
 * 1 000 pushes at once (the kit caps open connections at 1 024) to a handler that never finishes. The server is warmed up first with the
 * same kind of push (as a server in service is), then the burst is timed by the client (from
 * writing each request) and by the server (its log line's `ms`, from arrival to answer).
 */
async function deadlineUnderLoad(port: number): Promise<DeadlineReport> {
  // `success` answers at the deadline (the other strategies hold attempts or answer a placeholder,
  // each measured by the slow-reply tests): this measures that every push is answered in time.
  const env: Record<string, string> = { WX_MP_SLOW_REPLY: 'success', ...(quick ? { WX_MP_REPLY_TIMEOUT_MS: String(settings.replyTimeoutMs) } : {}) }
  const logFile = join(tmpdir(), `wx-mp-svr-bench-deadline-${process.pid}.log`)
  const server = await startTarget('never', 'plain', port, env, logFile)
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

/** Every measured server in both modes, keyed by target id then mode. */
type Results = Partial<Record<Target['id'], Partial<Record<PushMode, TargetResult>>>>

function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((_, i) => Math.max(header[i]!.length, ...rows.map((row) => row[i]!.length)))
  const line = (row: string[]) => '| ' + row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join(' | ') + ' |'
  return [line(header), '|' + widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|') + '|', ...rows.map(line)].join('\n')
}

/** Every server and mode: throughput, latency, CPU, memory (the detailed table). */
function detailTable(results: Results): string {
  const ceiling = results.ceiling?.plain?.cpuUsPerReq
  const rows: string[][] = []
  for (const target of TARGETS) {
    for (const mode of target.modes) {
      const r = results[target.id]?.[mode]
      if (!r) continue
      rows.push([
        target.id === 'kit' ? mode : `${target.id}${target.modes.length > 1 ? ` ${mode}` : ''}`,
        String(r.reqPerSec),
        String(r.latencyP50Ms),
        String(r.latencyP99Ms),
        String(r.cpuUsPerReq),
        ceiling ? (r.cpuUsPerReq / ceiling).toFixed(2) : '–',
        String(r.peakRssMb),
      ])
    }
  }
  return markdownTable(['target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'CPU ×ceiling', 'peak RSS MB'], rows)
}

/** The comparison of the performance issue: one row per server, both modes, ratios to the ceiling. */
function comparisonTable(results: Results): string {
  const ceiling = results.ceiling?.plain?.cpuUsPerReq
  const cell = (r: TargetResult | undefined) => (r ? `${r.cpuUsPerReq}${ceiling ? ` (${(r.cpuUsPerReq / ceiling).toFixed(2)}×)` : ''}` : '—')
  const rows: string[][] = []
  for (const target of TARGETS) {
    const byMode = results[target.id]
    if (!byMode) continue
    const rss = target.modes.map((m) => byMode[m]?.peakRssMb).filter((x): x is number => x !== undefined)
    const label = target.id === 'kit' ? `**${target.label}**` : target.label
    rows.push([label, cell(byMode.plain), cell(byMode.safe), rss.length > 1 ? `${Math.min(...rss)}–${Math.max(...rss)}` : String(rss[0] ?? '—')])
  }
  return markdownTable(['server', 'plain µs/req (×ceiling)', 'safe µs/req (×ceiling)', 'peak RSS MB (both modes)'], rows)
}

function chartRows(results: Results): ChartRow[] {
  return TARGETS.filter((t) => results[t.id]).map((t) => {
    const r = results[t.id]!
    return {
      label: t.short,
      ours: t.id === 'kit',
      plainCpuUs: r.plain?.cpuUsPerReq,
      safeCpuUs: r.safe?.cpuUsPerReq,
      plainRssMb: r.plain?.peakRssMb,
      safeRssMb: r.safe?.peakRssMb,
    }
  })
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
    machine: { ...info, pinned, loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number) },
    settings: {
      ...settings,
      pipelining: 1,
      kitNodeFlags: flags['node-flag'],
      kit: 'node bin/wx-mp-svr.js demo/demo.ts: logging info (one JSON line per push, to /dev/null), dedup and the slow-reply strategy on (defaults: memory store, auto), deadline 4 500 ms',
    },
    targets,
  }

  if (!flags['only-flood']) {
    let chosen = chosenTargets()
    if (chosen.some((t) => t.installed)) {
      const installed = installPeers()
      if (!installed.ok) {
        console.warn(`warning: ${installed.why}; the installed peers (co-wechat, wechat) are left out of this run.`)
        chosen = chosen.filter((t) => !t.installed)
      }
    }
    const results: Results = {}
    let port = portBase
    for (const target of chosen) {
      for (const mode of target.modes) {
        process.stdout.write(`measuring ${target.id} ${mode}… `)
        const r = await measureTarget(target, mode, port++)
        ;(results[target.id] ??= {})[mode] = r
        console.log(`${r.cpuUsPerReq} µs CPU/request, ${r.reqPerSec} req/s, peak RSS ${r.peakRssMb} MB`)
      }
    }
    // The names the README and the smoke test read: the ceiling and the kit at the top level.
    const flat: Record<string, TargetResult> = {}
    if (results.ceiling?.plain) flat['ceiling'] = results.ceiling.plain
    if (results.kit?.plain) flat['plain'] = results.kit.plain
    if (results.kit?.safe) flat['safe'] = results.kit.safe
    const peers: Results = {}
    for (const id of ['reference', 'co-wechat', 'wechat'] as const) if (results[id]) peers[id] = results[id]
    output['results'] = { ...flat, peers }

    const ceiling = results.ceiling?.plain?.cpuUsPerReq
    const ratio = (r: TargetResult | undefined) => (r && ceiling ? round(r.cpuUsPerReq / ceiling, 2) : undefined)
    const ratios = { plain: ratio(results.kit?.plain), safe: ratio(results.kit?.safe) }
    const reference = { plain: ratio(results.reference?.plain), safe: ratio(results.reference?.safe) }
    output['ratios'] = { ...ratios, reference, coWechat: { plain: ratio(results['co-wechat']?.plain), safe: ratio(results['co-wechat']?.safe) }, wechat: { plain: ratio(results.wechat?.plain), safe: ratio(results.wechat?.safe) } }
    const kitRss = [results.kit?.plain?.peakRssMb, results.kit?.safe?.peakRssMb].filter((x): x is number => x !== undefined)
    const peakRssMb = kitRss.length ? Math.max(...kitRss) : undefined
    // Not measured is not met.
    const atMost = (a: number | undefined, b: number | undefined) => a !== undefined && b !== undefined && a <= b
    output['met'] = {
      plainCpuRatio: atMost(ratios.plain, reference.plain),
      safeCpuRatio: atMost(ratios.safe, reference.safe),
      peakRssMb: atMost(peakRssMb, targets.peakRssMb),
    }
    console.log('\n' + detailTable(results) + '\n')
    console.log(comparisonTable(results) + '\n')
    if (ratios.plain !== undefined && ratios.safe !== undefined) {
      const vs = (r: number | undefined) => (r === undefined ? 'reference not measured' : `reference ${r}×`)
      console.log(
        `kit: plain ${ratios.plain}× the ceiling (${vs(reference.plain)}), safe ${ratios.safe}× (${vs(reference.safe)}); ` +
          `peak RSS ${peakRssMb} MB (target ≤ ${targets.peakRssMb} MB)`,
      )
    }

    if (chosen.some((t) => t.id === 'kit') && settings.startups > 0) {
      const nodes = [process.execPath, ...flags['startup-node']]
      const startups: StartupResult[] = []
      for (const node of nodes) {
        process.stdout.write(`\nstart-up and idle RSS of \`node bin/wx-mp-svr.js demo/demo.ts\` (${settings.startups}×, idle ${settings.idleSettleMs / 1000} s)… `)
        const s = await startup(node, port++)
        startups.push(s)
        console.log(
          `Node ${s.node}: first 200 on /healthz after ${s.firstHealthzMedianMs} ms (median of ${s.firstHealthzMs.join(', ')}; target ≤ ${targets.firstHealthzMs} ms), ` +
            `idle RSS ${s.idleRssMb} MB (target ≤ ${targets.idleRssMb} MB), peak while starting ${s.startupPeakRssMb} MB`,
        )
      }
      output['startup'] = startups
      output['met'] = { ...(output['met'] as object), idleRssMb: startups.every((s) => s.idleRssMb <= targets.idleRssMb) }
    }

    if (chartFile && results.ceiling && results.kit) {
      const subtitle = `${info.nproc} cores · ${info.cpuModel} · Node ${info.node} · 50 connections, echo bot, distinct signed pushes · npm run bench`
      mkdirSync(dirname(chartFile), { recursive: true })
      writeFileSync(chartFile, barChart(chartRows(results), {
          title: 'WeChat message servers: CPU per push and memory under load',
          subtitle,
          rssTargetMb: targets.peakRssMb,
          ceilingCpuUs: results.ceiling.plain?.cpuUsPerReq,
        }))
      console.log(`wrote ${chartFile}`)
    }

    if (chosen.some((t) => t.id === 'kit')) {
      process.stdout.write(`\ndeadline under load: ${settings.deadlinePushes} pushes at once, handler never finishes… `)
      const deadline = await deadlineUnderLoad(port++)
      output['deadline'] = deadline
      console.log(
        `${deadline.answeredSuccess}/${deadline.pushes} answered success (deadline ${deadline.deadlineMs} ms, target p99 ≤ ${deadline.deadlineMs + 50} ms) ${deadline.pass ? 'PASS' : 'FAIL'}\n` +
          `  server, arrival → answer:  p50 ${deadline.server.p50Ms} ms, p99 ${deadline.server.p99Ms} ms, max ${deadline.server.maxMs} ms\n` +
          `  client, write → answer:    p50 ${deadline.p50Ms} ms, p99 ${deadline.p99Ms} ms, max ${deadline.maxMs} ms (the burst took the client ${deadline.burstWriteMs} ms to write)`,
      )
    }
  }

  if (flags.flood || flags['only-flood']) {
    console.log(`\nflood: ${settings.floodPushes} distinct pushes in bursts to the plain server`)
    const kit = TARGETS.find((t) => t.id === 'kit')!
    const server = await startTarget(kit, 'plain', portBase + 20)
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
