/**
 * Load generation with autocannon: each request is the next pre-built push, so every MsgId is
 * sent once.
 */
import autocannon from 'autocannon'
import type { Push } from './pushes.js'

/** A pool of pushes handed out in order, across all connections. */
export class PushPool {
  #next = 0
  constructor(readonly pushes: readonly Push[]) {}

  /** How many have been handed out. */
  get used(): number {
    return this.#next
  }

  take(): Push {
    if (this.#next >= this.pushes.length) throw new Error(`push pool of ${this.pushes.length} exhausted: size it above the request count`)
    return this.pushes[this.#next++]!
  }
}

export interface LoadOptions {
  url: string
  connections: number
  amount: number
}

/** Sends `amount` requests from `pool` and returns autocannon's result. */
export async function load(pool: PushPool, options: LoadOptions): Promise<autocannon.Result> {
  return autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    amount: options.amount,
    timeout: 10,
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const push = pool.take()
          return { ...request, path: push.path, body: push.body }
        },
      },
    ],
  })
}
