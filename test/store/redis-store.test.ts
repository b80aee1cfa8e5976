/**
 * The Redis adapter against a real, private redis-server (see ./redis-server.ts): the shared
 * store contract, the round trips per call, and what happens when Redis is away — at start, killed
 * mid-run, hung — and when it comes back.
 */
import { execFile } from 'node:child_process'
import { tracingChannel } from 'node:diagnostics_channel'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'
import { isWxMpError } from '../../src/core/errors.js'
import { createRedisStore, RedisStore, StoreKeys, type RedisStoreLog } from '../../src/store/index.js'
import { storeContract } from './contract.js'
import { freePort, rawCommand, redisSkip, startRedisCluster, startRedisClusterNode, startRedisServer } from './redis-server.js'
import { startSilentProxy } from './silent-proxy.js'

const skip = redisSkip()
if (skip) console.log(`# skipping the Redis store tests: ${skip}`)

let unhandled = 0
const countUnhandled = () => {
  unhandled++
}
process.on('unhandledRejection', countUnhandled)

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** A log that keeps what it is told. */
function recordingLog(): RedisStoreLog & { warns: string[]; infos: string[] } {
  const warns: string[] = []
  const infos: string[] = []
  return { warns, infos, warn: (m) => warns.push(m), info: (m) => infos.push(m) }
}

/** `fn`'s result once it stops rejecting (tried every 50 ms for at most 5 s). */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + 5_000
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (performance.now() > deadline) throw err
      await sleep(50)
    }
  }
}

/** What `fn` rejects with (fails the test if it resolves), and how long it took. */
async function rejection(fn: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = performance.now()
  try {
    await fn()
  } catch (err) {
    return { err, ms: performance.now() - started }
  }
  throw new Error('expected a rejection')
}

t.test('the client library is loaded by connect(), not on import; a failed connect() lets the process exit', async (t) => {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const code = `
    import { createRequire } from 'node:module'
    const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@redis/client'))
    const { createRedisStore } = await import('./src/store/index.ts')
    const store = createRedisStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300, log: { warn() {}, info() {} } })
    const before = loaded()
    await store.connect().catch(() => {})
    console.log(JSON.stringify({ before, after: loaded() }))`
  // The child ends by itself once connect() has failed: nothing (no reconnection timer) keeps it alive.
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, timeout: 20_000 })
  t.same(JSON.parse(stdout), { before: false, after: true })
})

t.test('RedisStore on a private redis-server', { skip }, async (t) => {
  t.test('the store contract', async (t) => {
    const server = await startRedisServer(t)
    storeContract(t, async (t) => {
      const open = async () => {
        const store = createRedisStore({ url: server.url, log: recordingLog() })
        await store.connect()
        t.teardown(() => store.close())
        return store
      }
      const [store, ...peers] = await Promise.all([open(), open(), open()])
      return { store: store!, peers, elapse: sleep }
    })
  })

  t.test('the store contract on a Redis Cluster node: every primitive is legal in cluster mode', async (t) => {
    const server = await startRedisClusterNode(t)
    t.match(await rawCommand(server.port, 'EVAL', "return redis.call('GET', KEYS[1]) or redis.call('GET', KEYS[2])", '2', 'a', 'b'), /^-CROSSSLOT/, 'the node refuses a script over two slots')
    storeContract(t, async (t) => {
      const open = async () => {
        const store = createRedisStore({ url: server.url, log: recordingLog() })
        await store.connect()
        t.teardown(() => store.close())
        return store
      }
      const [store, ...peers] = await Promise.all([open(), open()])
      return { store: store!, peers, elapse: sleep }
    })
  })

  t.test('pointed at one node of a multi-node cluster: keys of other nodes fail with a hint to use the proxy', async (t) => {
    const [first] = await startRedisCluster(t, 2)
    const log = recordingLog()
    const store = createRedisStore({ url: first!.url, log })
    await store.connect()
    t.teardown(() => store.close())
    let elsewhere = ''
    for (let i = 0; elsewhere === ''; i++) {
      const slot = Number(/^:(\d+)/.exec(await rawCommand(first!.port, 'CLUSTER', 'KEYSLOT', `k${i}`))?.[1])
      if (slot >= 8192) elsewhere = `k${i}`
    }
    const { err } = await rejection(() => store.get(elsewhere))
    t.ok(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE')
    t.match((err as Error).message, /MOVED .*one node of a Redis Cluster; set WX_MP_REDIS_URL to the cluster's proxy endpoint/)
    t.equal(log.warns.length, 1)
    t.match(log.warns[0], 'proxy endpoint')
  })

  t.test('one round trip per call, whatever the primitive', async (t) => {
    const server = await startRedisServer(t)
    const store = createRedisStore({ url: server.url, log: recordingLog() })
    await store.connect()
    t.teardown(() => store.close())
    const sent: string[] = []
    const channel = tracingChannel<unknown, { command: string; serverPort?: number }>('node-redis:command')
    const onStart = (ctx: { command: string; serverPort?: number }) => {
      if (ctx.serverPort === server.port) sent.push(ctx.command)
    }
    const handlers = { start: onStart, end() {}, asyncStart() {}, asyncEnd() {}, error() {} }
    channel.subscribe(handlers)
    t.teardown(() => channel.unsubscribe(handlers))

    const keys = new StoreKeys('wxmp', 'wx123')
    const k = keys.key('dedup', 'rt')
    const q = keys.key('queue', 'rt')
    const n = keys.key('quota', 'rt')
    const calls: [string, () => Promise<unknown>][] = [
      ['claim', () => store.claim(k, 'owner', 60_000)],
      ['set', () => store.set(k, 'reply', 60_000)],
      ['get', () => store.get(k)],
      ['replace', () => store.replace(k, 'reply', 'reply2', 60_000)],
      ['expire', () => store.expire(k, 60_000)],
      ['expire ifValue', () => store.expire(k, 60_000, 'reply2')],
      ['delete ifValue', () => store.delete(k, 'reply2')],
      ['delete', () => store.delete(k)],
      ['add', () => store.add(n, 1, 60_000)],
      ['push', () => store.push(q, 'a', 60_000)],
      ['list', () => store.list(q)],
      ['shift', () => store.shift(q)],
    ]
    // Once to load every script into the server's cache (EVALSHA → NOSCRIPT → EVAL the first time).
    for (const [, call] of calls) await call()
    const firstRun = sent.length
    t.ok(firstRun >= calls.length && firstRun <= calls.length + 6, `first run: ${firstRun} commands (scripts loaded once)`)
    for (const [name, call] of calls) {
      sent.length = 0
      await call()
      t.equal(sent.length, 1, `${name}: one round trip (${sent.join(', ')})`)
    }
    sent.length = 0
    await store.claim(keys.key('dedup', 'push'), 'owner', 60_000)
    await store.set(keys.key('dedup', 'push'), 'reply', 60_000)
    t.same(sent, ['EVALSHA', 'SET'], 'the dedup fast path of a push: two round trips')

    sent.length = 0
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const answer = store.set(k, 'v', bad)
      t.type(answer, Promise, `TTL ${bad}: a rejected promise, not a synchronous throw`)
      await t.rejects(answer, RangeError)
    }
    await t.rejects(store.add(n, 0.5, 1_000), RangeError, 'add() takes an integer delta')
    t.same(sent, [], 'nothing sent for a refused call')
  })

  t.test('Redis unreachable at start: connect() rejects within its bound, naming WX_MP_REDIS_URL and the address', async (t) => {
    const port = await freePort()
    const store = createRedisStore({ url: `redis://:s3cret-pw@127.0.0.1:${port}/0`, connectTimeoutMs: 1_500, log: recordingLog() })
    const { err, ms } = await rejection(() => store.connect())
    t.ok(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE', 'STORE_UNAVAILABLE')
    const message = (err as Error).message
    t.match(message, 'WX_MP_REDIS_URL')
    t.match(message, `127.0.0.1:${port}`, 'the address tried')
    t.notMatch(message, 's3cret-pw', 'never the password')
    t.ok(ms >= 1_400 && ms < 4_000, `rejected at the 1.5 s bound (${Math.round(ms)} ms)`)
    t.equal(await store.connect().catch((e: unknown) => e), err, 'connect() again answers the same failure')
    const after = await rejection(() => store.get('k'))
    t.ok(isWxMpError(after.err) && after.err.code === 'STORE_UNAVAILABLE', 'calls on the failed store reject')
    t.ok(after.ms < 100, 'at once')
  })

  t.test('a host that never answers: connect() still rejects within its bound', async (t) => {
    // 10.255.255.1 is unroutable here: the TCP connect hangs (or fails at once, without a route).
    const store = createRedisStore({ url: 'redis://10.255.255.1:6379', connectTimeoutMs: 1_000, log: recordingLog() })
    const { err, ms } = await rejection(() => store.connect())
    t.match((err as Error).message, /WX_MP_REDIS_URL.*10\.255\.255\.1:6379|10\.255\.255\.1:6379.*WX_MP_REDIS_URL/)
    t.ok(ms < 2_500, `rejected within the bound (${Math.round(ms)} ms)`)
  })

  t.test('a wrong password fails connect() at once with the server’s reason, never printing the password', async (t) => {
    const server = await startRedisServer(t, { args: ['--requirepass', 'right-pw'] })
    const url = server.url.replace('redis://', 'redis://:wrong-pw@')
    const store = createRedisStore({ url, connectTimeoutMs: 5_000, log: recordingLog() })
    const { err, ms } = await rejection(() => store.connect())
    t.ok(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE')
    t.match((err as Error).message, /refused the connection: (WRONGPASS|NOAUTH)/)
    t.match((err as Error).message, 'WX_MP_REDIS_URL')
    t.notMatch((err as Error).message, 'wrong-pw')
    t.ok(ms < 2_000, `not retried until the bound (${Math.round(ms)} ms)`)

    const right = createRedisStore({ url: server.url.replace('redis://', 'redis://:right-pw@'), log: recordingLog() })
    await right.connect()
    t.teardown(() => right.close())
    await right.set('k', 'v', 1_000)
    t.equal(await right.get('k'), 'v', 'the right password works')
  })

  t.test('a malformed WX_MP_REDIS_URL is a config error naming it, without echoing a secret', async (t) => {
    for (const url of ['', 'localhost:6379', 'http://127.0.0.1:6379', 'redis://', 'https://user:topsecret@host']) {
      let err: unknown
      try {
        createRedisStore({ url })
      } catch (e) {
        err = e
      }
      t.ok(isWxMpError(err) && err.code === 'INVALID_CONFIG', `${JSON.stringify(url)}: INVALID_CONFIG`)
      t.match((err as Error).message, 'WX_MP_REDIS_URL')
      t.notMatch((err as Error).message, 'topsecret')
    }
    t.throws(() => createRedisStore({ url: 'redis://h', commandTimeoutMs: 0 }), { code: 'INVALID_CONFIG' })
  })

  t.test('Redis killed mid-run: calls reject fast, one warning; restarted: the same store works again', async (t) => {
    const server = await startRedisServer(t)
    const log = recordingLog()
    const store = createRedisStore({ url: server.url, log, commandTimeoutMs: 1_000 })
    await store.connect()
    t.teardown(() => store.close())
    await store.set('k', 'v', 60_000)
    t.equal(store.available, true)

    await server.kill()
    const calls: [string, () => Promise<unknown>][] = [
      ['get', () => store.get('k')],
      ['set', () => store.set('k', 'v', 1_000)],
      ['claim', () => store.claim('c', 'v', 1_000)],
      ['replace', () => store.replace('k', 'v', 'w', 1_000)],
      ['delete', () => store.delete('k')],
      ['delete ifValue', () => store.delete('k', 'v')],
      ['expire', () => store.expire('k', 1_000)],
      ['expire ifValue', () => store.expire('k', 1_000, 'v')],
      ['add', () => store.add('n', 1, 1_000)],
      ['push', () => store.push('q', 'a', 1_000)],
      ['shift', () => store.shift('q')],
      ['list', () => store.list('q')],
    ]
    for (let round = 0; round < 5; round++) {
      for (const [name, call] of calls) {
        const { err, ms } = await rejection(call)
        if (round === 0) {
          t.ok(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE', `${name}: STORE_UNAVAILABLE`)
          t.ok(ms < 1_100, `${name}: rejected within the command bound (${Math.round(ms)} ms)`)
        }
      }
    }
    const burst = await Promise.allSettled(Array.from({ length: 100 }, () => store.claim('burst', 'v', 1_000)))
    t.equal(burst.filter((r) => r.status === 'rejected').length, 100, 'a burst of 100 claims: all rejected')
    t.equal(store.available, false)
    t.equal(log.warns.length, 1, `one warning for the whole outage, not one per call: ${log.warns.join(' | ')}`)
    t.match(log.warns[0], `127.0.0.1:${server.port}`)
    t.match(log.warns[0], 'WX_MP_REDIS_URL')
    t.equal(log.infos.length, 0, 'no recovery yet')

    await server.restart()
    const started = performance.now()
    let back = false
    while (performance.now() - started < 5_000) {
      try {
        await store.set('k', 'after', 60_000)
        back = true
        break
      } catch {
        await sleep(50)
      }
    }
    t.ok(back, `the same store object works again after the restart (${Math.round(performance.now() - started)} ms)`)
    t.equal(await store.get('k'), 'after')
    t.equal(await store.claim('c', 'v', 60_000), undefined, 'claims work again (the restarted server is empty)')
    t.equal(store.available, true)
    t.equal(log.warns.length, 1, 'still one warning')
    t.equal(log.infos.length, 1, `the recovery logged once: ${log.infos.join(' | ')}`)
    t.match(log.infos[0], 'answers again')
  })

  t.test('a hung Redis: calls reject after commandTimeoutMs, one warning; thawed: recovery logged once', async (t) => {
    const server = await startRedisServer(t)
    const log = recordingLog()
    const store = createRedisStore({ url: server.url, log, commandTimeoutMs: 300 })
    await store.connect()
    t.teardown(async () => {
      server.resume()
      await store.close()
    })
    await store.set('k', 'v', 60_000)
    server.pause()
    const results = await Promise.all(
      Array.from({ length: 3 }, () => rejection(() => store.claim('k', 'x', 60_000))),
    )
    for (const { err, ms } of results) {
      t.ok(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE')
      t.ok(ms >= 280 && ms < 1_500, `rejected at the 300 ms bound (${Math.round(ms)} ms)`)
    }
    t.match((results[0]!.err as Error).message, 'did not answer within 300 ms')
    t.equal(log.warns.length, 1, 'one warning')
    server.resume()
    t.equal(await eventually(() => store.get('k')), 'v', 'answers again once thawed')
    t.equal(log.warns.length, 1, 'still one warning')
    t.equal(log.infos.length, 1, 'recovery logged once')
  })

  t.test('a connection silenced without being closed (an LB or NAT dropping it): replaced, state back', async (t) => {
    const server = await startRedisServer(t)
    const proxy = await startSilentProxy(t, server.port)
    const log = recordingLog()
    const store = createRedisStore({ url: `redis://127.0.0.1:${proxy.port}`, log, commandTimeoutMs: 300 })
    await store.connect()
    t.teardown(() => store.close())
    await store.set('k', 'v', 60_000)
    t.equal(proxy.connections, 1)

    proxy.silenceOpenConnections()
    const { err, ms } = await rejection(() => store.get('k'))
    t.ok(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE', 'the silent connection: STORE_UNAVAILABLE')
    t.ok(ms >= 280 && ms < 1_500, `after the 300 ms bound (${Math.round(ms)} ms)`)
    t.equal(await eventually(() => store.get('k')), 'v', 'a new connection answers, without waiting for TCP to give up')
    t.equal(proxy.connections, 2, 'one replacement connection')
    t.equal(log.warns.length, 1, 'one warning')
    t.equal(log.infos.length, 1, 'recovery logged once')
  })

  t.test('close(): later calls reject; closing twice, or while Redis is down, does not hang', async (t) => {
    const server = await startRedisServer(t)
    const a = createRedisStore({ url: server.url, log: recordingLog() })
    await a.connect()
    await a.set('k', 'v', 60_000)
    await a.close()
    await a.close()
    const { err, ms } = await rejection(() => a.get('k'))
    t.ok(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE' && /closed/.test((err as Error).message))
    t.ok(ms < 100)

    const b = createRedisStore({ url: server.url, log: recordingLog() })
    await b.connect()
    await server.kill()
    const started = performance.now()
    await b.close()
    t.ok(performance.now() - started < 2_000, 'closed while Redis is down')
  })

  t.test('calls before connect() reject at once with STORE_UNAVAILABLE saying so', async (t) => {
    const store = new RedisStore({ url: 'redis://127.0.0.1:6379', log: recordingLog() })
    const { err, ms } = await rejection(() => store.claim('k', 'v', 1_000))
    t.ok(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE')
    t.match((err as Error).message, 'connect()')
    t.ok(ms < 100)
    await store.close()
  })

  t.test('no unhandled rejection through all of the above', async (t) => {
    await sleep(50)
    t.equal(unhandled, 0)
    process.removeListener('unhandledRejection', countUnhandled)
  })
})
