/**
 * The Redis adapter of the {@link WxMpStore} contract (`WX_MP_REDIS_URL`), so that several
 * instances, a rolling deploy or the invocations of a cloud function share one account's state.
 *
 * Every primitive is ONE round trip on ONE key — a plain command, or a short Lua script sent with
 * `EVALSHA` (the client falls back to `EVAL` once when the server has not cached it) — so nothing
 * here needs `MULTI` across keys, and it works unchanged on Redis Cluster (the keys' `{appId}` hash
 * tag puts an account in one slot anyway). Scripts rather than `SET … NX GET` keep Redis 5 and 6
 * (still what several managed offerings run) supported.
 *
 * Built for WeChat's 5-second deadline: the client never queues a call while Redis is away
 * (`disableOfflineQueue`), and every call is bounded by `commandTimeoutMs`, so a lost Redis turns
 * into a fast `STORE_UNAVAILABLE` rejection the caller can act on, never a push left waiting. An
 * outage is logged once when it starts and once when the client has reconnected by itself.
 *
 * Client: node-redis (`@redis/client`), the client Redis maintains and recommends for new
 * projects, loaded by the first `connect()`: a process without Redis never loads it (a cloud
 * function's cold start does not pay for it). Reference:
 * https://redis.io/docs/latest/develop/clients/nodejs/produsage/
 *
 * @module
 */
import type { CommandParser } from '@redis/client'
import { WxMpError } from '../core/errors.js'
import type { WxMpStore } from './store.js'

/** Where the adapter reports an outage and its end; pino's logger and `console` fit. */
export interface RedisStoreLog {
  warn(message: string): void
  info(message: string): void
}

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS); usually `WX_MP_REDIS_URL`. */
  url: string
  /** How long {@link RedisStore.connect} keeps trying before it rejects (default 10 000 ms). */
  connectTimeoutMs?: number
  /**
   * Bound on every call (default 1 000 ms): past it the call rejects with `STORE_UNAVAILABLE` even
   * if the connection looks alive (a hung server, a half-open TCP connection). Keep it well under
   * WeChat's 5 s deadline: a push makes two or three calls.
   */
  commandTimeoutMs?: number
  /** Where outages are reported (default `console`). */
  log?: RedisStoreLog
  /** The setting named in error messages (default `WX_MP_REDIS_URL`). */
  setting?: string
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
const DEFAULT_COMMAND_TIMEOUT_MS = 1_000
/** Reconnect delays grow by 100 ms to at most 1 s: Redis back → state back within a second. */
const RECONNECT_STEP_MS = 100
const RECONNECT_MAX_MS = 1_000
/** Below the idle timeouts of common load balancers and NAT gateways (typically 5 to 15 minutes). */
const PING_INTERVAL_MS = 60_000

/** Server replies that say "not now" rather than "wrong call": they count as an outage. */
const UNAVAILABLE_REPLIES = /^(LOADING|READONLY|OOM|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|MISCONF|NOREPLICAS|MOVED|ASK|NOAUTH|WRONGPASS|NOPERM)\b/

type RedisModule = typeof import('@redis/client')

/** The client library, loaded by the first connect(): importing the kit costs nothing without Redis. */
let redisModule: Promise<RedisModule> | undefined

/** The scripts, sent with EVALSHA (and once with EVAL when the server has not cached one). */
function scripts(redis: RedisModule) {
  return {
    claimKey: redis.defineScript({
      NUMBER_OF_KEYS: 1,
      SCRIPT: `local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`,
      parseCommand(parser: CommandParser, key: string, value: string, ttlMs: string) {
        parser.pushKey(key)
        parser.push(value, ttlMs)
      },
      transformReply: undefined as unknown as () => string | null,
    }),

    replaceKey: redis.defineScript({
      NUMBER_OF_KEYS: 1,
      SCRIPT: `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`,
      parseCommand(parser: CommandParser, key: string, expected: string, value: string, ttlMs: string) {
        parser.pushKey(key)
        parser.push(expected, value, ttlMs)
      },
      transformReply: undefined as unknown as () => number,
    }),

    deleteIf: redis.defineScript({
      NUMBER_OF_KEYS: 1,
      SCRIPT: `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`,
      parseCommand(parser: CommandParser, key: string, ifValue: string) {
        parser.pushKey(key)
        parser.push(ifValue)
      },
      transformReply: undefined as unknown as () => number,
    }),

    expireIf: redis.defineScript({
      NUMBER_OF_KEYS: 1,
      SCRIPT: `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`,
      parseCommand(parser: CommandParser, key: string, ifValue: string, ttlMs: string) {
        parser.pushKey(key)
        parser.push(ifValue, ttlMs)
      },
      transformReply: undefined as unknown as () => number,
    }),

    // A key INCRBY creates has no TTL (PTTL -1); one that existed keeps the TTL it had.
    addTo: redis.defineScript({
      NUMBER_OF_KEYS: 1,
      SCRIPT: `local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n`,
      parseCommand(parser: CommandParser, key: string, delta: string, ttlMs: string) {
        parser.pushKey(key)
        parser.push(delta, ttlMs)
      },
      transformReply: undefined as unknown as () => number,
    }),

    pushTo: redis.defineScript({
      NUMBER_OF_KEYS: 1,
      SCRIPT: `local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return n`,
      parseCommand(parser: CommandParser, key: string, value: string, ttlMs: string) {
        parser.pushKey(key)
        parser.push(value, ttlMs)
      },
      transformReply: undefined as unknown as () => number,
    }),
  }
}

function newClient(redis: RedisModule, url: string, connectTimeoutMs: number, reconnect: (retries: number, cause: Error) => number | false) {
  return redis.createClient({
    url,
    scripts: scripts(redis),
    // A call made while Redis is away rejects at once instead of waiting for the reconnection.
    disableOfflineQueue: true,
    // Traffic on an idle connection, so that a load balancer or NAT does not drop it silently.
    pingInterval: PING_INTERVAL_MS,
    socket: {
      connectTimeout: Math.min(connectTimeoutMs, 5_000),
      reconnectStrategy: reconnect,
    },
  })
}

type Client = ReturnType<typeof newClient>

/** Why a call did not answer in time (turned into `STORE_UNAVAILABLE`). */
class CallTimeout extends Error {}

/**
 * `host:port` of a Redis URL, the only part of it ever printed (the URL may hold a password).
 *
 * @throws {WxMpError} `INVALID_CONFIG` when `url` is not a `redis://` or `rediss://` URL.
 */
export function redisAddress(url: string, setting = 'WX_MP_REDIS_URL'): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new WxMpError('INVALID_CONFIG', `${setting} is not a URL. Set it like redis://127.0.0.1:6379 (or redis://:password@host:6379/0, rediss:// for TLS).`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new WxMpError('INVALID_CONFIG', `${setting} must start with redis:// or rediss://, got ${parsed.protocol}//. Set it like redis://127.0.0.1:6379.`)
  }
  if (parsed.hostname === '') throw new WxMpError('INVALID_CONFIG', `${setting} names no host. Set it like redis://127.0.0.1:6379.`)
  return `${parsed.hostname}:${parsed.port || '6379'}`
}

/**
 * A {@link WxMpStore} on Redis. Create it with {@link createRedisStore}, then `await connect()`
 * once before serving: that is the start-up check, and it rejects within `connectTimeoutMs` with
 * an error naming `WX_MP_REDIS_URL` and the address tried.
 *
 * Round trips: every method is exactly one (`get`, `set`, `delete` without `ifValue`, `expire`
 * without `ifValue`, `shift` and `list` are plain commands; the others one `EVALSHA`). The dedup
 * fast path of a push — a `claim`, then a `set` of the reply — is two.
 *
 * While serving, a lost connection makes every call reject at once (a hung server: after
 * `commandTimeoutMs`) with `WxMpError` code `STORE_UNAVAILABLE`; the first failure logs one
 * warning, the client reconnects by itself (every 0.1–1 s; a connection that stopped answering
 * without closing is replaced after its first timed-out call), and the first success logs the
 * recovery. A call that timed out may still have been done by Redis (its outcome is unknown).
 *
 * @example
 * ```ts
 * const store = createRedisStore({ url: process.env.WX_MP_REDIS_URL!, log: app.log })
 * await store.connect()
 * ```
 */
export class RedisStore implements WxMpStore {
  readonly #url: string
  /** Created by connect(), once the client library is loaded. */
  #client: Client | undefined
  #redis: RedisModule | undefined
  readonly #address: string
  readonly #setting: string
  readonly #connectTimeoutMs: number
  readonly #commandTimeoutMs: number
  readonly #log: RedisStoreLog
  #connecting: Promise<void> | undefined
  #everReady = false
  #recycling = false
  #closed = false
  /** Start of the current outage (epoch ms) and the calls it failed; undefined while Redis answers. */
  #outage: { since: number; failed: number } | undefined
  #lastError: Error | undefined

  constructor(options: RedisStoreOptions) {
    this.#setting = options.setting ?? 'WX_MP_REDIS_URL'
    this.#address = redisAddress(options.url, this.#setting)
    this.#connectTimeoutMs = positive(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs')
    this.#commandTimeoutMs = positive(options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS, 'commandTimeoutMs')
    this.#log = options.log ?? console
    this.#url = options.url
  }

  #newClient(redis: RedisModule): Client {
    const client = newClient(redis, this.#url, this.#connectTimeoutMs, (retries, cause) => {
      this.#lastError = cause
      // Before the first connection, a refusal by the server (wrong password, unknown database)
      // will not go away by retrying: stop, so that connect() says so at once.
      if (!this.#everReady && cause instanceof redis.ErrorReply) return false
      return Math.min(RECONNECT_STEP_MS * (retries + 1), RECONNECT_MAX_MS)
    })
    // Without a listener an 'error' event would crash the process; each failed reconnection emits
    // one. A client replaced by #recycle() keeps its listener but is no longer heard.
    client.on('error', (err: Error) => {
      if (client !== this.#client) return
      this.#lastError = err
      if (this.#everReady && !this.#closed) this.#down(err)
    })
    client.on('ready', () => {
      if (client !== this.#client) return
      this.#everReady = true
      this.#up()
    })
    return client
  }

  /**
   * Replaces a connection that looks open but did not answer within `commandTimeoutMs`. A peer
   * that vanished without closing the connection (a host gone, a load balancer or NAT dropping an
   * idle connection silently) leaves the socket "ready" until TCP gives up, which takes about 15
   * minutes on Linux; a new connection works as soon as Redis is reachable again. One replacement
   * at a time; calls meanwhile reject at once (the new client is not ready yet).
   */
  #recycle(): void {
    const old = this.#client
    const redis = this.#redis
    if (old === undefined || redis === undefined || this.#closed || this.#recycling || !old.isReady) return
    this.#recycling = true
    const fresh = this.#newClient(redis)
    this.#client = fresh
    old.destroy()
    fresh
      .connect()
      .catch(() => undefined) // reported through the 'error' listener
      .finally(() => {
        this.#recycling = false
      })
  }

  /** `host:port` of the server (never the password). */
  get address(): string {
    return this.#address
  }

  /** Whether the connection is up and calls are expected to succeed. */
  get available(): boolean {
    return this.#client?.isReady === true && this.#outage === undefined
  }

  /**
   * Connects (once; later calls share the first). Resolves when Redis answers; rejects within
   * `connectTimeoutMs` with `STORE_UNAVAILABLE` naming the setting and the address, and then gives
   * up (the store is closed: create a new one to try again).
   */
  connect(): Promise<void> {
    this.#connecting ??= this.#connect()
    return this.#connecting
  }

  async #connect(): Promise<void> {
    if (this.#closed) throw this.#closedError()
    let redis: RedisModule
    try {
      redis = await (redisModule ??= import('@redis/client'))
    } catch (err) {
      redisModule = undefined
      throw new WxMpError('INVALID_CONFIG', `${this.#setting} is set, but the Redis client library is not installed: npm install @redis/client`, { cause: err })
    }
    if (this.#closed) throw this.#closedError()
    this.#redis = redis
    const client = (this.#client = this.#newClient(redis))
    let timer: NodeJS.Timeout | undefined
    const attempt = client.connect().then(() => undefined)
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#connectTimeoutMs)
    })
    let outcome: undefined | 'timeout'
    try {
      outcome = await Promise.race([attempt, deadline])
    } catch (err) {
      this.#lastError = err instanceof Error ? err : new Error(String(err))
      outcome = 'timeout'
    } finally {
      clearTimeout(timer)
    }
    if (outcome === undefined) return
    // Stop the reconnection loop, so nothing keeps the process alive after the failure.
    attempt.catch(() => undefined)
    this.#closed = true
    client.destroy()
    const cause = this.#lastError
    const message =
      cause instanceof redis.ErrorReply
        ? `Redis at ${this.#address} (${this.#setting}) refused the connection: ${sentence(cause)}. Check the user, password and database number in ${this.#setting}.`
        : `cannot reach Redis at ${this.#address} (${this.#setting}) within ${this.#connectTimeoutMs} ms${cause ? `: ${sentence(cause)}` : ''}. Check that Redis runs and that ${this.#setting} names it, e.g. redis://127.0.0.1:6379.`
    throw new WxMpError('STORE_UNAVAILABLE', message, { cause })
  }

  /** Closes the connection: waits up to `commandTimeoutMs` for calls under way, then drops it. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const client = this.#client
    if (client === undefined || !client.isOpen) return
    if (!client.isReady) {
      client.destroy()
      return
    }
    let timer: NodeJS.Timeout | undefined
    const quit = client.close().then(
      () => true,
      () => false,
    )
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#commandTimeoutMs)
    })
    const clean = await Promise.race([quit, late])
    clearTimeout(timer)
    if (!clean && client.isOpen) client.destroy()
  }

  get(key: string): Promise<string | undefined> {
    return this.#call(key, async (c) => (await c.get(key)) ?? undefined)
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    return this.#callWithTtl(key, ttlMs, async (c, ttl) => {
      await c.set(key, value, { expiration: { type: 'PX', value: ttl } })
    })
  }

  claim(key: string, value: string, ttlMs: number): Promise<string | undefined> {
    return this.#callWithTtl(key, ttlMs, async (c, ttl) => (await c.claimKey(key, value, String(ttl))) ?? undefined)
  }

  replace(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    return this.#callWithTtl(key, ttlMs, async (c, ttl) => (await c.replaceKey(key, expected, value, String(ttl))) === 1)
  }

  delete(key: string, ifValue?: string): Promise<boolean> {
    if (ifValue === undefined) return this.#call(key, async (c) => (await c.del(key)) === 1)
    return this.#call(key, async (c) => (await c.deleteIf(key, ifValue)) === 1)
  }

  expire(key: string, ttlMs: number, ifValue?: string): Promise<boolean> {
    if (ifValue === undefined) return this.#callWithTtl(key, ttlMs, async (c, ttl) => (await c.pExpire(key, ttl)) === 1)
    return this.#callWithTtl(key, ttlMs, async (c, ttl) => (await c.expireIf(key, ifValue, String(ttl))) === 1)
  }

  add(key: string, delta: number, ttlMs: number): Promise<number> {
    if (!Number.isSafeInteger(delta)) return Promise.reject(new RangeError(`store add() takes an integer delta, got ${delta}`))
    return this.#callWithTtl(key, ttlMs, async (c, ttl) => Number(await c.addTo(key, String(delta), String(ttl))))
  }

  push(key: string, value: string, ttlMs: number): Promise<number> {
    return this.#callWithTtl(key, ttlMs, async (c, ttl) => Number(await c.pushTo(key, value, String(ttl))))
  }

  shift(key: string): Promise<string | undefined> {
    return this.#call(key, async (c) => (await c.lPop(key)) ?? undefined)
  }

  list(key: string): Promise<string[]> {
    return this.#call(key, async (c) => await c.lRange(key, 0, -1))
  }

  /** {@link #call} with a TTL in whole ms; a TTL that is not positive rejects with a RangeError. */
  #callWithTtl<T>(key: string, ttlMs: number, run: (client: Client, ttl: number) => Promise<T>): Promise<T> {
    if (!(ttlMs > 0) || !Number.isFinite(ttlMs)) return Promise.reject(new RangeError(`store TTL must be a positive number of ms, got ${ttlMs}`))
    const ttl = Math.ceil(ttlMs)
    return this.#call(key, (client) => run(client, ttl))
  }

  /**
   * Runs one call with the `commandTimeoutMs` bound; turns unavailability into `STORE_UNAVAILABLE`
   * (and the start and end of an outage into one log line each).
   */
  async #call<T>(key: string, run: (client: Client) => Promise<T>): Promise<T> {
    if (this.#closed) throw this.#closedError()
    const client = this.#client
    if (client === undefined || !this.#everReady) throw this.#notConnectedError()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CallTimeout(`Redis did not answer within ${this.#commandTimeoutMs} ms`)), this.#commandTimeoutMs)
    })
    try {
      // race() subscribes to both, so a command that settles after its deadline is still handled.
      const result = await Promise.race([run(client), deadline])
      if (this.#outage !== undefined) this.#up()
      return result
    } catch (err) {
      throw this.#failure(key, err)
    } finally {
      clearTimeout(timer)
    }
  }

  #failure(key: string, err: unknown): Error {
    if (this.#redis !== undefined && err instanceof this.#redis.ErrorReply && !UNAVAILABLE_REPLIES.test(err.message)) {
      // The call itself is wrong for what the key holds (WRONGTYPE, not an integer): a bug, not an outage.
      return new TypeError(`store key ${key}: ${err.message}`, { cause: err })
    }
    if (err instanceof RangeError || err instanceof TypeError) return err
    if (this.#closed) return this.#closedError()
    const cause = err instanceof Error ? err : new Error(String(err))
    if (err instanceof CallTimeout) this.#recycle()
    const reason = /^(MOVED|ASK)\b/.test(cause.message)
      ? `${sentence(cause)} (this is one node of a Redis Cluster; set ${this.#setting} to the cluster's proxy endpoint)`
      : sentence(cause)
    this.#down(new Error(reason, { cause }))
    if (this.#outage !== undefined) this.#outage.failed++
    return new WxMpError('STORE_UNAVAILABLE', `Redis at ${this.#address} (${this.#setting}) is unavailable: ${reason}`, { cause })
  }

  #notConnectedError(): WxMpError {
    return new WxMpError('STORE_UNAVAILABLE', `the Redis store at ${this.#address} (${this.#setting}) is not connected: await connect() before using it`)
  }

  #closedError(): WxMpError {
    return new WxMpError('STORE_UNAVAILABLE', `the Redis store at ${this.#address} (${this.#setting}) is closed`)
  }

  #down(cause: Error): void {
    if (this.#outage !== undefined) return
    this.#outage = { since: Date.now(), failed: 0 }
    this.#log.warn(
      `Redis at ${this.#address} (${this.#setting}) is unavailable: ${sentence(cause)}. Store calls fail with STORE_UNAVAILABLE until it answers again; reconnecting by itself.`,
    )
  }

  #up(): void {
    const outage = this.#outage
    if (outage === undefined) return
    this.#outage = undefined
    this.#log.info(`Redis at ${this.#address} (${this.#setting}) answers again after ${Date.now() - outage.since} ms; ${outage.failed} store calls failed meanwhile.`)
  }
}

/** An error's message without its final period, to be embedded in a sentence. */
function sentence(err: Error): string {
  return err.message.replace(/\.+$/, '')
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!(value > 0) || !Number.isFinite(value)) throw new WxMpError('INVALID_CONFIG', `RedisStore ${name} must be a positive number of ms, got ${value}`)
  return value
}

/**
 * A {@link RedisStore} for `options.url` (not yet connected: `await store.connect()`).
 *
 * @throws {WxMpError} `INVALID_CONFIG` when the URL or a timeout is malformed (naming the setting).
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  return new RedisStore(options)
}
