/**
 * The access-token manager (中控): one token per account, shared, refreshed ahead of expiry, never
 * fetched twice at once, and never overwriting itself.
 *
 * - **Endpoint.** `stable` (default) uses `POST /cgi-bin/stable_token`, which returns the *same* valid
 *   token to every caller unless `force_refresh` is set; `classic` uses `GET /cgi-bin/token`, where
 *   every call issues a new token and invalidates the previous one.
 * - **Cache.** Tokens live in a {@link TokenStore} with their `expiresAt`; a token is never served
 *   after it, and a replacement is fetched from `refreshAt` = expiresAt − min(300 s, half the lifetime).
 * - **Single flight.** In one process, concurrent callers share one in-flight fetch. Across processes,
 *   the store's lock elects one fetcher; the others poll the store for its result.
 * - **Invalidation.** When a call fails with 40001/40014/42001, {@link AccessTokenManager.invalidate}
 *   deletes the token only if it is still the one that failed (compare-and-delete), then fetches a new
 *   one: with stable_token first without `force_refresh`, and only if WeChat hands back the very token
 *   that failed, with `force_refresh: true`.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
 * - https://developers.weixin.qq.com/doc/service/api/base/api_getaccesstoken
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { WxMpApiError } from './errors.js'
import type { StoredToken, TokenStore } from './token-store.js'
import type { Transport } from './transport.js'

/** Which WeChat endpoint issues tokens: `stable` (`/cgi-bin/stable_token`, default) or `classic` (`/cgi-bin/token`). */
export type TokenEndpoint = 'stable' | 'classic'

/** Options of {@link AccessTokenManager}. */
export interface AccessTokenManagerOptions {
  appId: string
  appSecret: string
  transport: Transport
  store: TokenStore
  /** Default `stable`. Use `classic` only if nothing else fetches tokens for this account. */
  endpoint?: TokenEndpoint
  /** Store key prefix; the key is `${prefix}${appId}` (default prefix `wx-mp-svr:token:`). */
  keyPrefix?: string
  /** Clock in epoch ms (default `Date.now`). */
  now?: () => number
  /** Waits `ms`; injectable for tests (default: a timer). */
  sleep?: (ms: number) => Promise<void>
  /** How long a refresh lock lives if its holder dies (default 30 000 ms). */
  lockTtlMs?: number
  /** How long to wait for another process's refresh before giving up (default 15 000 ms). */
  lockWaitMs?: number
  /** How often to poll the store while waiting (default 100 ms). */
  lockPollMs?: number
}

/** A token with its timing, as returned by {@link AccessTokenManager.getToken}. */
export interface AccessTokenInfo extends StoredToken {
  /** `fetched` when this call fetched it from WeChat, `store` when it came from the cache. */
  source: 'fetched' | 'store'
}

interface RefreshGoal {
  /** Refuse this token (it failed, or the caller wants a newer one). */
  reject: string | undefined
  /** Use force_refresh for the first fetch (explicit forceRefresh). */
  force: boolean
  /** After a failure: if WeChat returns `reject` again, fetch once more with force_refresh. */
  escalate: boolean
}

const REFRESH_AHEAD_MAX_MS = 300_000

/**
 * Fetches, caches and shares the access token of one account. {@link WxMpApi} creates one; use it
 * directly to build a token service (中控) for other languages or hosts.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
 */
export class AccessTokenManager {
  readonly #o: Required<Omit<AccessTokenManagerOptions, 'keyPrefix'>>
  readonly #key: string
  readonly #lockKey: string
  readonly #inflight = new Map<string, Promise<AccessTokenInfo>>()

  constructor(options: AccessTokenManagerOptions) {
    this.#o = {
      endpoint: 'stable',
      now: Date.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      lockTtlMs: 30_000,
      lockWaitMs: 15_000,
      lockPollMs: 100,
      ...stripUndefined(options),
    } as Required<Omit<AccessTokenManagerOptions, 'keyPrefix'>>
    this.#key = `${options.keyPrefix ?? 'wx-mp-svr:token:'}${options.appId}`
    this.#lockKey = `${this.#key}:lock`
  }

  /** The endpoint in use. */
  get endpoint(): TokenEndpoint {
    return this.#o.endpoint
  }

  /**
   * A valid token and its timing. Served from the store until `refreshAt`; then (or with
   * `forceRefresh`) fetched, once, for all concurrent callers.
   *
   * `forceRefresh: true` gets a token newer than the one currently stored (with stable_token it sets
   * `force_refresh`, which invalidates the old token for everybody and is rate-limited by WeChat: use
   * it to recover from a leaked token, not routinely).
   */
  async getToken(options: { forceRefresh?: boolean } = {}): Promise<AccessTokenInfo> {
    const current = await this.#o.store.get(this.#key)
    if (!options.forceRefresh) {
      if (current && this.#fresh(current)) return { ...current, source: 'store' }
      try {
        return await this.#refresh({ reject: undefined, force: false, escalate: false })
      } catch (err) {
        // A refresh ahead of expiry failed: the current token is still accepted by WeChat.
        if (current && this.#valid(current)) return { ...current, source: 'store' }
        throw err
      }
    }
    return this.#refresh({ reject: current?.accessToken, force: true, escalate: false })
  }

  /**
   * Reports that `failedToken` was refused by WeChat (40001/40014/42001) and returns a different,
   * fresh token. The stored token is deleted only if it is still `failedToken`.
   */
  async invalidate(failedToken: string): Promise<AccessTokenInfo> {
    await this.#o.store.deleteIf(this.#key, failedToken)
    return this.#refresh({ reject: failedToken, force: false, escalate: true })
  }

  #fresh(t: StoredToken): boolean {
    return this.#o.now() < t.refreshAt && this.#o.now() < t.expiresAt
  }

  #valid(t: StoredToken): boolean {
    return this.#o.now() < t.expiresAt
  }

  #refresh(goal: RefreshGoal): Promise<AccessTokenInfo> {
    const flightKey = `${goal.force ? 'force' : 'normal'}:${goal.reject ?? ''}`
    let flight = this.#inflight.get(flightKey)
    if (!flight) {
      flight = this.#refreshNow(goal).finally(() => this.#inflight.delete(flightKey))
      this.#inflight.set(flightKey, flight)
    }
    return flight
  }

  async #refreshNow(goal: RefreshGoal): Promise<AccessTokenInfo> {
    const { store } = this.#o
    const acceptable = (t: StoredToken | undefined): boolean =>
      t !== undefined && t.accessToken !== goal.reject && this.#fresh(t)
    const deadline = Math.max(1, Math.ceil(this.#o.lockWaitMs / Math.max(1, this.#o.lockPollMs)))

    for (let polls = 0; ; polls++) {
      const seen = await store.get(this.#key)
      if (seen && acceptable(seen)) return { ...seen, source: 'store' }

      const owner = randomUUID()
      if (await store.acquireLock(this.#lockKey, owner, this.#o.lockTtlMs)) {
        try {
          // Another process may have stored a token between our read and the lock.
          const again = await store.get(this.#key)
          if (again && acceptable(again)) return { ...again, source: 'store' }
          let token = await this.#fetch(goal.force)
          if (goal.escalate && token.accessToken === goal.reject && this.#o.endpoint === 'stable') {
            token = await this.#fetch(true)
          }
          await store.set(this.#key, token, token.expiresAt - this.#o.now())
          return { ...token, source: 'fetched' }
        } finally {
          await store.releaseLock(this.#lockKey, owner)
        }
      }

      // Someone else is refreshing. A token that is still valid (only past refreshAt) is fine to use
      // meanwhile, unless we were asked for a different one.
      if (!goal.force && seen && seen.accessToken !== goal.reject && this.#valid(seen)) {
        return { ...seen, source: 'store' }
      }
      if (polls >= deadline) {
        throw new WxMpApiError({
          code: 'TIMEOUT',
          errcode: -1,
          errmsg: `waited ${this.#o.lockWaitMs} ms for another process to refresh the access_token (lock ${this.#lockKey})`,
          path: this.#o.endpoint === 'stable' ? '/cgi-bin/stable_token' : '/cgi-bin/token',
        })
      }
      await this.#o.sleep(this.#o.lockPollMs)
    }
  }

  async #fetch(force: boolean): Promise<StoredToken> {
    const { transport, appId, appSecret, endpoint } = this.#o
    const res =
      endpoint === 'stable'
        ? await transport.request({
            method: 'POST',
            path: '/cgi-bin/stable_token',
            json: { grant_type: 'client_credential', appid: appId, secret: appSecret, force_refresh: force },
            idempotent: true,
          })
        : await transport.request({
            method: 'GET',
            path: '/cgi-bin/token',
            query: { grant_type: 'client_credential', appid: appId, secret: appSecret },
            idempotent: true,
          })
    const path = endpoint === 'stable' ? '/cgi-bin/stable_token' : '/cgi-bin/token'
    const body = res.kind === 'json' ? res.body : {}
    const accessToken = body['access_token']
    const expiresIn = Number(body['expires_in'])
    if (typeof accessToken !== 'string' || accessToken === '' || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      throw new WxMpApiError({
        code: 'BAD_RESPONSE',
        errcode: -1,
        errmsg: 'token answer lacks access_token or a positive expires_in',
        path,
        method: endpoint === 'stable' ? 'POST' : 'GET',
      })
    }
    const now = this.#o.now()
    const lifetimeMs = expiresIn * 1000
    const expiresAt = now + lifetimeMs
    return { accessToken, expiresAt, refreshAt: expiresAt - Math.min(REFRESH_AHEAD_MAX_MS, lifetimeMs / 2) }
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
