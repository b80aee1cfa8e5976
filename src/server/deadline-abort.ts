/**
 * The handler's `ctx.signal`: aborted at a set time unless the handler finished first.
 *
 * @module
 */
import type { Clock } from './clock.js'

/**
 * The handler's `ctx.signal`, aborted when nobody will use the handler's answer any more (see
 * the dispatcher's `#abortAt`). The AbortController behind the signal is made on first use: most handlers never
 * read it.
 */
export class DeadlineAbort {
  readonly #clock: Clock
  readonly #deadline: number
  #timer: unknown
  #controller: AbortController | undefined
  #expired = false

  constructor(deadline: number, clock: Clock) {
    this.#clock = clock
    this.#deadline = deadline
  }

  /** Starts the timer: the handler did not answer at once. */
  arm(): void {
    if (this.#timer !== undefined) return
    this.#timer = this.#clock.setTimeout(() => {
      this.#expired = true
      this.#controller?.abort(deadlineReason())
    }, Math.max(0, this.#deadline - this.#clock.now()))
  }

  /** The signal, made on first use. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#expired) this.#controller.abort(deadlineReason())
    }
    return this.#controller.signal
  }

  /** The handler is done: the signal is never aborted from now on. */
  finish(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
  }
}

function deadlineReason(): DOMException {
  return new DOMException('WeChat was answered at the reply deadline', 'TimeoutError')
}

