/**
 * Time, injectable: the deadline and the dedup TTL read it, so tests drive them with a fake clock
 * instead of sleeping.
 *
 * @module
 */

/** The clock the server reads. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

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
