/**
 * The server's time helpers over the one {@link Clock} of the core.
 *
 * @module
 */

import type { Clock } from '../core/clock.js'

export { systemClock, type Clock } from '../core/clock.js'

/** Resolves `{ done: true, value }` when `promise` settles before `at` (epoch ms), else `{ done: false }`. */
export function settleBy<T>(promise: Promise<T>, at: number, clock: Clock): Promise<{ done: true; value: T } | { done: false }> {
  const wait = at - clock.now()
  if (wait <= 0) return Promise.resolve({ done: false })
  return new Promise((resolve, reject) => {
    const timer = clock.setTimeout(() => resolve({ done: false }), wait)
    promise.then(
      (value) => {
        clock.clearTimeout(timer)
        resolve({ done: true, value })
      },
      (err: unknown) => {
        clock.clearTimeout(timer)
        reject(err)
      },
    )
  })
}
