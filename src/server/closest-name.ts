/**
 * "Did you mean …?": the known name nearest to a misspelt one, for the warnings about handler
 * exports and `config` keys.
 *
 * @module
 */

/** Levenshtein distance between two strings. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * The name of `known` that `name` most likely meant: one equal to it ignoring case, else the
 * nearest within `maxDistance` edits (ignoring case), else `undefined`.
 */
export function closestName(name: string, known: Iterable<string>, maxDistance = 2): string | undefined {
  const lower = name.toLowerCase()
  let best: { name: string; distance: number } | undefined
  for (const candidate of known) {
    const d = editDistance(lower, candidate.toLowerCase())
    if (d <= maxDistance && (best === undefined || d < best.distance)) best = { name: candidate, distance: d }
  }
  return best?.name
}
