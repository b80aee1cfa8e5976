/**
 * #12: two instances of one bot on one real Redis, WeChat's attempts of ONE push sent to
 * instances A / B / A on WeChat's real schedule (attempts dropped at 5 s). The instances are
 * `createServer` apps in this process (see harness.ts): each scenario needs two instances with its
 * own handler timing, and six pairs of child processes would cost more start-up time than the
 * scenarios themselves. Scenarios run side by side; the file takes about 35 s (the 30 s handler).
 */
import t from 'tap'

// Each scenario waits on WeChat's real 5-second schedule: run them side by side.
t.jobs = 8
import { startMockApi } from '../../src/emulator/index.js'
import { StoreKeys } from '../../src/store/keys.js'
import { rawCommand, redisSkip, startRedisServer, type RedisServer } from '../store/redis-server.js'
import { APP_ID, APP_SECRET, logLines, routedWechat, startPair } from './harness.js'

const skip = redisSkip()
if (skip) t.comment(`skipping the multi-instance tests: ${skip}`)

let redis: RedisServer | undefined
t.before(async () => {
  if (!skip) redis = await startRedisServer(t)
})

/** The value of a key in the private Redis (undefined when absent). */
async function redisGet(key: string): Promise<string | undefined> {
  const raw = await rawCommand(redis!.port, 'GET', key)
  const bulk = /^\$(\d+)\r\n/.exec(raw)
  return bulk ? raw.slice(bulk[0].length, bulk[0].length + Number(bulk[1])) : undefined
}

t.test('a fast answer lost on the way back: attempts A / B / A, the handler runs once, every answer identical', { skip }, async (t) => {
  const pair = await startPair(t, { redisUrl: redis!.url, strategy: 'retry-window', handlerMs: 0, prefix: 'fast' })
  const wechat = routedWechat()
  wechat.route([pair.A, pair.B, pair.A], [1, 2])
  const result = await wechat.emulator.send('q1')
  t.equal(result.ok, true)
  t.match(result.shown, /^answer to q1 \(run 1\)$/)
  t.same(
    wechat.routed.map((r) => [r.to, r.status]),
    [
      ['A', 200],
      ['B', 200],
      ['A', 200],
    ],
  )
  const bodies = new Set(wechat.routed.map((r) => r.body))
  t.equal(bodies.size, 1, 'the three answers are byte for byte the same (CreateTime included)')
  t.equal(pair.runs(), 1, 'the handler ran once across both instances')
  t.same(logLines(pair.B, /./).map((l) => l['outcome']).filter(Boolean), ['duplicate'], 'B answered from the stored reply')
})

for (const plan of ['ABA', 'ABB'] as const) {
  t.test(`retry-window, a 12 s handler, attempts ${plan.split('').join(' / ')}: runs once, delivered on the last attempt`, { skip }, async (t) => {
    const pair = await startPair(t, { redisUrl: redis!.url, strategy: 'retry-window', handlerMs: 12_000, prefix: `rw${plan}` })
    const wechat = routedWechat()
    wechat.route(plan.split('').map((n) => (n === 'A' ? pair.A : pair.B)))
    const result = await wechat.emulator.send('q1')
    t.equal(result.ok, true, 'no failure notice')
    t.equal(result.shown, 'answer to q1 (run 1)')
    t.match(result.attempts, [{ error: 'timeout' }, { error: 'timeout' }, { status: 200 }], 'attempts 1 and 2 held until WeChat dropped them')
    t.same(
      wechat.routed.map((r) => r.to),
      plan.split(''),
    )
    t.equal(pair.runs(), 1, 'the handler ran once across both instances')
  })
}

t.test('next-message, a 30 s handler: the placeholder from A, the answer with the next message to B', { skip }, async (t) => {
  const pair = await startPair(t, { redisUrl: redis!.url, strategy: 'next-message', handlerMs: 30_000, prefix: 'next' })
  const wechat = routedWechat()
  wechat.route([pair.A, pair.B, pair.A])
  const first = await wechat.emulator.send('q1')
  t.match(first.shown, /回答正在准备中/, 'A answers the placeholder at the deadline')
  t.same(
    wechat.routed.map((r) => r.to),
    ['A'],
  )
  // The handler ends about 30 s after the push; the user writes again just after.
  await new Promise((resolve) => setTimeout(resolve, 30_000 - 4_500 + 500))
  wechat.route([pair.B])
  const second = await wechat.emulator.send('继续')
  t.equal(second.shown, 'answer to q1 (run 1)', 'B delivers the answer A computed')
  t.equal(pair.runs(), 1)
})

// A / A: the same fault within one instance (a retry joining the run after the fallback was decided).
for (const { plan, lost } of [
  { plan: 'ABA', lost: [1, 2] },
  { plan: 'AA', lost: [1] },
]) {
  t.test(`customer-service on a verified account, answers ${lost.join(' and ')} lost, attempts ${plan.split('').join(' / ')}: sent once, the quota counted once, the token fetched once`, { skip }, async (t) => {
    const api = await startMockApi({ preset: 'verified', appId: APP_ID, appSecret: APP_SECRET })
    t.teardown(() => api.close())
    const prefix = `kefu${plan}`
    const pair = await startPair(t, { redisUrl: redis!.url, strategy: 'customer-service', handlerMs: 7_000, api, prefix })
    const wechat = routedWechat({ mockApi: api })
    // 'success' answers lost: WeChat pushes again; the last attempt comes while the handler still runs.
    wechat.route(plan.split('').map((n) => (n === 'A' ? pair.A : pair.B)), lost)
    const result = await wechat.emulator.send('q1', { waitMs: 9_000 })
    t.same(
      result.messages.filter((m) => /answer to/.test(m.text)).map((m) => [m.via, m.text]),
      [['customer-service', 'answer to q1 (run 1)']],
      'the user sees the answer once, by 客服',
    )
    t.equal(api.messages.length, 1, 'the mock API received one customer-service message')
    t.equal(pair.runs(), 1)
    const quota = await redisGet(new StoreKeys(prefix, APP_ID).key('quota', 'message', wechat.emulator.fromUserName))
    t.equal(quota, '4', 'one of the 5 messages of the 48 h window is spent, once')
    t.equal((api.calls['/cgi-bin/stable_token'] ?? 0) + (api.calls['/cgi-bin/token'] ?? 0), 1, 'one access token for both instances')
  })
}

t.test('the access token: fetched once across both instances; a 40001 on one leads to one refresh', { skip }, async (t) => {
  const api = await startMockApi({ preset: 'verified', appId: APP_ID, appSecret: APP_SECRET })
  t.teardown(() => api.close())
  const pair = await startPair(t, { redisUrl: redis!.url, strategy: 'customer-service', handlerMs: 5_000, api, prefix: 'token' })
  // Both instances probe the customer-service permission at start: each needs the token.
  const deadline = Date.now() + 5_000
  while ((api.calls['/cgi-bin/message/custom/typing'] ?? 0) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.equal(api.calls['/cgi-bin/message/custom/typing'], 2, 'both instances called the API')
  t.equal(api.calls['/cgi-bin/stable_token'], 1, 'with one token fetch')

  // Another holder force-refreshes: the shared token answers 40001 on the next call of either.
  api.invalidateTokens()
  const users = [routedWechat({ mockApi: api }), routedWechat({ mockApi: api })]
  users[0]!.route([pair.A])
  users[1]!.route([pair.B])
  const results = await Promise.all(users.map((u) => u.emulator.send('q', { waitMs: 7_000 })))
  for (const [i, r] of results.entries()) {
    t.equal(r.messages.filter((m) => m.via === 'customer-service').length, 1, `user ${i + 1} got the answer by 客服`)
  }
  t.ok(
    api.history.some((c) => c.errcode === 40001),
    'the stale token was refused',
  )
  t.equal(api.calls['/cgi-bin/stable_token'], 2, 'one refresh for both instances, not two')
})

t.test('Redis stopped mid-run under onDedupError "success": pushes answered success at once, no handler run, one warning; state shared again after the restart', { skip }, async (t) => {
  const own = await startRedisServer(t)
  const pair = await startPair(t, { redisUrl: own.url, strategy: 'retry-window', handlerMs: 0, prefix: 'outage', extra: { onDedupError: 'success' } })
  const wechat = routedWechat()

  await own.kill()
  for (const [i, to] of [pair.A, pair.B, pair.A, pair.B].entries()) {
    wechat.route([to])
    const started = Date.now()
    const result = await wechat.emulator.send(`down${i}`)
    t.equal(result.ok, true, `push ${i} answered`)
    t.equal(result.shown, '', 'success: the policy keeps the handler from running without dedup')
    t.ok(Date.now() - started < 4_500, 'within the deadline')
  }
  t.equal(pair.runs(), 0)
  for (const instance of [pair.A, pair.B]) {
    t.equal(logLines(instance, /^Redis at .* is unavailable/).length, 1, `${instance.name}: one warning for the outage`)
    t.same(
      instance.logs.filter((l) => (l['level'] as number) >= 40 && !/^Redis at/.test(String(l['msg']))),
      [],
      `${instance.name}: no other warning`,
    )
  }

  await own.restart()
  const until = Date.now() + 5_000
  while ([pair.A, pair.B].some((i) => logLines(i, /answers again after/).length === 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  wechat.route([pair.B, pair.A, pair.B], [1, 2])
  const after = await wechat.emulator.send('q2')
  t.equal(after.shown, 'answer to q2 (run 1)')
  t.equal(new Set(wechat.routed.map((r) => r.body)).size, 1, 'every attempt got the same answer')
  t.equal(pair.runs(), 1, 'dedup across the instances works again')
})
