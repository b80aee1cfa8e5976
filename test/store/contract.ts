/**
 * The one contract every {@link WxMpStore} adapter passes (the in-memory default, Redis, any new
 * one): each primitive, TTLs, atomicity under concurrency, and the key layout. An adapter's test
 * file calls {@link storeContract} with a factory.
 *
 * Time: the factory's `elapse(ms)` lets time pass for the store — a fake clock where the adapter
 * takes one (memory), real waiting where it cannot (Redis keeps its own clock). TTLs in here are
 * therefore short (SHORT = 100 ms) for what must expire, and long (LONG = 60 s) for what must
 * stay, so that a slow machine can only make an expiry check wait longer, never fail it.
 */
import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { StoreKeys, type WxMpStore } from '../../src/store/index.js'

/** What one contract case gets from the adapter under test. */
export interface ContractSubject {
  /** The store under test. */
  store: WxMpStore
  /**
   * Other store objects on the same backend (other connections, for Redis); may be empty (or hold
   * `store` again) where there is only one object. Concurrency cases spread their calls over them.
   */
  peers: WxMpStore[]
  /** Lets `ms` pass for the store (advance a fake clock, or wait). */
  elapse(ms: number): Promise<void>
}

/** Opens a fresh subject for one case (and registers its cleanup on `t`). */
export type SubjectFactory = (t: Test) => Promise<ContractSubject>

const SHORT = 100
const PAST_SHORT = 160
const LONG = 60_000

/** Calls `fn` and returns what it throws synchronously or rejects with (undefined if neither). */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  return undefined
}

/** Runs the contract as subtests of `t`. */
export function storeContract(t: Test, open: SubjectFactory): void {
  // Keys unique to this run and case, so cases (and runs against one Redis) never meet.
  const run = randomUUID().slice(0, 8)
  let n = 0
  const fresh = async (t: Test) => {
    const subject = await open(t)
    const keys = new StoreKeys('wxmptest', `${run}-${++n}`)
    return { ...subject, k: (...parts: string[]) => keys.key('dedup', ...parts) }
  }

  t.test('get and set: absent reads undefined; set replaces; any string round-trips', async (t) => {
    const { store, k } = await fresh(t)
    t.equal(await store.get(k('a')), undefined, 'absent')
    await store.set(k('a'), 'one', LONG)
    t.equal(await store.get(k('a')), 'one')
    await store.set(k('a'), 'two', LONG)
    t.equal(await store.get(k('a')), 'two', 'set replaces')
    for (const value of ['', '你好，世界 🎉', 'a\r\nb\0c', '{"json":[1,2]}', 'x'.repeat(200_000)]) {
      await store.set(k('v'), value, LONG)
      t.equal(await store.get(k('v')), value, `round-trips ${JSON.stringify(value.slice(0, 20))} (${value.length} chars)`)
    }
  })

  t.test('set: the key expires after its TTL, and a new set gives it a new TTL', async (t) => {
    const { store, k, elapse } = await fresh(t)
    await store.set(k('short'), 'v', SHORT)
    await store.set(k('renewed'), 'v', SHORT)
    await store.set(k('renewed'), 'w', LONG)
    await elapse(PAST_SHORT)
    t.equal(await store.get(k('short')), undefined, 'expired')
    t.equal(await store.get(k('renewed')), 'w', 'set replaced the TTL too')
  })

  t.test('claim: the first caller owns the key; later callers get the value, unchanged', async (t) => {
    const { store, k } = await fresh(t)
    t.equal(await store.claim(k('c'), 'first', LONG), undefined, 'claimed')
    t.equal(await store.claim(k('c'), 'second', LONG), 'first', 'already claimed: the value is returned')
    t.equal(await store.get(k('c')), 'first', 'left unchanged')
    t.equal(await store.claim(k('empty'), '', LONG), undefined)
    t.equal(await store.claim(k('empty'), 'x', LONG), '', 'an empty value is a value, not absence')
    await store.set(k('set'), 'by set', LONG)
    t.equal(await store.claim(k('set'), 'x', LONG), 'by set', 'a key written by set counts as claimed')
  })

  t.test('claim: the claim expires after its TTL and can be taken again', async (t) => {
    const { store, k, elapse } = await fresh(t)
    t.equal(await store.claim(k('c'), 'a', SHORT), undefined)
    await elapse(PAST_SHORT)
    t.equal(await store.get(k('c')), undefined, 'expired')
    t.equal(await store.claim(k('c'), 'b', LONG), undefined, 'taken again')
    t.equal(await store.get(k('c')), 'b')
  })

  t.test('claim: 100 concurrent claims have exactly one winner, and all others see its value', async (t) => {
    const { store, peers, k } = await fresh(t)
    const stores = [store, ...peers]
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => Promise.resolve(stores[i % stores.length]!.claim(k('race'), `owner-${i}`, LONG))),
    )
    const winners = results.flatMap((r, i) => (r === undefined ? [i] : []))
    t.equal(winners.length, 1, 'exactly one winner')
    const winner = `owner-${winners[0]}`
    t.same(new Set(results.filter((r) => r !== undefined)), new Set([winner]), 'the 99 others all got the winner’s value')
    t.equal(await store.get(k('race')), winner)
  })

  t.test('replace: compare-and-set, with the new TTL', async (t) => {
    const { store, k, elapse } = await fresh(t)
    t.equal(await store.replace(k('r'), 'x', 'y', LONG), false, 'absent: nothing to compare')
    t.equal(await store.get(k('r')), undefined, 'and nothing created')
    await store.set(k('r'), 'pending', LONG)
    t.equal(await store.replace(k('r'), 'other', 'done', LONG), false, 'wrong expected value')
    t.equal(await store.get(k('r')), 'pending', 'left unchanged')
    t.equal(await store.replace(k('r'), 'pending', 'done', LONG), true)
    t.equal(await store.get(k('r')), 'done')
    t.equal(await store.replace(k('r'), 'done', 'short', SHORT), true)
    await store.set(k('kept'), 'v', SHORT)
    t.equal(await store.replace(k('kept'), 'v', 'w', LONG), true, 'a matching replace gives the new TTL')
    await elapse(PAST_SHORT)
    t.equal(await store.get(k('r')), undefined, 'the short TTL of the replace applied')
    t.equal(await store.get(k('kept')), 'w', 'the long TTL of the replace applied')
  })

  t.test('replace: 50 concurrent replaces of one value have exactly one winner', async (t) => {
    const { store, peers, k } = await fresh(t)
    const stores = [store, ...peers]
    await store.set(k('r'), 'v0', LONG)
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => Promise.resolve(stores[i % stores.length]!.replace(k('r'), 'v0', `v-${i}`, LONG))),
    )
    t.equal(results.filter(Boolean).length, 1)
    t.equal(await store.get(k('r')), `v-${results.indexOf(true)}`)
  })

  t.test('delete: plain, and compare-and-delete with ifValue', async (t) => {
    const { store, k } = await fresh(t)
    t.equal(await store.delete(k('d')), false, 'absent')
    await store.set(k('d'), 'v', LONG)
    t.equal(await store.delete(k('d')), true)
    t.equal(await store.get(k('d')), undefined)
    t.equal(await store.delete(k('d')), false, 'already gone')
    await store.set(k('lock'), 'owner-a', LONG)
    t.equal(await store.delete(k('lock'), 'owner-b'), false, 'another value: not deleted')
    t.equal(await store.get(k('lock')), 'owner-a', 'kept')
    t.equal(await store.delete(k('lock'), 'owner-a'), true, 'the same value: deleted')
    t.equal(await store.get(k('lock')), undefined)
    t.equal(await store.delete(k('lock'), 'owner-a'), false, 'absent with ifValue')
    await store.push(k('list'), 'a', LONG)
    t.equal(await store.delete(k('list')), true, 'a list is deleted too')
    t.same(await store.list(k('list')), [])
  })

  t.test('expire: plain, and compare-and-expire with ifValue', async (t) => {
    const { store, k, elapse } = await fresh(t)
    t.equal(await store.expire(k('absent'), SHORT), false, 'absent')
    t.equal(await store.expire(k('absent'), SHORT, 'v'), false, 'absent with ifValue')
    await store.set(k('shortened'), 'v', LONG)
    t.equal(await store.expire(k('shortened'), SHORT), true)
    await store.set(k('lengthened'), 'v', SHORT)
    t.equal(await store.expire(k('lengthened'), LONG), true)
    await store.set(k('wrong'), 'v', SHORT)
    t.equal(await store.expire(k('wrong'), LONG, 'other'), false, 'another value: TTL left alone')
    await store.set(k('right'), 'v', SHORT)
    t.equal(await store.expire(k('right'), LONG, 'v'), true, 'the same value: TTL set')
    await store.set(k('cut'), 'v', LONG)
    t.equal(await store.expire(k('cut'), SHORT, 'v'), true)
    await store.push(k('list'), 'a', LONG)
    t.equal(await store.expire(k('list'), SHORT), true, 'a list takes a TTL too')
    await elapse(PAST_SHORT)
    t.equal(await store.get(k('shortened')), undefined)
    t.equal(await store.get(k('lengthened')), 'v')
    t.equal(await store.get(k('wrong')), undefined, 'kept its short TTL')
    t.equal(await store.get(k('right')), 'v')
    t.equal(await store.get(k('cut')), undefined)
    t.same(await store.list(k('list')), [])
  })

  t.test('add: counts from 0 on an absent key, which expires after ttlMs', async (t) => {
    const { store, k, elapse } = await fresh(t)
    t.equal(await store.add(k('n'), 5, SHORT), 5)
    t.equal(await store.get(k('n')), '5', 'stored as a decimal string')
    t.equal(await store.add(k('neg'), -2, LONG), -2, 'a negative delta on an absent key')
    await elapse(PAST_SHORT)
    t.equal(await store.get(k('n')), undefined, 'the created key expired')
    t.equal(await store.add(k('n'), 1, LONG), 1, 'counted from 0 again')
  })

  t.test('add: an existing key adds up and keeps its TTL', async (t) => {
    const { store, k, elapse } = await fresh(t)
    t.equal(await store.add(k('n'), 1, SHORT), 1)
    t.equal(await store.add(k('n'), 2, LONG), 3)
    t.equal(await store.add(k('n'), -5, LONG), -2)
    await store.set(k('s'), '40', LONG)
    t.equal(await store.add(k('s'), 2, SHORT), 42, 'a number written by set')
    await elapse(PAST_SHORT)
    t.equal(await store.get(k('n')), undefined, 'the first TTL held: later adds did not extend it')
    t.equal(await store.get(k('s')), '42', 'the long TTL of set held: add did not shorten it')
  })

  t.test('add: a key holding a non-integer is refused with a TypeError', async (t) => {
    const { store, k } = await fresh(t)
    await store.set(k('text'), 'hello', LONG)
    t.type(await failure(() => store.add(k('text'), 1, LONG)), TypeError)
    t.equal(await store.get(k('text')), 'hello', 'left unchanged')
  })

  t.test('add: 60 concurrent adds are each counted once', async (t) => {
    const { store, peers, k } = await fresh(t)
    const stores = [store, ...peers]
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => Promise.resolve(stores[i % stores.length]!.add(k('n'), 1, LONG))))
    t.same([...results].sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1), 'each call saw its own new value')
    t.equal(await store.get(k('n')), '60')
  })

  t.test('push, shift and list: a FIFO queue', async (t) => {
    const { store, k } = await fresh(t)
    t.same(await store.list(k('q')), [], 'absent: empty')
    t.equal(await store.shift(k('q')), undefined, 'absent: nothing to shift')
    t.equal(await store.push(k('q'), 'a', LONG), 1)
    t.equal(await store.push(k('q'), '', LONG), 2, 'an empty string is an element')
    t.equal(await store.push(k('q'), '答案 ✓', LONG), 3)
    const listed = await store.list(k('q'))
    t.same(listed, ['a', '', '答案 ✓'], 'first element first')
    listed.push('mutated')
    t.same(await store.list(k('q')), ['a', '', '答案 ✓'], 'list() returns a copy')
    t.equal(await store.shift(k('q')), 'a')
    t.equal(await store.shift(k('q')), '')
    t.same(await store.list(k('q')), ['答案 ✓'])
    t.equal(await store.shift(k('q')), '答案 ✓')
    t.equal(await store.shift(k('q')), undefined, 'emptied')
    t.same(await store.list(k('q')), [])
    t.equal(await store.push(k('q'), 'b', LONG), 1, 'an emptied list starts again')
  })

  t.test('push: every push sets the list’s TTL', async (t) => {
    const { store, k, elapse } = await fresh(t)
    await store.push(k('shortened'), 'a', LONG)
    await store.push(k('shortened'), 'b', SHORT)
    await store.push(k('lengthened'), 'a', SHORT)
    await store.push(k('lengthened'), 'b', LONG)
    await elapse(PAST_SHORT)
    t.same(await store.list(k('shortened')), [], 'the last push’s short TTL applied to the whole list')
    t.equal(await store.shift(k('shortened')), undefined)
    t.same(await store.list(k('lengthened')), ['a', 'b'], 'the last push’s long TTL kept the whole list')
  })

  t.test('push: 50 concurrent pushes are all kept, each with its own length', async (t) => {
    const { store, peers, k } = await fresh(t)
    const stores = [store, ...peers]
    const lengths = await Promise.all(Array.from({ length: 50 }, (_, i) => Promise.resolve(stores[i % stores.length]!.push(k('q'), `m${i}`, LONG))))
    t.same([...lengths].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1))
    const listed = await store.list(k('q'))
    t.same([...listed].sort(), Array.from({ length: 50 }, (_, i) => `m${i}`).sort())
  })

  t.test('key layout: per-account hash tag, configurable prefix, no collisions between accounts or parts', async (t) => {
    const { store } = await fresh(t)
    const a = new StoreKeys(undefined, 'wx123')
    const key = a.key('dedup', 'msg', 42)
    t.ok(key.includes('{wx123}'), `the account is a Redis Cluster hash tag: ${key}`)
    t.ok(key.startsWith('wxmp:{wx123}:dedup:'), 'default prefix wxmp, then the account, then the kind')
    t.ok(new StoreKeys('shop1', 'wx123').key('token').startsWith('shop1:{wx123}:token'), 'the prefix is configurable')
    t.equal(new StoreKeys('p').key('token'), 'p:{default}:token', 'no AppID: the account is named default')
    t.not(a.key('dedup', 'a:b', 'c'), a.key('dedup', 'a', 'b:c'), 'parts are encoded, so part lists never collide')
    t.ok(a.key('dedup', '{x}').includes('{wx123}') && !a.key('dedup', '{x}').includes('{x}'), 'a brace in a part cannot move the hash tag')
    t.throws(() => new StoreKeys('bad prefix'), RangeError)

    // Two accounts (and two prefixes) see only their own keys through the store.
    const run = randomUUID()
    const keysA = new StoreKeys('wxmptest', `A${run}`)
    const keysB = new StoreKeys('wxmptest', `B${run}`)
    const keysC = new StoreKeys('wxmptest2', `A${run}`)
    await store.set(keysA.key('attempts', 'm1'), 'a', LONG)
    await store.set(keysB.key('attempts', 'm1'), 'b', LONG)
    t.equal(await store.get(keysA.key('attempts', 'm1')), 'a')
    t.equal(await store.get(keysB.key('attempts', 'm1')), 'b')
    t.equal(await store.get(keysC.key('attempts', 'm1')), undefined, 'another prefix is another namespace')
  })
}
