/**
 * StoreTokenStore: the access token and its refresh lock on any WxMpStore. Unit cases on the
 * in-memory store; then two clients — two "instances", each with its own store object (for Redis:
 * its own connection) — share one token through memory and through a private redis-server.
 */
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import type { WxMpApi } from '../../src/api/index.js'
import { WxMpError } from '../../src/core/errors.js'
import { createRedisStore, MemoryStore, StoreKeys, StoreTokenStore, type WxMpStore } from '../../src/store/index.js'
import { harness, T0, type Harness } from '../api/harness.js'
import { redisSkip, startRedisServer } from './redis-server.js'

const STABLE = '/cgi-bin/stable_token'
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5)))
const quiet = { warn() {}, info() {} }
const token = (accessToken: string) => ({ accessToken, expiresAt: T0 + 7200_000, refreshAt: T0 + 6900_000 })

t.test('keys: the account’s token and lock keys, whatever key the token manager passes', async (t) => {
  const tokens = new StoreTokenStore(new MemoryStore(), new StoreKeys('wxmp', 'wx123'))
  t.equal(tokens.tokenKey, 'wxmp:{wx123}:token')
  t.equal(tokens.lockKey, 'wxmp:{wx123}:lock:token')
  const other = new StoreTokenStore(new MemoryStore(), new StoreKeys('shop', 'wx123'))
  t.equal(other.tokenKey, 'shop:{wx123}:token', 'the prefix applies')
})

t.test('get and set keep the token as JSON under the token key, for ttlMs', async (t) => {
  const clock = { now: T0 }
  const store = new MemoryStore({ now: () => clock.now })
  const tokens = new StoreTokenStore(store, new StoreKeys('wxmp', 'wx123'))
  const key = 'wx-mp-svr:token:wx123'
  t.equal(await tokens.get(key), undefined)
  await tokens.set(key, { ...token('T1'), extra: 'dropped' } as never, 7200_000)
  t.same(await tokens.get(key), token('T1'))
  t.same(JSON.parse(store.get('wxmp:{wx123}:token') ?? ''), token('T1'), 'stored under the account’s token key')
  clock.now += 7200_000
  t.equal(await tokens.get(key), undefined, 'gone after ttlMs')
  await tokens.set(key, token('T2'), 1_000)
  await tokens.set(key, token('T3'), 0)
  t.equal(await tokens.get(key), undefined, 'a TTL of 0 deletes')
  store.set('wxmp:{wx123}:token', 'not json', 60_000)
  t.equal(await tokens.get(key), undefined, 'a malformed value reads as no token (a fresh one is fetched)')
  store.set('wxmp:{wx123}:token', '{"accessToken":1}', 60_000)
  t.equal(await tokens.get(key), undefined, 'a value of the wrong shape too')
})

t.test('the lock: one owner at a time, released only by its owner, freed after its TTL', async (t) => {
  const clock = { now: T0 }
  const tokens = new StoreTokenStore(new MemoryStore({ now: () => clock.now }), new StoreKeys('wxmp', 'wx123'))
  const lock = 'wx-mp-svr:token:wx123:lock'
  t.equal(await tokens.acquireLock(lock, 'a', 30_000), true)
  t.equal(await tokens.acquireLock(lock, 'b', 30_000), false, 'held by a')
  await tokens.releaseLock(lock, 'b')
  t.equal(await tokens.acquireLock(lock, 'b', 30_000), false, 'b cannot release a’s lock')
  await tokens.releaseLock(lock, 'a')
  t.equal(await tokens.acquireLock(lock, 'b', 30_000), true, 'released by its owner')
  clock.now += 30_000
  t.equal(await tokens.acquireLock(lock, 'c', 30_000), true, 'a dead holder’s lock frees itself')
})

t.test('deleteIf: deletes only the token that failed, never a newer one', async (t) => {
  const tokens = new StoreTokenStore(new MemoryStore(), new StoreKeys('wxmp', 'wx123'))
  const key = 'wx-mp-svr:token:wx123'
  t.equal(await tokens.deleteIf(key, 'T1'), false, 'nothing stored')
  await tokens.set(key, token('NEWER'), 60_000)
  t.equal(await tokens.deleteIf(key, 'OLDER'), false, 'a stale failure')
  t.same(await tokens.get(key), token('NEWER'), 'the newer token survives')
  t.equal(await tokens.deleteIf(key, 'NEWER'), true)
  t.equal(await tokens.get(key), undefined)
})

t.test('one StoreTokenStore serves one account: another key is refused', async (t) => {
  const tokens = new StoreTokenStore(new MemoryStore(), new StoreKeys('wxmp', 'wxA'))
  await tokens.get('wx-mp-svr:token:wxA')
  await t.rejects(tokens.get('wx-mp-svr:token:wxB'), RangeError)
  await tokens.acquireLock('wx-mp-svr:token:wxA:lock', 'o', 1_000)
  await t.rejects(tokens.acquireLock('wx-mp-svr:token:wxB:lock', 'o', 1_000), RangeError)
})

/** A MemoryStore that can be switched off: every call then rejects with STORE_UNAVAILABLE. */
function switchable(now: () => number) {
  const memory = new MemoryStore({ now })
  const state = { down: false }
  const store = new Proxy(memory, {
    get(target, name) {
      const value = Reflect.get(target, name, target) as unknown
      if (typeof value !== 'function') return value
      return (...args: unknown[]) =>
        state.down ? Promise.reject(new WxMpError('STORE_UNAVAILABLE', 'test store switched off')) : (value as (...a: unknown[]) => unknown).apply(target, args)
    },
  }) as WxMpStore
  return { store, state }
}

t.test('store unavailable: get serves the last token seen until it expires; the rest fails', async (t) => {
  const clock = { now: T0 }
  const { store, state } = switchable(() => clock.now)
  const tokens = new StoreTokenStore(store, new StoreKeys('wxmp', 'wx123'), { now: () => clock.now })
  const key = 'wx-mp-svr:token:wx123'
  state.down = true
  await t.rejects(tokens.get(key), { code: 'STORE_UNAVAILABLE' }, 'nothing seen yet: the failure shows')
  state.down = false
  await tokens.set(key, token('T1'), 7200_000)
  state.down = true
  t.same(await tokens.get(key), token('T1'), 'the token last stored')
  await t.rejects(tokens.acquireLock(`${key}:lock`, 'o', 1_000), { code: 'STORE_UNAVAILABLE' }, 'the lock is not faked')
  await t.resolves(tokens.releaseLock(`${key}:lock`, 'o'), 'a release that cannot be done is left to the lock’s TTL')
  await t.rejects(tokens.set(key, token('T2'), 7200_000), { code: 'STORE_UNAVAILABLE' }, 'writes fail')
  clock.now = T0 + 7200_000
  await t.rejects(tokens.get(key), { code: 'STORE_UNAVAILABLE' }, 'never past its expiresAt')

  clock.now = T0
  state.down = false
  t.same(await tokens.get(key), token('T1'), 'read again (the memory store keeps its own TTL)')
  await tokens.deleteIf(key, 'T1').catch(() => undefined)
  state.down = true
  await t.rejects(tokens.get(key), { code: 'STORE_UNAVAILABLE' }, 'a token reported failed is never served from memory')
})

t.test('store unavailable: WxMpApi goes on with the shared token, without fetching', async (t) => {
  const h = await harness(t)
  const { store, state } = switchable(() => h.clock.now)
  const api = h.makeApi({ tokenStore: new StoreTokenStore(store, new StoreKeys('wxmp', h.server.appId), { now: () => h.clock.now }) })
  const t1 = await api.getAccessToken()
  state.down = true
  t.equal(await api.getAccessToken(), t1)
  h.clock.advance(7000_000) // past refreshAt: the refresh fails (no lock), the valid token is used
  t.equal(await api.getAccessToken(), t1)
  t.equal(h.server.requestsTo(STABLE).length, 1, 'no fetch while the store is away')
})

/** Two clients of one account, each with its own StoreTokenStore over its own store object. */
function twoInstances(h: Harness, stores: [WxMpStore, WxMpStore]): [WxMpApi, WxMpApi] {
  // A prefix of its own per case: the cases share one Redis and the fake API's AppID.
  const keys = new StoreKeys(`wxmp-${randomUUID().slice(0, 8)}`, h.server.appId)
  const make = (store: WxMpStore) => h.makeApi({ tokenStore: new StoreTokenStore(store, keys, { now: () => h.clock.now }), sleep: realSleep, lockPollMs: 2 })
  return [make(stores[0]), make(stores[1])]
}

async function sharedTokenCases(t: Test, openPair: (t: Test) => Promise<[WxMpStore, WxMpStore]>, stop?: () => Promise<void>) {
  t.test('40 concurrent calls on two instances fetch the token once', async (t) => {
    const h = await harness(t)
    const [a, b] = twoInstances(h, await openPair(t))
    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).getAccessToken()))
    t.equal(h.server.requestsTo(STABLE).length, 1, 'one fetch across both instances')
    t.equal(new Set(tokens).size, 1)
  })

  t.test('a 40001 seen by both instances leads to one refresh, not two', async (t) => {
    const h = await harness(t)
    h.server.users.set('oA', { subscribe: 1, openid: 'oA' })
    const [a, b] = twoInstances(h, await openPair(t))
    const t1 = await a.getAccessToken()
    t.equal(await b.getAccessToken(), t1)
    const t2 = h.server.rotateStable() // t1 is dead for everybody
    await Promise.all([a.users.info('oA'), b.users.info('oA'), a.users.info('oA'), b.users.info('oA')])
    t.equal(h.server.requestsTo(STABLE).length, 2, 'the first fetch and ONE refresh')
    t.equal(await a.getAccessToken(), t2)
    t.equal(await b.getAccessToken(), t2)
  })

  if (stop !== undefined) {
    t.test('the store stopped: both instances go on with the token they share', async (t) => {
      const h = await harness(t)
      const [a, b] = twoInstances(h, await openPair(t))
      const t1 = await a.getAccessToken()
      t.equal(await b.getAccessToken(), t1)
      await stop()
      t.equal(await a.getAccessToken(), t1)
      t.equal(await b.getAccessToken(), t1)
      t.equal(h.server.requestsTo(STABLE).length, 1)
    })
  }
}

t.test('two instances sharing a MemoryStore', async (t) => {
  const store = new MemoryStore()
  await sharedTokenCases(t, async () => [store, store])
})

t.test('two instances sharing a private redis-server', { skip: redisSkip() }, async (t) => {
  const server = await startRedisServer(t)
  await sharedTokenCases(t, async (t) => {
    const open = async () => {
      const store = createRedisStore({ url: server.url, log: quiet })
      await store.connect()
      t.teardown(() => store.close())
      return store
    }
    return [await open(), await open()]
  }, () => server.kill())
})
