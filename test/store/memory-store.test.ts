import t from 'tap'
import { MemoryStore, isThenable } from '../../src/store/index.js'
import { storeContract } from './contract.js'

/** A MemoryStore on a fake clock, with the clock. */
function clocked(options: { maxBytes?: number } = {}) {
  const clock = { now: 1_700_000_000_000 }
  const store = new MemoryStore({ ...options, now: () => clock.now })
  return { store, clock }
}

t.test('the store contract', async (t) => {
  storeContract(t, async () => {
    const { store, clock } = clocked()
    return {
      store,
      peers: [store],
      elapse: async (ms) => {
        clock.now += ms
      },
    }
  })
})

t.test('answers every call at once, never with a promise', async (t) => {
  const { store } = clocked()
  const answers = [
    store.set('k', 'v', 1000),
    store.get('k'),
    store.claim('c', 'v', 1000),
    store.replace('k', 'v', 'w', 1000),
    store.expire('k', 1000),
    store.add('n', 1, 1000),
    store.push('q', 'a', 1000),
    store.list('q'),
    store.shift('q'),
    store.delete('k'),
  ]
  t.equal(answers.filter((a) => isThenable(a)).length, 0)
})

t.test('the byte bound: 600 values of 1 MB never hold more than maxBytes; the oldest go first', async (t) => {
  const maxBytes = 64 * 1024 * 1024
  const { store } = clocked({ maxBytes })
  const mb = 'x'.repeat(512 * 1024) // 512 Ki UTF-16 code units: 1 MB as counted
  let peak = 0
  for (let i = 0; i < 600; i++) {
    store.set(`k${i}`, mb, 3_600_000)
    peak = Math.max(peak, store.bytes)
  }
  t.ok(peak <= maxBytes, `peak ${peak} ≤ maxBytes ${maxBytes}`)
  t.ok(store.bytes <= maxBytes)
  t.ok(store.size >= 60 && store.size < 64, `about 63 values of 1 MB fit in 64 MB (holds ${store.size})`)
  t.equal(store.evicted, 600 - store.size, 'every value dropped before its TTL counted as evicted')
  t.equal(store.get('k0'), undefined, 'the oldest went first')
  t.equal(store.get('k599'), mb, 'the newest stayed')
  const kept = Array.from({ length: 600 }, (_, i) => store.get(`k${i}`) !== undefined)
  const firstKept = kept.indexOf(true)
  t.ok(kept.slice(firstKept).every(Boolean), 'exactly the most recent ones are kept, without gaps')
})

t.test('the byte bound drops the least recently used: a read keeps a value', async (t) => {
  const { store } = clocked({ maxBytes: 4096 })
  const value = 'v'.repeat(500) // ~1.1 kB each as counted
  store.set('a', value, 60_000)
  store.set('b', value, 60_000)
  store.set('c', value, 60_000)
  t.equal(store.get('a'), value, 'a read moves a to the recent end')
  store.set('d', value, 60_000)
  t.equal(store.get('b'), undefined, 'b, the least recently used, went')
  t.equal(store.get('a'), value)
  t.equal(store.evicted, 1)
})

t.test('the sweep: expired entries leave without being read', async (t) => {
  const { store, clock } = clocked()
  for (let i = 0; i < 1000; i++) store.set(`dedup${i}`, 'x'.repeat(100), 60_000)
  store.push('queue', 'a', 60_000)
  store.set('long', 'v', 3_600_000)
  const before = store.bytes
  t.equal(store.size, 1002)
  clock.now += 60_001
  t.equal(store.size, 1002, 'nothing read and nothing written: still held (no timer runs)')
  store.set('trigger', 'v', 60_000) // any write sweeps, at most every 5 s
  t.equal(store.size, 2, 'the 1001 expired entries were swept; the live ones stayed')
  t.ok(store.bytes < before / 100, `bytes fell from ${before} to ${store.bytes}`)
  t.equal(store.get('long'), 'v')
  t.equal(store.evicted, 0, 'expiry is not eviction')
})

t.test('rejects a byte bound too small to be useful', async (t) => {
  t.throws(() => new MemoryStore({ maxBytes: 100 }), RangeError)
  t.throws(() => new MemoryStore({ maxBytes: 1.5e6 + 0.5 }), RangeError)
})
