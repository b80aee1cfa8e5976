/**
 * The servers under test, each in its own process: started pinned to a core, measured from the
 * kernel's accounting in /proc (CPU time of all its threads, RSS), and stopped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { openSync, readFileSync, closeSync } from 'node:fs'
import { get } from 'node:http'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100

/** Whether `taskset` can pin processes here (and there are at least two cores to split). */
export function cpuPinning(cores: number): { ok: boolean; why?: string } {
  if (cores < 2) return { ok: false, why: `only ${cores} core` }
  const probe = spawnSync('taskset', ['-c', '0', 'true'])
  if (probe.error || probe.status !== 0) return { ok: false, why: 'taskset is not available' }
  return { ok: true }
}

/** Pins this process (all its threads: autocannon, the load generator, runs here) to `core`. */
export function pinSelf(core: number): boolean {
  return spawnSync('taskset', ['-a', '-cp', String(core), String(process.pid)]).status === 0
}

/** CPU time (user + system, all threads, ms) the kernel has charged to `pid`. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // After "pid (comm) ": field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK
}

/** Current and peak resident set size of `pid`, MB. */
export function memoryMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN)
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}

/** A server process under test. */
export interface Server {
  name: string
  pid: number
  url: string
  child: ChildProcess
  /** From spawn to the first 200 on /healthz, ms (polled every 5 ms). */
  readyMs: number
  /** Output on stderr (startup failures). */
  stderr(): string
  stop(): Promise<void>
}

export interface StartOptions {
  name: string
  /** node arguments (script and its arguments), e.g. ['bin/wx-mp-svr.js', 'demo/demo.ts', '--port', '5101']. */
  args: string[]
  port: number
  env?: Record<string, string | undefined>
  /** Core to pin to, when pinning works. */
  core?: number
  /** Where stdout goes (the kit's one log line per push); default /dev/null. */
  stdoutFile?: string
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[]
  /** The node binary to run the server with; default the one running the benchmark. */
  node?: string
  cwd: string
}

/** Whether GET `url` answers 200: plain node:http, no keep-alive, so the first probe is as cheap as the last. */
function answers200(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.setTimeout(2_000, () => req.destroy())
  })
}

/** Starts a server and waits until its `/healthz` answers. */
export async function startServer(options: StartOptions): Promise<Server> {
  const nodeArgs = [...(options.nodeFlags ?? []), ...options.args]
  const node = options.node ?? process.execPath
  const [command, args] = options.core === undefined ? [node, nodeArgs] : ['taskset', ['-c', String(options.core), node, ...nodeArgs]]
  const spawnedAt = performance.now()
  const out = openSync(options.stdoutFile ?? '/dev/null', 'w')
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, NODE_OPTIONS: '', ...options.env, PORT: String(options.port) },
    stdio: ['ignore', out, 'pipe'],
  })
  closeSync(out)
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const base = `http://127.0.0.1:${options.port}`
  const until = Date.now() + 30_000
  let readyMs: number
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.name} exited at startup (${child.exitCode}):\n${stderr}`)
    if (await answers200(`${base}/healthz`)) {
      readyMs = performance.now() - spawnedAt
      break
    }
    if (Date.now() > until) {
      child.kill('SIGKILL')
      throw new Error(`${options.name} did not answer /healthz within 30 s:\n${stderr}`)
    }
    await sleep(5)
  }
  return {
    name: options.name,
    pid: child.pid!,
    url: base,
    child,
    readyMs,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null) return
      // The kit drains running handlers on the first SIGINT and exits at once on the second.
      child.kill('SIGINT')
      const again = setTimeout(() => child.kill('SIGINT'), 3_000)
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(again)
      clearTimeout(kill)
    },
  }
}
