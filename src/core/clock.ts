/**
 * Time, injectable: one `Clock` for everything that reads the time or sets a timer (the deadline,
 * dedup expiry, the emulator's timestamps), so tests drive them with a fake clock instead of
 * sleeping.
 *
 * @module
 */

/** The clock the kit reads. */
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
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}
