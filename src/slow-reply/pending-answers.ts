/**
 * The per-user queue of answers waiting for the user's next message: one entry per question, in
 * the order the questions came, each `working`, `ready` (with its parts) or `failed` (with what to
 * tell the user). Lives in the shared store, so the user's next message may reach any instance.
 *
 * @module
 */
import type { ReplyMessage } from '../core/reply.js'
import type { StoreKeys } from '../store/keys.js'
import type { WxMpStore } from '../store/store.js'

/** One queued answer as stored. */
interface Job {
  /** working, ready, failed */
  s: 'w' | 'r' | 'x'
  /** When the question arrived (epoch ms). */
  at: number
  /** The parts (ready). */
  p?: ReplyMessage[]
  /** Parts delivered so far (ready). */
  n?: number
  /** What to tell the user (failed). */
  t?: string
  /** Bytes counted against the total bound. */
  b?: number
}

/** What the head of a user's queue gives. */
export type Taken =
  | { kind: 'none' }
  | { kind: 'working'; sinceMs: number }
  | { kind: 'answer'; reply: ReplyMessage; index: number; total: number }
  | { kind: 'notice'; text: string }

/** Options of {@link PendingAnswers}. */
export interface PendingAnswersOptions {
  store: WxMpStore
  keys: StoreKeys
  /** How long an answer waits to be fetched. Default 30 min. */
  ttlMs?: number
  /** Bound on one user's waiting answers, in bytes. Default 64 KiB. */
  maxBytesPerUser?: number
  /** Bound on all users' waiting answers, in bytes. Default 8 MiB. */
  maxBytesTotal?: number
  now?: () => number
}

/** What {@link PendingAnswers.fill} kept. */
export interface FillResult {
  /** Parts stored. */
  kept: number
  /** Parts dropped by the bounds (the user is told). */
  dropped: number
}

const bytesOf = (parts: readonly ReplyMessage[]): number => Buffer.byteLength(JSON.stringify(parts), 'utf8')

/** The pending-answer queues of one account. */
export class PendingAnswers {
  readonly #store: WxMpStore
  readonly #keys: StoreKeys
  readonly #now: () => number
  readonly ttlMs: number
  readonly maxBytesPerUser: number
  readonly maxBytesTotal: number
  #seq = 0

  constructor(options: PendingAnswersOptions) {
    this.#store = options.store
    this.#keys = options.keys
    this.#now = options.now ?? Date.now
    this.ttlMs = options.ttlMs ?? 30 * 60_000
    this.maxBytesPerUser = options.maxBytesPerUser ?? 64 * 1024
    this.maxBytesTotal = options.maxBytesTotal ?? 8 * 1024 * 1024
  }

  #queueKey(user: string): string {
    return this.#keys.key('queue', user)
  }

  #jobKey(user: string, id: string): string {
    return this.#keys.key('job', user, id)
  }

  /** The queue of `user`, as it stands (a synchronous store answers synchronously). */
  ids(user: string): ReturnType<WxMpStore['list']> {
    return this.#store.list(this.#queueKey(user))
  }

  /** Whether `user` was given a pending answer recently (a fetch word then only fetches). */
  async recent(user: string): Promise<boolean> {
    return (await this.#store.get(this.#keys.key('recent', user))) !== undefined
  }

  /** Opens an entry for a question whose answer is coming; returns its id. */
  async open(user: string, askedAt: number): Promise<string> {
    const id = `${askedAt.toString(36)}.${(this.#seq++).toString(36)}.${Math.random().toString(36).slice(2, 8)}`
    const job: Job = { s: 'w', at: askedAt }
    await this.#store.set(this.#jobKey(user, id), JSON.stringify(job), this.ttlMs)
    await this.#store.push(this.#queueKey(user), id, this.ttlMs)
    await this.#store.set(this.#keys.key('recent', user), '1', this.ttlMs)
    return id
  }

  /** Stores the answer of an open entry, within the bounds. */
  async fill(user: string, id: string, parts: readonly ReplyMessage[], notices: { truncated: string; dropped: string }): Promise<FillResult> {
    const key = this.#jobKey(user, id)
    if (parts.length === 0) {
      // Nothing to say after all: the entry closes and the queue moves on.
      await this.#store.set(key, JSON.stringify({ s: 'r', at: this.#now(), p: [], n: 0 } satisfies Job), this.ttlMs)
      return { kept: 0, dropped: 0 }
    }
    const current = await this.#read(key)
    const askedAt = current?.at ?? this.#now()
    // The per-user bound: what the user's other ready answers leave.
    let used = 0
    for (const other of await this.#store.list(this.#queueKey(user))) {
      if (other === id) continue
      used += (await this.#read(this.#jobKey(user, other)))?.b ?? 0
    }
    let kept = [...parts]
    let dropped = 0
    const room = this.maxBytesPerUser - used
    while (kept.length > 0 && bytesOf(kept) > room) {
      kept.pop()
      dropped++
    }
    if (dropped > 0 && kept.length > 0) {
      const last = kept.length - 1
      const part = kept[last]!
      if (part.msgType === 'text') kept[last] = { msgType: 'text', content: `${part.content}\n\n${notices.truncated}` }
    }
    const bytes = bytesOf(kept)
    const total = kept.length === 0 ? 0 : await this.#store.add(this.#keys.key('pending-bytes'), bytes, this.ttlMs)
    if (kept.length === 0 || total > this.maxBytesTotal) {
      if (kept.length > 0) await this.#store.add(this.#keys.key('pending-bytes'), -bytes, this.ttlMs)
      await this.fail(user, id, notices.dropped, askedAt)
      return { kept: 0, dropped: parts.length }
    }
    // The total's TTL follows the newest answer, so it cannot outlive what it counts by long.
    await this.#store.expire(this.#keys.key('pending-bytes'), this.ttlMs)
    const job: Job = { s: 'r', at: askedAt, p: kept, n: 0, b: bytes }
    await this.#store.set(key, JSON.stringify(job), this.ttlMs)
    await this.#refresh(user)
    return { kept: kept.length, dropped }
  }

  /** Marks an entry failed: the user is told `text` when they next write. */
  async fail(user: string, id: string, text: string, askedAt = this.#now()): Promise<void> {
    const job: Job = { s: 'x', at: askedAt, t: text }
    await this.#store.set(this.#jobKey(user, id), JSON.stringify(job), this.ttlMs)
    await this.#refresh(user)
  }

  /** Queues an answer that is ready now (e.g. the parts of a long answer after the first). */
  async add(user: string, parts: readonly ReplyMessage[], notices: { truncated: string; dropped: string }): Promise<FillResult> {
    const id = await this.open(user, this.#now())
    return this.fill(user, id, parts, notices)
  }

  /** Keeps the queue and the "recent" mark as long as its newest entry. */
  async #refresh(user: string): Promise<void> {
    await this.#store.expire(this.#queueKey(user), this.ttlMs)
    await this.#store.set(this.#keys.key('recent', user), '1', this.ttlMs)
  }

  async #read(key: string): Promise<Job | undefined> {
    const text = await this.#store.get(key)
    if (text === undefined) return undefined
    try {
      return JSON.parse(text) as Job
    } catch {
      return undefined
    }
  }

  /**
   * Takes what the head of the user's queue gives: the next part of the oldest answer, what to
   * tell about a failed one, or how long the oldest has been in the works. Answers are given in
   * the order the questions came: a later answer waits for the earlier one.
   */
  async take(user: string): Promise<Taken> {
    const queueKey = this.#queueKey(user)
    for (;;) {
      const [head] = await this.#store.list(queueKey)
      if (head === undefined) return { kind: 'none' }
      const key = this.#jobKey(user, head)
      const job = await this.#read(key)
      if (job === undefined) {
        // Expired: drop it and look at the next.
        await this.#store.shift(queueKey)
        continue
      }
      if (job.s === 'w') return { kind: 'working', sinceMs: this.#now() - job.at }
      if (job.s === 'x') {
        await this.#store.shift(queueKey)
        await this.#store.delete(key)
        return { kind: 'notice', text: job.t ?? '' }
      }
      const parts = job.p ?? []
      const index = job.n ?? 0
      const reply = parts[index]
      if (reply === undefined) {
        await this.#store.shift(queueKey)
        await this.#store.delete(key)
        continue
      }
      if (index + 1 >= parts.length) {
        await this.#store.shift(queueKey)
        await this.#store.delete(key)
        if (job.b) await this.#store.add(this.#keys.key('pending-bytes'), -job.b, this.ttlMs)
      } else {
        await this.#store.set(key, JSON.stringify({ ...job, n: index + 1 }), this.ttlMs)
      }
      return { kind: 'answer', reply, index, total: parts.length }
    }
  }
}
