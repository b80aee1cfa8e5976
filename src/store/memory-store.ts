/**
 * The embedded default {@link WxMpStore}: state in this process's memory, bounded in bytes, with
 * TTLs. Right for one process; several instances or a cloud function need a shared store (Redis).
 *
 * @module
 */
import type { WxMpStore } from './store.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * Bound on the bytes held (keys and values, counted as UTF-16 plus a fixed overhead per entry).
   * Past it the least recently used entries go first, whatever their TTL. Default 16 MiB.
   */
  maxBytes?: number
  /** The clock in epoch ms (default `Date.now`), injectable for tests. */
  now?: () => number
}

interface Entry {
  value: string | string[]
  expiresAt: number
  bytes: number
}

/** A rough size of what an entry keeps alive: two bytes a character and a fixed overhead. */
const ENTRY_OVERHEAD = 96
const ITEM_OVERHEAD = 32
/** How often expired entries are swept out, at the next write (no timer keeps the process awake). */
const SWEEP_EVERY_MS = 5_000

function sizeOf(key: string, value: string | string[]): number {
  if (typeof value === 'string') return ENTRY_OVERHEAD + 2 * (key.length + value.length)
  let bytes = ENTRY_OVERHEAD + 2 * key.length
  for (const item of value) bytes += ITEM_OVERHEAD + 2 * item.length
  return bytes
}

/**
 * The in-memory store. Expired entries are dropped when read and swept out at most every 5 s on
 * a write, so memory follows the TTLs even for keys never read again; and the byte bound holds at
 * every write, so no flood of pushes (or of large replies) grows it past `maxBytes`.
 *
 * Answers every call at once (never a promise).
 */
export class MemoryStore implements WxMpStore {
  readonly #entries = new Map<string, Entry>()
  readonly #maxBytes: number
  readonly #now: () => number
  #bytes = 0
  #nextSweep = 0
  #order: IterableIterator<string> | undefined
  /** Entries dropped by the byte bound before their TTL ran out (a sign the bound is too small). */
  evicted = 0

  constructor(options: MemoryStoreOptions = {}) {
    const max = options.maxBytes ?? 16 * 1024 * 1024
    if (!Number.isInteger(max) || max < 4096) throw new RangeError(`MemoryStore maxBytes must be an integer of at least 4096, got ${max}`)
    this.#maxBytes = max
    this.#now = options.now ?? Date.now
  }

  /** Entries held (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size
  }

  /** Bytes held, as counted against `maxBytes`. */
  get bytes(): number {
    return this.#bytes
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= this.#now()) {
      this.#drop(key, entry)
      return undefined
    }
    // A read is a use: move the entry to the most recent end, so the bound drops the least recently used.
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry
  }

  #drop(key: string, entry: Entry): void {
    this.#entries.delete(key)
    this.#bytes -= entry.bytes
  }

  #store(key: string, value: string | string[], expiresAt: number): void {
    const old = this.#entries.get(key)
    if (old !== undefined) this.#drop(key, old)
    const entry: Entry = { value, expiresAt, bytes: sizeOf(key, value) }
    this.#entries.set(key, entry)
    this.#bytes += entry.bytes
    this.#bound()
  }

  /** Sweeps expired entries now and then, and evicts the least recently used past the byte bound. */
  #bound(): void {
    const now = this.#now()
    if (now >= this.#nextSweep) {
      this.#nextSweep = now + SWEEP_EVERY_MS
      for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#drop(key, entry)
      this.#order = undefined
    }
    while (this.#bytes > this.#maxBytes && this.#entries.size > 1) {
      const oldest = this.#oldestKey()
      const entry = this.#entries.get(oldest)
      if (entry === undefined) continue
      if (entry.expiresAt > now) this.evicted++
      this.#drop(oldest, entry)
    }
  }

  /**
   * The least recently used key. One iterator is kept across evictions: every key it has passed
   * was deleted or moved to the end, so its next key is the oldest. A fresh `keys()` per eviction
   * would walk all the holes the deletions left at the front of the Map's table.
   */
  #oldestKey(): string {
    let next = this.#order?.next()
    if (next === undefined || next.done === true) {
      this.#order = this.#entries.keys()
      next = this.#order.next()
    }
    return next.value as string
  }

  get(key: string): string | undefined {
    const value = this.#live(key)?.value
    return typeof value === 'string' ? value : undefined
  }

  set(key: string, value: string, ttlMs: number): void {
    this.#store(key, value, this.#now() + ttlMs)
  }

  claim(key: string, value: string, ttlMs: number): string | undefined {
    const entry = this.#live(key)
    if (entry !== undefined) return typeof entry.value === 'string' ? entry.value : ''
    this.#store(key, value, this.#now() + ttlMs)
    return undefined
  }

  replace(key: string, expected: string, value: string, ttlMs: number): boolean {
    const entry = this.#live(key)
    if (entry === undefined || entry.value !== expected) return false
    this.#store(key, value, this.#now() + ttlMs)
    return true
  }

  delete(key: string, ifValue?: string): boolean {
    const entry = this.#live(key)
    if (entry === undefined || (ifValue !== undefined && entry.value !== ifValue)) return false
    this.#drop(key, entry)
    return true
  }

  expire(key: string, ttlMs: number, ifValue?: string): boolean {
    const entry = this.#live(key)
    if (entry === undefined || (ifValue !== undefined && entry.value !== ifValue)) return false
    entry.expiresAt = this.#now() + ttlMs
    return true
  }

  add(key: string, delta: number, ttlMs: number): number {
    const entry = this.#live(key)
    if (entry === undefined) {
      this.#store(key, String(delta), this.#now() + ttlMs)
      return delta
    }
    const current = typeof entry.value === 'string' ? Number.parseInt(entry.value, 10) : Number.NaN
    if (!Number.isFinite(current)) throw new TypeError(`store key ${key} does not hold an integer`)
    const next = current + delta
    this.#store(key, String(next), entry.expiresAt)
    return next
  }

  push(key: string, value: string, ttlMs: number): number {
    const entry = this.#live(key)
    const list = entry !== undefined && Array.isArray(entry.value) ? [...entry.value, value] : [value]
    this.#store(key, list, this.#now() + ttlMs)
    return list.length
  }

  shift(key: string): string | undefined {
    const entry = this.#live(key)
    if (entry === undefined || !Array.isArray(entry.value)) return undefined
    const [first, ...rest] = entry.value
    if (rest.length === 0) this.#drop(key, entry)
    else this.#store(key, rest, entry.expiresAt)
    return first
  }

  list(key: string): string[] {
    const value = this.#live(key)?.value
    return Array.isArray(value) ? [...value] : []
  }
}
