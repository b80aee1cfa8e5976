import t from 'tap'
import { MemoryDedupStore } from '../../src/index.js'
import { makeApp, plainPush, textXml, field, replyFields } from './helpers.js'

t.test('claim, complete, get', async (t) => {
  const store = new MemoryDedupStore({ now: () => 0 })
  t.equal(await store.claim('k', 1000), undefined, 'a new key is claimed')
  t.same(await store.claim('k', 1000), { state: 'pending' }, 'a second claim sees it pending')
  t.same(await store.get('k'), { state: 'pending' })
  await store.complete('k', '<xml/>', 1000)
  t.same(await store.claim('k', 1000), { state: 'done', reply: '<xml/>' }, 'then done with the reply')
  await store.complete('s', null, 1000)
  t.same(await store.get('s'), { state: 'done', reply: null }, 'a success answer is null')
  t.equal(await store.get('missing'), undefined)
  t.equal(store.size, 2)
})

t.test('TTL with an injected now', async (t) => {
  let now = 1_000_000
  const store = new MemoryDedupStore({ now: () => now })
  await store.claim('k', 1000)
  now += 999
  t.same(await store.get('k'), { state: 'pending' }, 'alive 1 ms before the TTL')
  now += 1
  t.equal(await store.get('k'), undefined, 'gone at the TTL')
  t.equal(await store.claim('k', 1000), undefined, 'claimable again')
  await store.complete('k', 'r', 5000)
  now += 4999
  t.same(await store.claim('k', 1000), { state: 'done', reply: 'r' }, 'complete sets its own TTL')
  now += 1
  t.equal(await store.claim('k', 1000), undefined, 'and it runs out')
})

t.test('LRU bound: maxEntries, least recently used first', async (t) => {
  const now = 0
  const store = new MemoryDedupStore({ maxEntries: 3, now: () => now })
  for (const k of ['a', 'b', 'c']) await store.claim(k, 60_000)
  t.equal(store.size, 3)
  await store.claim('d', 60_000)
  t.equal(store.size, 3, 'never more than maxEntries')
  t.equal(await store.get('a'), undefined, 'the oldest went first')
  t.equal(store.evictedEarly, 1, 'counted as evicted before its TTL')

  // b, c, d: using b makes c the least recently used.
  t.same(await store.claim('b', 60_000), { state: 'pending' })
  await store.claim('e', 60_000)
  t.equal(await store.get('c'), undefined, 'c (least recently used) was dropped')
  t.same(await store.get('b'), { state: 'pending' }, 'b (used) survived')
  await store.complete('d', 'x', 60_000)
  await store.claim('f', 60_000)
  t.same(await store.get('d'), { state: 'done', reply: 'x' }, 'completing is a use too')
  t.equal(store.size, 3)
})

t.test('expired entries dropped by the bound are not counted as early evictions', async (t) => {
  let now = 0
  const store = new MemoryDedupStore({ maxEntries: 1, now: () => now })
  await store.claim('a', 10)
  now = 10
  await store.claim('b', 10)
  t.equal(store.evictedEarly, 0)
  t.equal(store.size, 1)
})

t.test('maxEntries must be a positive integer', async (t) => {
  t.throws(() => new MemoryDedupStore({ maxEntries: 0 }), RangeError)
  t.throws(() => new MemoryDedupStore({ maxEntries: 1.5 }), RangeError)
  t.doesNotThrow(() => new MemoryDedupStore())
})

t.test('createServer: dedupMaxEntries and dedupTtlMs reach the default store', async (t) => {
  let calls = 0
  const { app, clock } = await makeApp(t, { dedupMaxEntries: 2, dedupTtlMs: 10_000, onMessage: () => `run ${++calls}` })
  const send = async (msgId: string): Promise<string> =>
    field(replyFields((await app.inject(plainPush(textXml({ msgId })))).body), 'Content')
  t.equal(await send('1'), 'run 1')
  t.equal(await send('1'), 'run 1', 'a copy')
  t.equal(await send('2'), 'run 2')
  t.equal(await send('3'), 'run 3')
  t.equal(await send('1'), 'run 4', 'message 1 was pushed out by the bound of 2')
  clock.advance(9_999)
  t.equal(await send('3'), 'run 3', 'within dedupTtlMs')
  clock.advance(1)
  t.equal(await send('3'), 'run 5', 'after dedupTtlMs (10 s)')
})
