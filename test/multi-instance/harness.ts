/**
 * Two instances of one bot sharing one private Redis, and a WeChat that sends each attempt of a
 * push to the instance a plan names (A / B / A …) — the situation behind a load balancer, where
 * WeChat's retries come from other IPs and land anywhere.
 *
 * The instances here are `createServer` apps in this process, each with its own Redis connection,
 * dispatcher and owner id: nothing but Redis is shared between them (the handler's run counter is
 * the test's, to count runs across both). The CLI test (`cli.test.ts`) runs the same as two child
 * processes.
 */
import type { Test } from 'tap'
import pino from 'pino'
import { Writable } from 'node:stream'
import { createServer, type CreateServerOptions, type SlowReplyStrategy } from '../../src/index.js'
import { createEmulator, type Emulator, type Exchange, type ExchangeOptions, type MockApi } from '../../src/emulator/index.js'
import { exchange as httpExchange } from '../../src/emulator/transport.js'
import type { HandlerContext, NormalMessage } from '../../src/index.js'

export const TOKEN = 'multiInstanceToken0123456789abcd'
export const APP_ID = 'wxMulti00000000001'
export const APP_SECRET = 'multiSecret'

/** One running instance. */
export interface Instance {
  name: string
  /** Its callback URL. */
  url: string
  /** Every log line it wrote, parsed. */
  logs: Array<Record<string, unknown>>
}

/** A log sink that keeps every JSON line. */
function capture(): { logger: pino.Logger; logs: Array<Record<string, unknown>> } {
  const logs: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as Record<string, unknown>)
      done()
    },
  })
  return { logger: pino({ level: 'info' }, stream), logs }
}

/** Options of {@link startPair}. */
export interface PairOptions {
  redisUrl: string
  strategy: SlowReplyStrategy
  /** How long the handler takes, ms. */
  handlerMs: number
  /** The mock API (both instances get the AppID, the AppSecret and its base URL). */
  api?: MockApi
  /** Redis key prefix: one per scenario, so that scenarios sharing one Redis never meet. */
  prefix: string
  extra?: Partial<CreateServerOptions>
}

/** Two instances of one bot; `runs()` counts the handler's runs across both. */
export interface Pair {
  A: Instance
  B: Instance
  runs: () => number
}

/** Starts instances A and B of one bot on one Redis; both are closed when `t` ends. */
export async function startPair(t: Test, o: PairOptions): Promise<Pair> {
  let runs = 0
  const onMessage = (msg: NormalMessage, _ctx: HandlerContext): Promise<string> | string => {
    runs++
    const q = msg.msgType === 'text' ? msg.content : msg.msgType
    if (o.handlerMs === 0) return `answer to ${q} (run ${runs})`
    const run = runs
    return new Promise((resolve) => setTimeout(() => resolve(`answer to ${q} (run ${run})`), o.handlerMs))
  }
  const start = async (name: string): Promise<Instance> => {
    const { logger, logs } = capture()
    const app = await createServer({
      token: TOKEN,
      env: { WX_MP_REDIS_URL: o.redisUrl, WX_MP_REDIS_PREFIX: o.prefix },
      logger,
      slowReply: o.strategy,
      appId: APP_ID,
      ...(o.api ? { appSecret: APP_SECRET, apiBaseUrl: o.api.baseUrl } : {}),
      onMessage,
      ...o.extra,
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    t.teardown(() => app.close())
    const { port } = app.server.address() as { port: number }
    return { name, url: `http://127.0.0.1:${port}/wx`, logs }
  }
  const [A, B] = await Promise.all([start('A'), start('B')])
  return { A: A!, B: B!, runs: () => runs }
}

/** What one attempt did: where it went, and the answer the instance gave (before any loss). */
export interface Routed {
  to: string
  status: number
  body: string
  error?: string
}

/**
 * A WeChat whose attempt n of each push goes to `plan[n - 1]`; attempts whose number is in
 * `lose` have their answer lost on the way back (the instance answered; WeChat saw the connection
 * reset, and pushes again at once).
 */
export interface RoutedWechat {
  emulator: Emulator
  /** Sets the route of the next push (attempt n → plan[n - 1]). */
  route(plan: readonly Instance[], lose?: readonly number[]): void
  /** The attempts of the last push, as the instances answered them. */
  readonly routed: Routed[]
}

/** A WeChat for one user, routing each attempt as {@link RoutedWechat.route} says. */
export function routedWechat(options: { mockApi?: MockApi; fromUserName?: string } = {}): RoutedWechat {
  let plan: readonly Instance[] = []
  let lose: readonly number[] = []
  let routed: Routed[] = []
  const send = async (url: URL, opts: ExchangeOptions): Promise<Exchange> => {
    const n = routed.length + 1
    const target = plan[Math.min(n, plan.length) - 1]!
    const to = new URL(target.url)
    to.search = url.search
    const ex = await httpExchange(to, opts)
    routed.push({ to: target.name, status: ex.status, body: ex.body, ...(ex.error ? { error: ex.error } : {}) })
    if (lose.includes(n) && ex.error === undefined) return { status: 0, ms: ex.ms, body: '', error: 'reset', detail: 'the answer was lost on the way back' }
    return ex
  }
  const emulator = createEmulator({
    url: 'http://wx-mp.invalid/wx',
    token: TOKEN,
    appId: APP_ID,
    exchange: send,
    ...(options.mockApi ? { mockApi: options.mockApi } : {}),
    ...(options.fromUserName ? { fromUserName: options.fromUserName } : {}),
  })
  return {
    emulator,
    route(next, lost = []) {
      plan = next
      lose = lost
      routed = []
    },
    get routed() {
      return routed
    },
  }
}

/** The log lines of `instance` whose message matches `pattern`. */
export function logLines(instance: Instance, pattern: RegExp): Array<Record<string, unknown>> {
  return instance.logs.filter((l) => typeof l['msg'] === 'string' && pattern.test(l['msg']))
}
