/**
 * A private `redis-server` for tests: found on PATH (Debian package `redis-server`), started on a
 * free loopback port in a temporary directory with persistence off, stopped at the end. Where the
 * binary is absent the Redis tests skip with {@link redisSkip}'s reason — unless
 * `WX_MP_TEST_REDIS=require` (set by CI), where its absence fails the run instead.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

/** Whoever stops the server when done: a tap `Test`, or anything with `teardown`. */
export interface ServerOwner {
  teardown(fn: () => unknown): void
}

/** Path of `redis-server` on PATH, or undefined. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, 'redis-server')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return undefined
}

/**
 * `false` when the Redis tests can run, else the reason to skip them (for tap's `skip` option).
 *
 * @throws when `redis-server` is missing but `WX_MP_TEST_REDIS=require`.
 */
export function redisSkip(): false | string {
  if (findRedisServer() !== undefined) return false
  if (process.env['WX_MP_TEST_REDIS'] === 'require') {
    throw new Error('WX_MP_TEST_REDIS=require but redis-server is not on PATH: apt-get install redis-server')
  }
  return 'redis-server not found: apt-get install redis-server'
}

/** A running private Redis. */
export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  /** Whether the process runs. */
  readonly running: boolean
  /** The server's process id (while it runs). */
  readonly pid: number | undefined
  /** Kills the server (SIGKILL: like a crash; nothing is flushed) and waits for it to exit. */
  kill(): Promise<void>
  /** Starts it again on the same port (empty: persistence is off) and waits until it answers PING. */
  restart(): Promise<void>
  /** Freezes the process (SIGSTOP): connections stay open, nothing answers — a hung server. */
  pause(): void
  /** Thaws it (SIGCONT). */
  resume(): void
  /** Stops it and removes its directory. */
  stop(): Promise<void>
}

/** A port nobody listens on right now (the OS picks it; released before use). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once `port` answers `PING` with `+PONG`, or rejects after `timeoutMs`. */
export async function waitForPong(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await pingOnce(port)) return
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Sends one command over a fresh connection and returns the raw RESP reply (for test setup only). */
export function rawCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let data = ''
    socket.setTimeout(5_000, () => {
      socket.destroy()
      reject(new Error(`no answer to ${args[0]} within 5 s`))
    })
    socket.once('error', reject)
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`))
    socket.on('data', (chunk) => {
      data += chunk.toString()
      // Enough for the replies used here: a status, an error, an integer, or one bulk string.
      const bulk = /^\$(\d+)\r\n/.exec(data)
      if (bulk ? data.length >= bulk[0].length + Number(bulk[1]) + 2 : data.includes('\r\n')) {
        socket.destroy()
        resolve(data)
      }
    })
  })
}

/**
 * Starts a one-node Redis Cluster (cluster mode on, every slot on this node): the server refuses
 * any command or script that touches keys of two slots, as a real cluster does.
 */
export async function startRedisClusterNode(t: ServerOwner): Promise<RedisServer> {
  const [server] = await startRedisCluster(t, 1)
  return server!
}

/**
 * Starts a Redis Cluster of `nodes` masters on loopback, the 16384 slots split evenly between them
 * in order, and waits until every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(t: ServerOwner, nodes: number): Promise<RedisServer[]> {
  const servers: RedisServer[] = []
  for (let i = 0; i < nodes; i++) {
    servers.push(await startRedisServer(t, { args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] }))
  }
  const per = Math.ceil(16384 / nodes)
  for (const [i, server] of servers.entries()) {
    const added = await rawCommand(server.port, 'CLUSTER', 'ADDSLOTSRANGE', String(i * per), String(Math.min(16383, (i + 1) * per - 1)))
    if (!added.startsWith('+OK')) throw new Error(`CLUSTER ADDSLOTSRANGE failed: ${added.trim()}`)
    if (i > 0) await rawCommand(servers[0]!.port, 'CLUSTER', 'MEET', '127.0.0.1', String(server.port))
  }
  const deadline = Date.now() + 15_000
  for (const server of servers) {
    while (!(await rawCommand(server.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      if (Date.now() > deadline) throw new Error(`the ${nodes}-node cluster did not reach cluster_state:ok within 15 s`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  return servers
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let data = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1')
      // A server with a password answers -NOAUTH: it is up all the same.
      if (data.includes('\r\n')) done(data.startsWith('+PONG') || data.startsWith('-NOAUTH'))
    })
  })
}

/**
 * Starts a private `redis-server` and stops it when `t` ends (and, as a last resort, when this
 * process exits).
 */
export async function startRedisServer(t: ServerOwner, options: { args?: string[] } = {}): Promise<RedisServer> {
  const binary = findRedisServer()
  if (binary === undefined) throw new Error('redis-server not found: apt-get install redis-server')
  const dir = mkdtempSync(join(tmpdir(), 'wx-mp-redis-'))
  const port = await freePort()
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()
  const killOnExit = () => child?.kill('SIGKILL')
  process.once('exit', killOnExit)

  const launch = async () => {
    const proc = spawn(
      binary,
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning', ...(options.args ?? [])],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child = proc
    exited = new Promise((resolve) => proc.once('exit', () => resolve()))
    let up = false
    const early = exited.then(() => {
      if (!up) throw new Error(`redis-server exited at start: ${stderr.trim()}`)
    })
    early.catch(() => undefined)
    await Promise.race([waitForPong(port), early])
    up = true
  }

  const kill = async (signal: NodeJS.Signals) => {
    const proc = child
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGCONT')
    proc.kill(signal)
    await exited
  }

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid
    },
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null
    },
    kill: () => kill('SIGKILL'),
    restart: async () => {
      await kill('SIGKILL')
      await launch()
    },
    pause: () => child?.kill('SIGSTOP'),
    resume: () => child?.kill('SIGCONT'),
    stop: async () => {
      await kill('SIGTERM')
      process.removeListener('exit', killOnExit)
      rmSync(dir, { recursive: true, force: true })
    },
  }
  t.teardown(() => server.stop())
  await launch()
  return server
}
