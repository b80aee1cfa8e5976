/**
 * #12 with the published bin: two `wx-mp-svr` processes of one bot sharing one private Redis,
 * as a user runs them behind nginx. Needs `dist/` (`npm run build`; `npm test` builds first).
 * The start-up failure runs first and alone (it is timed: it must not share the CPU with the start
 * of six other processes); the other scenarios then run side by side. The file takes about 25 s.
 */
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { runToken } from '../../src/cli/commands/api.js'
import { startMockApi } from '../../src/emulator/index.js'
import { freePort, redisSkip, startRedisServer } from '../store/redis-server.js'
import { APP_ID, APP_SECRET, TOKEN, routedWechat, type Instance } from './harness.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = fileURLToPath(new URL('../../bin/wx-mp-svr.js', import.meta.url))
const bot = fileURLToPath(new URL('./fixtures/bot.mjs', import.meta.url))

const skip = redisSkip()
if (skip) t.comment(`skipping the multi-instance CLI tests: ${skip}`)

interface Spawned {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
}

function start(t: Test, args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d))
  child.stderr!.on('data', (d: Buffer) => (err += d))
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return { child, stdout: () => out, stderr: () => err }
}

async function listening(spawned: Spawned, name: string): Promise<Instance> {
  for (;;) {
    const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/wx)/.exec(spawned.stdout())
    if (match) return { name, url: match[1]!, logs: [] }
    if (spawned.child.exitCode !== null) throw new Error(`${name} exited early: ${spawned.stderr()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** The JSON log lines of a process whose message matches `pattern`. */
function logged(spawned: Spawned, pattern: RegExp): Array<Record<string, unknown>> {
  return spawned
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => typeof l['msg'] === 'string' && pattern.test(l['msg']))
}

function runsOf(spawned: Spawned, text: string): number {
  return spawned.stdout().split('\n').filter((l) => l === `RUN ${text}`).length
}

t.test('WX_MP_REDIS_URL pointing at nothing: exit 1 within 15 s, one line naming the variable and the address, never the password', { skip }, async (t) => {
  const port = await freePort()
  const started = Date.now()
  const run = start(t, [bot, '--port', '0'], { WX_MP_TOKEN: TOKEN, WX_MP_REDIS_URL: `redis://admin:hunter2secret@127.0.0.1:${port}/0` })
  const [code] = await once(run.child, 'exit')
  t.equal(code, 1)
  t.ok(Date.now() - started < 15_000, `exited after ${Date.now() - started} ms`)
  const lines = run.stderr().trimEnd().split('\n')
  t.equal(lines.length, 1, `one line: ${run.stderr()}`)
  t.match(lines[0], `WX_MP_REDIS_URL`)
  t.match(lines[0], `127.0.0.1:${port}`)
  t.notMatch(run.stdout() + run.stderr(), /hunter2secret|admin:/, 'the password is never printed')
  t.equal(run.stdout(), '', 'no banner: the bot never listened')
})

// After the timed start-up failure: the scenarios with processes that serve, side by side.
t.test('processes serving one account on one Redis', { skip }, async (t) => {
  t.jobs = 3
  t.test('two processes on one Redis: a lost answer retried A / B / A runs once; Redis stopped and restarted mid-run', { skip }, async (t) => {
    const redis = await startRedisServer(t)
    const env = { WX_MP_TOKEN: TOKEN, WX_MP_APPID: APP_ID, WX_MP_REDIS_URL: redis.url, LOG_LEVEL: 'info' }
    const procs = [start(t, [bot, '--port', '0'], env), start(t, [bot, '--port', '0'], env)]
    const [A, B] = await Promise.all(procs.map((p, i) => listening(p, i === 0 ? 'A' : 'B')))
    const runs = (text: string): number => runsOf(procs[0]!, text) + runsOf(procs[1]!, text)

    const wechat = routedWechat()
    wechat.route([A!, B!, A!], [1, 2])
    const lost = await wechat.emulator.send('q1')
    t.equal(lost.ok, true)
    t.same(
      wechat.routed.map((r) => [r.to, r.status]),
      [
        ['A', 200],
        ['B', 200],
        ['A', 200],
      ],
    )
    t.equal(new Set(wechat.routed.map((r) => r.body)).size, 1, 'every attempt got the same answer')
    t.equal(runs('q1'), 1, 'the handler ran once across both processes')

    // Redis goes away: every push is still answered within the deadline (policy "run").
    await redis.kill()
    for (const [i, plan] of [[A!], [B!], [A!], [B!]].entries()) {
      wechat.route(plan)
      const started = Date.now()
      const result = await wechat.emulator.send(`down${i}`)
      t.equal(result.ok, true, `push ${i} answered during the outage`)
      t.match(result.shown, `answer to down${i}`)
      t.ok(Date.now() - started < 4_500, 'within the deadline')
    }
    for (const [i, p] of procs.entries()) {
      t.equal(p.child.exitCode, null, `process ${i === 0 ? 'A' : 'B'} is still up`)
      t.equal(logged(p, /^Redis at .* is unavailable/).length, 1, `one outage warning from ${i === 0 ? 'A' : 'B'}`)
      t.same(logged(p, /store failed/), [], 'no warning per push')
    }

    // Redis is back (empty: persistence is off): state is shared again.
    await redis.restart()
    await new Promise((r) => setTimeout(r, 1_500))
    wechat.route([B!, A!, B!], [1, 2])
    const after = await wechat.emulator.send('q2')
    t.equal(after.ok, true)
    t.equal(new Set(wechat.routed.map((r) => r.body)).size, 1)
    t.equal(runs('q2'), 1, 'dedup across both processes works again')
    t.same(procs.map((p) => logged(p, /^Redis at .* answers again after/).length), [1, 1], 'each process reports the recovery once')

    for (const p of procs) p.child.kill('SIGTERM')
    const codes = await Promise.all(procs.map(async (p) => (await once(p.child, 'exit'))[0]))
    t.same(codes, [0, 0], 'both close cleanly')
    t.notMatch(procs.map((p) => p.stdout() + p.stderr()).join(''), /unhandled|uncaught/i)
  })

  t.test('`wx-mp-svr token` twice with WX_MP_REDIS_URL: one token fetch, shared through Redis', { skip }, async (t) => {
    const redis = await startRedisServer(t)
    const api = await startMockApi({ preset: 'verified', appId: APP_ID, appSecret: APP_SECRET })
    t.teardown(() => api.close())
    const env = { WX_MP_APPID: APP_ID, WX_MP_APPSECRET: APP_SECRET, WX_MP_API_BASE_URL: api.baseUrl, WX_MP_REDIS_URL: redis.url }
    for (const i of [1, 2]) {
      const run = start(t, ['token'], env)
      const [code] = await once(run.child, 'exit')
      t.equal(code, 0, `run ${i}: ${run.stderr()}`)
      t.match(run.stdout(), /access_token: OK/)
    }
    t.equal(api.calls['/cgi-bin/stable_token'], 1, 'the second run used the token the first stored in Redis')

    let err = ''
    const code = await runToken({}, { env: { ...env, WX_MP_REDIS_PREFIX: 'wx mp' }, stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } })
    t.equal(code, 1, 'a bad WX_MP_REDIS_PREFIX is a configuration error')
    t.match(err, /WX_MP_REDIS_PREFIX must be letters, digits/)
    t.notMatch(err, /WX_MP_APPSECRET/, 'without the hint about the credentials')
  })

  t.test('the process running a handler dies: its lease runs out and a later attempt runs the handler on the other', { skip }, async (t) => {
    const redis = await startRedisServer(t)
    const env = { WX_MP_TOKEN: TOKEN, WX_MP_APPID: APP_ID, WX_MP_REDIS_URL: redis.url, WX_MP_SLOW_REPLY: 'retry-window' }
    // A would take a minute; B answers at once.
    const a = start(t, [bot, '--port', '0'], { ...env, BOT_DELAY_MS: '60000' })
    const b = start(t, [bot, '--port', '0'], env)
    const [A, B] = await Promise.all([listening(a, 'A'), listening(b, 'B')])
    // A is killed as soon as its handler starts (attempt 1 then fails: WeChat pushes again).
    const killed = (async () => {
      while (runsOf(a, 'q') === 0) await new Promise((r) => setTimeout(r, 20))
      a.child.kill('SIGKILL')
    })()
    const wechat = routedWechat()
    wechat.route([A!, B!, B!])
    const result = await wechat.emulator.send('q')
    await killed
    t.equal(result.ok, true, 'no failure notice')
    t.match(result.shown, `answer to q (pid ${b.child.pid})`, 'B ran the handler once A\'s lease ran out')
    t.same(
      wechat.routed.map((r) => r.to),
      ['A', 'B', 'B'],
    )
    t.equal(runsOf(b, 'q'), 1)
    t.equal(logged(b, /stopped answering; running the handler here/).length, 1)
  })
})
