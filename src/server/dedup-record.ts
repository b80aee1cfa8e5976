/**
 * What the store keeps for one push, as one string: still being handled (`p|firstAt|owner`), given
 * over to a fallback because no attempt could carry the answer (`f|firstAt|owner|how`), or done
 * with its reply (`d|<reply XML>`, or `d` for `success`). Compare-and-set between these states is
 * how instances agree who answers.
 *
 * @module
 */

/** Where an answer goes when no attempt of WeChat's could carry it. */
export type Fallback = 'queue' | 'kefu' | 'late'

/** The state a dedup record holds. */
export type DedupState =
  | { state: 'pending'; firstAt: number }
  | { state: 'fallback'; firstAt: number; how: Fallback }
  | { state: 'done'; reply: string | null }

const PENDING = 'p'
const FALLBACK = 'f'
const DONE = 'd'

/** The record of a push claimed at `firstAt` by `owner` (an instance id). */
export function encodePending(firstAt: number, owner: string): string {
  return [PENDING, firstAt, owner].join('|')
}

/** The record of a push handed over to a fallback. */
export function encodeFallback(firstAt: number, owner: string, how: Fallback): string {
  return [FALLBACK, firstAt, owner, how].join('|')
}

/** The record of a push answered with `xml` (`null`: success). */
export function encodeDone(xml: string | null): string {
  return xml === null ? DONE : `${DONE}|${xml}`
}

/** Reads a record; `undefined` for anything else. */
export function decodeRecord(value: string): DedupState | undefined {
  const tag = value[0]
  if (tag === DONE) return { state: 'done', reply: value.length > 1 ? value.slice(2) : null }
  const [, at, , how] = value.split('|')
  const firstAt = Number(at)
  if (tag === PENDING) return { state: 'pending', firstAt }
  if (tag === FALLBACK && (how === 'queue' || how === 'kefu' || how === 'late')) return { state: 'fallback', firstAt, how }
  return undefined
}
