/**
 * Counts the attempts the kit holds open per account over a sliding 5 minutes. WeChat counts each
 * held attempt as a timeout in its own monitoring: it alarms, and after many failures it stops
 * pushing to the URL for a minute. Above the threshold, `auto` stops holding.
 *
 * @module
 */
import type { StoreKeys } from '../store/keys.js'
import type { WxMpStore } from '../store/store.js'

const MINUTE = 60_000
const WINDOW_MINUTES = 5

/** The held-attempt counter of one account, in one-minute buckets in the shared store. */
export class HeldAlarm {
  readonly #store: WxMpStore
  readonly #keys: StoreKeys
  readonly threshold: number

  constructor(options: { store: WxMpStore; keys: StoreKeys; threshold?: number }) {
    this.#store = options.store
    this.#keys = options.keys
    this.threshold = options.threshold ?? 20
  }

  /** Counts one held attempt at `now`. */
  async note(now: number): Promise<void> {
    await this.#store.add(this.#keys.key('alarm', Math.floor(now / MINUTE)), 1, (WINDOW_MINUTES + 1) * MINUTE)
  }

  /** Held attempts within the last 5 minutes. */
  async count(now: number): Promise<number> {
    const minute = Math.floor(now / MINUTE)
    let total = 0
    for (let m = minute - WINDOW_MINUTES + 1; m <= minute; m++) {
      total += Number.parseInt((await this.#store.get(this.#keys.key('alarm', m))) ?? '0', 10) || 0
    }
    return total
  }

  /** Whether holding now would go over the threshold. */
  async tripped(now: number): Promise<boolean> {
    return (await this.count(now)) >= this.threshold
  }
}
