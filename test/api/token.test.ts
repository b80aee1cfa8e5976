import t from 'tap'
import { MemoryTokenStore, WxMpApiError } from '../../src/api/index.js'
import { harness, T0 } from './harness.js'

const STABLE = '/cgi-bin/stable_token'
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5)))

t.test('50 concurrent getAccessToken() calls cause exactly one fetch', async (t) => {
  const h = await harness(t)
  const tokens = await Promise.all(Array.from({ length: 50 }, () => h.api.getAccessToken()))
  t.equal(h.server.requestsTo(STABLE).length, 1)
  t.equal(new Set(tokens).size, 1)
  t.equal(tokens[0], h.server.currentStableToken)
  t.same(h.server.requestsTo(STABLE)[0]?.body, {
    grant_type: 'client_credential',
    appid: h.server.appId,
    secret: h.server.appSecret,
    force_refresh: false,
  })
  // Later calls are served from the cache.
  await h.api.getAccessToken()
  t.equal(h.server.requestsTo(STABLE).length, 1)
})

t.test('refreshes once, ahead of expiry by min(300 s, half the lifetime), never serving past expires_in', async (t) => {
  const h = await harness(t)
  const first = await h.api.getAccessTokenInfo()
  t.equal(first.expiresAt, T0 + 7200_000)
  t.equal(first.refreshAt, T0 + 6900_000, '300 s ahead for a 7200 s token')

  h.clock.advance(6899_000)
  await h.api.getAccessToken()
  t.equal(h.server.requestsTo(STABLE).length, 1, 'still fresh 1 s before refreshAt')

  h.clock.advance(1_000)
  // The fake server keeps returning the same token until it expires; make it rotate as if its
  // lifetime ended so the refresh is observable.
  h.server.rotateStable()
  const results = await Promise.all(Array.from({ length: 20 }, () => h.api.getAccessToken()))
  t.equal(h.server.requestsTo(STABLE).length, 2, 'exactly one refresh for 20 concurrent callers')
  t.equal(new Set(results).size, 1)
  t.not(results[0], first.accessToken)
})

t.test('a short-lived token is refreshed at half its lifetime', async (t) => {
  const h = await harness(t, { tokenTtlSec: 200 })
  const info = await h.api.getAccessTokenInfo()
  t.equal(info.refreshAt, T0 + 100_000)
})

t.test('an expired token in the store is never served, even if the refresh fails', async (t) => {
  const h = await harness(t)
  const token = await h.api.getAccessToken()
  h.clock.advance(7200_000)
  h.server.failNext(STABLE, 40164, 'invalid ip 1.2.3.4, not in whitelist')
  const err = await h.api.getAccessToken().catch((e: unknown) => e)
  t.type(err, WxMpApiError)
  t.equal((err as WxMpApiError).errcode, 40164)
  t.match((err as WxMpApiError).hint, /whitelist/)
  t.not(String((err as Error).message).includes(token), true)
})

t.test('a failed refresh ahead of expiry falls back to the still-valid token', async (t) => {
  const h = await harness(t)
  const token = await h.api.getAccessToken()
  h.clock.advance(7000_000) // past refreshAt, before expiresAt
  h.server.failNext(STABLE, 40164)
  t.equal(await h.api.getAccessToken(), token)
  t.equal(h.server.requestsTo(STABLE).length, 2)
})

t.test('two clients sharing one MemoryTokenStore fetch once', async (t) => {
  const h = await harness(t)
  const store = new MemoryTokenStore({ now: () => h.clock.now })
  const a = h.makeApi({ tokenStore: store, sleep: realSleep, lockPollMs: 2 })
  const b = h.makeApi({ tokenStore: store, sleep: realSleep, lockPollMs: 2 })
  const [ta, tb] = await Promise.all([a.getAccessToken(), b.getAccessToken()])
  t.equal(ta, tb)
  t.equal(h.server.requestsTo(STABLE).length, 1)
  const c = h.makeApi({ tokenStore: store })
  t.equal(await c.getAccessToken(), ta)
  t.equal(h.server.requestsTo(STABLE).length, 1, 'a third client reads the store')
})

t.test('while another process holds the refresh lock, the client polls the store instead of fetching', async (t) => {
  const h = await harness(t)
  const store = new MemoryTokenStore({ now: () => h.clock.now })
  const key = `wx-mp-svr:token:${h.server.appId}`
  t.equal(await store.acquireLock(`${key}:lock`, 'other-process', 30_000), true)
  let polls = 0
  const api = h.makeApi({
    tokenStore: store,
    lockPollMs: 50,
    sleep: async (ms) => {
      t.equal(ms, 50)
      polls++
      if (polls === 3) {
        await store.set(key, { accessToken: 'FROM_OTHER_PROCESS', expiresAt: h.clock.now + 7200_000, refreshAt: h.clock.now + 6900_000 }, 7200_000)
      }
    },
  })
  t.equal(await api.getAccessToken(), 'FROM_OTHER_PROCESS')
  t.equal(polls, 3)
  t.equal(h.server.requestsTo(STABLE).length, 0)
})

t.test('waiting for another process gives up after lockWaitMs with a TIMEOUT error', async (t) => {
  const h = await harness(t)
  const store = new MemoryTokenStore({ now: () => h.clock.now })
  await store.acquireLock(`wx-mp-svr:token:${h.server.appId}:lock`, 'stuck', 60_000)
  const api = h.makeApi({ tokenStore: store, lockWaitMs: 300, lockPollMs: 100 })
  const err = (await api.getAccessToken().catch((e: unknown) => e)) as WxMpApiError
  t.type(err, WxMpApiError)
  t.equal(err.code, 'TIMEOUT')
  t.equal(h.sleeps.length, 3)
})

t.test('40001: one refresh (without force_refresh) and one retry', async (t) => {
  const h = await harness(t)
  h.server.users.set('oUser', { subscribe: 1, openid: 'oUser' })
  const t1 = await h.api.getAccessToken()
  const t2 = h.server.rotateStable() // another process forced a refresh: t1 is dead
  const info = await h.api.users.info('oUser')
  t.equal(info.openId, 'oUser')
  const seq = h.server.requests.map((r) => `${r.method} ${r.path} ${r.query['access_token'] ?? ''}`)
  t.same(seq, [`POST ${STABLE} `, `GET /cgi-bin/user/info ${t1}`, `POST ${STABLE} `, `GET /cgi-bin/user/info ${t2}`])
  t.same(
    h.server.requestsTo(STABLE).map((r) => (r.body as { force_refresh: boolean }).force_refresh),
    [false, false],
  )
  t.equal(await h.api.getAccessToken(), t2, 'the fresh token is cached')
})

t.test('40001 with stable_token returning the same failing token escalates to force_refresh', async (t) => {
  const h = await harness(t)
  const t1 = await h.api.getAccessToken()
  h.server.poison(t1)
  await h.api.setTyping('oUser', true)
  t.same(
    h.server.requestsTo(STABLE).map((r) => (r.body as { force_refresh: boolean }).force_refresh),
    [false, false, true],
  )
  const typing = h.server.requestsTo('/cgi-bin/message/custom/typing')
  t.equal(typing.length, 2)
  t.equal(typing[0]?.query['access_token'], t1)
  t.not(typing[1]?.query['access_token'], t1)
  t.same(typing[1]?.body, { touser: 'oUser', command: 'Typing' })
})

t.test('40001 twice: the call is retried only once, then the error surfaces with its hint', async (t) => {
  const h = await harness(t)
  await h.api.getAccessToken()
  h.server.failNext('/cgi-bin/menu/get', 40001, 'invalid credential, access_token is invalid or not latest', 2)
  const err = (await h.api.menu.get().catch((e: unknown) => e)) as WxMpApiError
  t.type(err, WxMpApiError)
  t.equal(err.errcode, 40001)
  t.equal(err.path, '/cgi-bin/menu/get')
  t.match(err.hint, /stable_token/)
  t.equal(h.server.requestsTo('/cgi-bin/menu/get').length, 2)
})

t.test('42001 (expired) and 40014 also trigger the refresh and one retry', async (t) => {
  for (const code of [42001, 40014]) {
    const h = await harness(t)
    await h.api.getAccessToken()
    h.server.failNext('/cgi-bin/menu/delete', code)
    await h.api.menu.delete()
    t.equal(h.server.requestsTo('/cgi-bin/menu/delete').length, 2, `${code}: retried once`)
    // The injected error does not change what stable_token returns, so the client escalates.
    t.same(
      h.server.requestsTo(STABLE).map((r) => (r.body as { force_refresh: boolean }).force_refresh),
      [false, false, true],
      `${code}: refreshed, escalating to force_refresh when the same token comes back`,
    )
  }
})

t.test('compare-and-expire: a stale failure does not delete the token another client stored', async (t) => {
  const h = await harness(t)
  const store = new MemoryTokenStore({ now: () => h.clock.now })
  const key = `wx-mp-svr:token:${h.server.appId}`
  const api = h.makeApi({ tokenStore: store })
  await store.set(key, { accessToken: 'NEWER', expiresAt: T0 + 7200_000, refreshAt: T0 + 6900_000 }, 7200_000)
  const info = await api.tokens.invalidate('OLDER')
  t.equal(info.accessToken, 'NEWER', 'the newer token survives and is used')
  t.equal(h.server.requestsTo(STABLE).length, 0)
  t.equal(await store.deleteIf(key, 'OLDER'), false)
  t.equal(await store.deleteIf(key, 'NEWER'), true)
})

t.test('concurrent 40001 failures of the same token cause one refresh', async (t) => {
  const h = await harness(t)
  h.server.users.set('oA', { subscribe: 1, openid: 'oA' })
  await h.api.getAccessToken()
  h.server.rotateStable()
  await Promise.all(Array.from({ length: 10 }, () => h.api.users.info('oA')))
  t.equal(h.server.requestsTo(STABLE).length, 2)
  t.equal(h.server.requestsTo('/cgi-bin/user/info').length, 20)
})

t.test('forceRefresh: true asks stable_token for a new token', async (t) => {
  const h = await harness(t)
  const t1 = await h.api.getAccessToken()
  const t2 = await h.api.getAccessToken({ forceRefresh: true })
  t.not(t2, t1)
  t.same(
    h.server.requestsTo(STABLE).map((r) => (r.body as { force_refresh: boolean }).force_refresh),
    [false, true],
  )
})

t.test('classic endpoint: GET /cgi-bin/token, and 40001 recovers with a new token', async (t) => {
  const h = await harness(t, {}, { tokenEndpoint: 'classic' })
  const t1 = await h.api.getAccessToken()
  const req = h.server.requestsTo('/cgi-bin/token')[0]
  t.same(req?.query, { grant_type: 'client_credential', appid: h.server.appId, secret: h.server.appSecret })
  // Another process fetches its own classic token: ours is invalidated.
  await fetch(`${h.server.baseUrl}/cgi-bin/token?grant_type=client_credential&appid=${h.server.appId}&secret=${h.server.appSecret}`)
  await h.api.menu.delete()
  const calls = h.server.requestsTo('/cgi-bin/menu/delete')
  t.equal(calls.length, 2)
  t.equal(calls[0]?.query['access_token'], t1)
  t.equal(h.server.requestsTo('/cgi-bin/token').length, 3)
})

t.test('wrong secret: errcode 40125 with a hint, secret not in the message', async (t) => {
  const h = await harness(t)
  const api = h.makeApi({ appSecret: 'wrong-secret-value' })
  const err = (await api.getAccessToken().catch((e: unknown) => e)) as WxMpApiError
  t.equal(err.errcode, 40125)
  t.match(err.hint, /WX_MP_APPSECRET/)
  t.notMatch(err.message, /wrong-secret-value/)
  t.notMatch(err.message, new RegExp(h.server.appSecret))
})
