/**
 * The one store contract for all state an account shares between the requests of one process,
 * several instances, or the invocations of a cloud function: dedup claims and finished replies,
 * attempt counts, the pending-answer queues, the customer-service quota ledger, the held-attempt
 * alarm counter, and the access token with its refresh lock.
 *
 * The contract is a handful of atomic primitives on string keys and string values, each of which a
 * key-value server offers as one command or one short script on ONE key — so that an adapter (the
 * in-memory default, Redis, a managed KV) is one small file, and works on Redis Cluster. The kit
 * builds every feature on these primitives and namespaces every key itself ({@link StoreKeys}).
 *
 * Every method may answer at once or with a promise: the in-memory store answers at once, which
 * lets a push whose handler also answers at once be served without a promise or a timer.
 *
 * @module
 */

/** A value or a promise of it. */
export type MaybePromise<T> = T | PromiseLike<T>

/**
 * Shared state behind every feature of the kit. Keys arrive fully namespaced; values are strings.
 * A TTL (`ttlMs`) is always positive; an expired key reads as absent.
 *
 * | method | Redis |
 * |---|---|
 * | `get` | `GET` |
 * | `set` | `SET k v PX ttl` |
 * | `claim` | `SET k v NX PX ttl GET` |
 * | `replace` | Lua: `GET` = expected → `SET k v PX ttl` |
 * | `delete` | `DEL`, or Lua compare-and-delete with `ifValue` |
 * | `expire` | `PEXPIRE`, or Lua compare-and-expire with `ifValue` |
 * | `add` | Lua: `INCRBY`, `PEXPIRE` when created |
 * | `push` | `RPUSH` + `PEXPIRE` |
 * | `shift` | `LPOP` |
 * | `list` | `LRANGE 0 -1` |
 */
export interface WxMpStore {
  /** The value under `key`, or `undefined`. */
  get(key: string): MaybePromise<string | undefined>
  /** Stores `value` under `key` for `ttlMs`, replacing what was there. */
  set(key: string, value: string, ttlMs: number): MaybePromise<void>
  /**
   * Stores `value` under `key` for `ttlMs` only if the key is absent. Returns `undefined` when this
   * call stored it (the caller owns the key), else the value already there (left unchanged).
   */
  claim(key: string, value: string, ttlMs: number): MaybePromise<string | undefined>
  /** Compare-and-set: stores `value` for `ttlMs` only if the key holds exactly `expected`; true when it did. */
  replace(key: string, expected: string, value: string, ttlMs: number): MaybePromise<boolean>
  /** Deletes `key` (only if it holds exactly `ifValue`, when given); true when something was deleted. */
  delete(key: string, ifValue?: string): MaybePromise<boolean>
  /** Sets the key's TTL (only if it holds exactly `ifValue`, when given); true when the key existed (and matched). */
  expire(key: string, ttlMs: number, ifValue?: string): MaybePromise<boolean>
  /**
   * Adds `delta` to the integer under `key` (absent counts as 0) and returns the new value. A key
   * this call creates expires after `ttlMs`; an existing key keeps its TTL.
   */
  add(key: string, delta: number, ttlMs: number): MaybePromise<number>
  /** Appends `value` to the list under `key`, sets the list's TTL to `ttlMs`, and returns its new length. */
  push(key: string, value: string, ttlMs: number): MaybePromise<number>
  /** Removes and returns the first element of the list under `key`, or `undefined` when empty. */
  shift(key: string): MaybePromise<string | undefined>
  /** The whole list under `key`, first element first (empty when absent). */
  list(key: string): MaybePromise<string[]>
  /** Releases connections and timers (optional). */
  close?(): MaybePromise<void>
}

/** Whether a store answer is a promise (the in-memory store's never are). */
export function isThenable<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}
