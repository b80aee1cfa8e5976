/**
 * The access token and its refresh lock on any {@link WxMpStore}, so that {@link WxMpApi} shares
 * them through the same store as everything else (Redis across instances, memory in one process).
 *
 * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 *
 * @module
 */
import type { StoredToken, TokenStore } from '../api/token-store.js'
import { isWxMpError } from '../core/errors.js'
import type { StoreKeys } from './keys.js'
import type { WxMpStore } from './store.js'

/**
 * A {@link TokenStore} over a {@link WxMpStore}, for ONE account: the token lives under
 * `keys.key('token')` and the refresh lock under `keys.key('lock', 'token')` (with the default
 * prefix and AppID `wx123`: `wxmp:{wx123}:token` and `wxmp:{wx123}:lock:token`), whatever key
 * the token manager passes, so every client of the account shares them. Passing a second,
 * different key throws: create one per account (per {@link StoreKeys}).
 *
 * - `get`/`set`: `get`/`set` of the token as JSON.
 * - `acquireLock`/`releaseLock`: `claim` of the lock with the owner; compare-and-delete of it.
 * - `deleteIf` (after 40001/40014/42001): reads the token and deletes it only if the store still
 *   holds exactly what was read (`delete(key, ifValue)`), so a token another instance has just
 *   stored is never deleted because of an old one's failure.
 *
 * While the store is unavailable (`STORE_UNAVAILABLE`, e.g. Redis down), `get` answers with the
 * last token this object read or stored, as long as it has not expired, so API calls go on with
 * the token every instance already shares; `releaseLock` lets the lock expire at its TTL; the
 * other methods fail as the store does.
 *
 * @example
 * ```ts
 * const store = createRedisStore({ url: process.env.WX_MP_REDIS_URL! })
 * await store.connect()
 * const api = new WxMpApi({ tokenStore: new StoreTokenStore(store, new StoreKeys('wxmp', appId)) })
 * ```
 */
export class StoreTokenStore implements TokenStore {
  readonly #store: WxMpStore
  readonly #tokenKey: string
  readonly #lockKey: string
  readonly #now: () => number
  #token: string | undefined
  #lock: string | undefined
  /** The last token read or stored, served while the store is unavailable. */
  #last: StoredToken | undefined

  /** @param options.now clock in epoch ms (default `Date.now`), to judge the last token's expiry. */
  constructor(store: WxMpStore, keys: StoreKeys, options: { now?: () => number } = {}) {
    this.#store = store
    this.#tokenKey = keys.key('token')
    this.#lockKey = keys.key('lock', 'token')
    this.#now = options.now ?? Date.now
  }

  /** The store key of the token. */
  get tokenKey(): string {
    return this.#tokenKey
  }

  /** The store key of the refresh lock. */
  get lockKey(): string {
    return this.#lockKey
  }

  async get(key: string): Promise<StoredToken | undefined> {
    this.#token = sameAccount(this.#token, key, 'token')
    let raw: string | undefined
    try {
      raw = await this.#store.get(this.#tokenKey)
    } catch (err) {
      const last = this.#last
      if (isWxMpError(err) && err.code === 'STORE_UNAVAILABLE' && last !== undefined && this.#now() < last.expiresAt) return { ...last }
      throw err
    }
    const token = parseToken(raw)
    this.#last = token
    return token === undefined ? undefined : { ...token }
  }

  async set(key: string, token: StoredToken, ttlMs: number): Promise<void> {
    this.#token = sameAccount(this.#token, key, 'token')
    if (!(ttlMs > 0)) {
      await this.#store.delete(this.#tokenKey)
      this.#last = undefined
      return
    }
    const { accessToken, expiresAt, refreshAt } = token
    await this.#store.set(this.#tokenKey, JSON.stringify({ accessToken, expiresAt, refreshAt }), ttlMs)
    this.#last = { accessToken, expiresAt, refreshAt }
  }

  async acquireLock(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.#lock = sameAccount(this.#lock, key, 'lock')
    return (await this.#store.claim(this.#lockKey, owner, ttlMs)) === undefined
  }

  async releaseLock(key: string, owner: string): Promise<void> {
    this.#lock = sameAccount(this.#lock, key, 'lock')
    try {
      await this.#store.delete(this.#lockKey, owner)
    } catch (err) {
      // A lock that cannot be released now frees itself at its TTL; failing here would turn a
      // token just fetched and stored into an error for the caller.
      if (!(isWxMpError(err) && err.code === 'STORE_UNAVAILABLE')) throw err
    }
  }

  async deleteIf(key: string, accessToken: string): Promise<boolean> {
    this.#token = sameAccount(this.#token, key, 'token')
    // The token failed: never serve it again from #last, whatever the store says.
    if (this.#last?.accessToken === accessToken) this.#last = undefined
    const raw = await this.#store.get(this.#tokenKey)
    if (raw === undefined || parseToken(raw)?.accessToken !== accessToken) return false
    return await this.#store.delete(this.#tokenKey, raw)
  }
}

function sameAccount(seen: string | undefined, key: string, what: string): string {
  if (seen !== undefined && seen !== key) {
    throw new RangeError(`a StoreTokenStore serves one account, but was asked for the ${what} ${key} after ${seen}: create one StoreTokenStore per account`)
  }
  return key
}

/** The stored JSON as a token, or undefined when it is not one (treated as no token: a fresh one is fetched). */
function parseToken(raw: string | undefined): StoredToken | undefined {
  if (raw === undefined) return undefined
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return undefined
  }
  const t = value as Partial<StoredToken> | null
  if (t === null || typeof t !== 'object') return undefined
  if (typeof t.accessToken !== 'string' || typeof t.expiresAt !== 'number' || typeof t.refreshAt !== 'number') return undefined
  return { accessToken: t.accessToken, expiresAt: t.expiresAt, refreshAt: t.refreshAt }
}
