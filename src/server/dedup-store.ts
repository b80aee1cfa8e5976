/**
 * Where the server remembers which pushes it has seen, so that WeChat's retries never run a
 * handler twice and get the same answer.
 *
 * Official reference (消息排重: MsgId for messages, FromUserName + CreateTime for events):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import type { MaybePromise } from './handlers.js'

/**
 * What the store holds for one push: still being handled, or done with its answer.
 * `reply` is the rendered plaintext reply XML, or `null` when the answer was `success`;
 * encryption happens per response, so each retry gets its own timestamp and nonce.
 */
export type DedupRecord = { state: 'pending' } | { state: 'done'; reply: string | null }

/**
 * A small async store behind the dedup. The in-memory default suits one process; a shared store
 * (Redis: `SET key pending NX PX ttl` for {@link DedupStore.claim}, `SET key value PX ttl` for
 * {@link DedupStore.complete}, `GET` for {@link DedupStore.get}) lets several instances behind a
 * load balancer agree. Methods may answer at once or with a promise: the in-memory store answers
 * at once, which lets a push whose handler also answers at once be served without a promise or a
 * timer.
 */
export interface DedupStore {
  /**
   * Atomically claims `key` for this caller: returns `undefined` when nobody had it (the caller
   * runs the handler, and the key is now `pending` for `ttlMs`), or the existing record.
   */
  claim(key: string, ttlMs: number): MaybePromise<DedupRecord | undefined>
  /** Records the answer of a claimed key, kept for `ttlMs`. */
  complete(key: string, reply: string | null, ttlMs: number): MaybePromise<void>
  /** Reads a record (used by copies that wait for another instance's answer). */
  get(key: string): MaybePromise<DedupRecord | undefined>
}

/** Options of {@link MemoryDedupStore}. */
export interface MemoryDedupStoreOptions {
  /** Hard bound on remembered pushes; the least recently used go first. Default 10 000. */
  maxEntries?: number
  /** The clock in ms (default `Date.now`), injectable for tests. */
  now?: () => number
}

const PENDING: DedupRecord = Object.freeze({ state: 'pending' })

interface Entry {
  record: DedupRecord
  expiresAt: number
}

/**
 * The default {@link DedupStore}: in memory, LRU-bounded and with TTL, so a flood of distinct
 * pushes cannot grow it without limit.
 *
 * With the default 10 000 entries and a 60 s TTL, a retry is recognised unless more than
 * 10 000 other pushes arrived in between (about 166 pushes/s sustained for a whole minute).
 */
export class MemoryDedupStore implements DedupStore {
  readonly #entries = new Map<string, Entry>()
  #order: IterableIterator<string> | undefined
  readonly #maxEntries: number
  readonly #now: () => number
  /** Entries dropped by the size bound before their TTL ran out. */
  evictedEarly = 0

  constructor(options: MemoryDedupStoreOptions = {}) {
    const max = options.maxEntries ?? 10_000
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${max}`)
    this.#maxEntries = max
    this.#now = options.now ?? Date.now
  }

  /** How many entries are held (including expired ones not yet dropped). */
  get size(): number {
    return this.#entries.size
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key)
      return undefined
    }
    // A hit is a use: move the entry to the most-recent end, so the bound drops the least recently used.
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry
  }

  #set(key: string, record: DedupRecord, ttlMs: number): void {
    this.#entries.delete(key)
    this.#entries.set(key, { record, expiresAt: this.#now() + ttlMs })
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#oldestKey()
      const entry = this.#entries.get(oldest)!
      if (entry.expiresAt > this.#now()) this.evictedEarly++
      this.#entries.delete(oldest)
    }
  }

  /**
   * The least recently used key. One iterator is kept across evictions: every key it has passed
   * was deleted (evicted, expired, or moved to the end by a use), so its next key is the oldest.
   * A fresh `keys()` per eviction would walk over all the holes the deletions left at the front
   * of the Map's table, which costs more than the rest of a push's dedup.
   */
  #oldestKey(): string {
    let next = this.#order?.next()
    if (next === undefined || next.done === true) {
      this.#order = this.#entries.keys()
      next = this.#order.next()
    }
    return next.value as string
  }

  claim(key: string, ttlMs: number): DedupRecord | undefined {
    const entry = this.#live(key)
    if (entry !== undefined) return entry.record
    this.#set(key, PENDING, ttlMs)
    return undefined
  }

  complete(key: string, reply: string | null, ttlMs: number): void {
    this.#set(key, { state: 'done', reply }, ttlMs)
  }

  get(key: string): DedupRecord | undefined {
    return this.#live(key)?.record
  }
}
