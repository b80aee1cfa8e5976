/**
 * Where access tokens live, so that every process and host of one account shares a single token.
 *
 * WeChat's guidance is one central token service (AccessToken 中控服务器): if each process fetched its
 * own token from `/cgi-bin/token`, every fetch would invalidate the others' (errcode 40001). A
 * {@link TokenStore} is that shared place. The in-memory default ({@link MemoryTokenStore}) shares a
 * token between the clients of one process; a Redis store implements the same five methods with
 * `GET`, `SET PX`, `SET NX PX` and two small compare-and-delete Lua scripts.
 *
 * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 *
 * @module
 */

/** An access token as kept in a {@link TokenStore}. Times are epoch milliseconds. */
export interface StoredToken {
  /** The token itself. Secret: never log it. */
  accessToken: string
  /** When WeChat stops accepting it (fetch time + `expires_in`). Never served after this. */
  expiresAt: number
  /** When clients should start fetching a replacement (expiresAt − min(300 s, half the lifetime)). */
  refreshAt: number
}

/**
 * Storage shared by every client of one account. All methods are async so that a network store
 * (Redis, a database) can implement them; keys are namespaced by the client (`wx-mp-svr:token:<appId>`).
 *
 * Semantics a store must provide:
 * - `get`/`set`: plain read and write with a time-to-live (`SET key value PX ttl`).
 * - `acquireLock`: set-if-absent with a TTL (`SET lockKey owner NX PX ttl`); true when this owner got it.
 * - `releaseLock`: delete the lock only if `owner` still holds it (compare-and-delete).
 * - `deleteIf`: delete the token only if it is still `accessToken` (compare-and-delete), so that a
 *   client that saw a stale token fail never deletes the fresh one another process just stored.
 *
 * @example A Redis store (sketch, with node-redis)
 * ```ts
 * const CAD = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`
 * const store: TokenStore = {
 *   async get(key) { const v = await redis.get(key); return v ? JSON.parse(v) : undefined },
 *   async set(key, token, ttlMs) { await redis.set(key, JSON.stringify(token), { PX: ttlMs }) },
 *   async acquireLock(key, owner, ttlMs) { return (await redis.set(key, owner, { NX: true, PX: ttlMs })) === 'OK' },
 *   async releaseLock(key, owner) { await redis.eval(CAD, { keys: [key], arguments: [owner] }) },
 *   async deleteIf(key, accessToken) { ... compare the parsed value's accessToken, then DEL ... },
 * }
 * ```
 */
export interface TokenStore {
  /** The token stored under `key`, or `undefined` if none (or its TTL passed). */
  get(key: string): Promise<StoredToken | undefined>
  /** Stores `token` under `key` for `ttlMs` milliseconds. */
  set(key: string, token: StoredToken, ttlMs: number): Promise<void>
  /** Takes the lock `key` for `owner` if nobody holds it; it frees itself after `ttlMs`. */
  acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean>
  /** Frees the lock `key` if `owner` still holds it. */
  releaseLock(key: string, owner: string): Promise<void>
  /** Deletes the token under `key` if it is still `accessToken`; true when deleted. */
  deleteIf(key: string, accessToken: string): Promise<boolean>
}

/** Options of {@link MemoryTokenStore}. */
export interface MemoryTokenStoreOptions {
  /** Clock in epoch milliseconds (default `Date.now`); inject a fake one in tests. */
  now?: () => number
}

/**
 * The default {@link TokenStore}: a `Map` in this process. Share one instance between clients of
 * the same account to make them fetch once; use a network store (Redis) across processes and hosts.
 *
 * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export class MemoryTokenStore implements TokenStore {
  readonly #now: () => number
  readonly #tokens = new Map<string, { token: StoredToken; until: number }>()
  readonly #locks = new Map<string, { owner: string; until: number }>()

  constructor(options: MemoryTokenStoreOptions = {}) {
    this.#now = options.now ?? Date.now
  }

  async get(key: string): Promise<StoredToken | undefined> {
    const entry = this.#tokens.get(key)
    if (!entry) return undefined
    if (this.#now() >= entry.until) {
      this.#tokens.delete(key)
      return undefined
    }
    return { ...entry.token }
  }

  async set(key: string, token: StoredToken, ttlMs: number): Promise<void> {
    if (ttlMs <= 0) {
      this.#tokens.delete(key)
      return
    }
    this.#tokens.set(key, { token: { ...token }, until: this.#now() + ttlMs })
  }

  async acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const held = this.#locks.get(key)
    if (held && this.#now() < held.until) return false
    this.#locks.set(key, { owner, until: this.#now() + ttlMs })
    return true
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    if (this.#locks.get(key)?.owner === owner) this.#locks.delete(key)
  }

  async deleteIf(key: string, accessToken: string): Promise<boolean> {
    const entry = this.#tokens.get(key)
    if (entry?.token.accessToken !== accessToken) return false
    this.#tokens.delete(key)
    return true
  }
}
