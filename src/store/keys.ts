/**
 * The key layout of all shared state: `<prefix>:{<appId>}:<kind>:<part>…`. The braces are a Redis
 * Cluster hash tag, so every key of one account lives in one slot; each part is percent-encoded,
 * so no two different part lists make the same key (`a:b` + `c` ≠ `a` + `b:c`). No secret ever
 * goes into a key: an account without an AppID is named `default`.
 *
 * @module
 */

/** What a key holds. */
export type KeyKind =
  | 'dedup'
  | 'attempts'
  | 'queue'
  | 'job'
  | 'recent'
  | 'quota'
  | 'alarm'
  | 'capability'
  | 'lock'
  | 'token'
  | 'pending-bytes'

/** Builds one account's keys. */
export class StoreKeys {
  readonly #base: string

  /**
   * @param prefix first segment of every key (`WX_MP_REDIS_PREFIX`, default `wxmp`).
   * @param account the AppID, or `undefined` for an account configured without one.
   */
  constructor(prefix = 'wxmp', account?: string) {
    if (!/^[A-Za-z0-9_-]+$/.test(prefix)) throw new RangeError(`store key prefix must be letters, digits, - or _, got ${JSON.stringify(prefix)}`)
    this.#base = `${prefix}:{${encodeURIComponent(account || 'default')}}:`
  }

  /** The key of `kind` for the given parts. */
  key(kind: KeyKind, ...parts: readonly (string | number)[]): string {
    // join() copies: a template of substrings of a request body would keep the whole body alive.
    const encoded = parts.map((p) => encodeURIComponent(String(p)))
    return [this.#base + kind, ...encoded].join(':')
  }
}
