/**
 * Splitting long text into messages that fit WeChat's byte budgets.
 *
 * Official reference (a passive text reply holds at most 2048 bytes):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */

/** The byte budget of one passive text reply. */
export const TEXT_REPLY_MAX_BYTES = 2048

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

/**
 * The grapheme clusters of `text`, segmented a window at a time: ICU's segmenter slows down
 * super-linearly on long strings (64 K characters took 1.6 s on Node 20, in windows a few ms).
 * The last cluster of each window is segmented again with the next window, because only the
 * end of a window can cut a cluster (the rules look backwards, never past the next character).
 */
function* graphemeClusters(text: string): Generator<string> {
  const WINDOW = 2048
  let start = 0
  while (start < text.length) {
    const end = Math.min(text.length, start + WINDOW)
    let previous: { segment: string; index: number } | undefined
    for (const { segment, index } of graphemes.segment(text.slice(start, end))) {
      if (previous !== undefined) yield previous.segment
      previous = { segment, index }
    }
    if (previous === undefined) return
    if (end === text.length || previous.index === 0) {
      // The text's last cluster, or one cluster as long as the whole window.
      yield previous.segment
      start += previous.index + previous.segment.length
    } else {
      start += previous.index
    }
  }
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** Splits one grapheme that alone exceeds the budget at code-point boundaries. */
function splitCodePoints(text: string, maxBytes: number): string[] {
  const parts: string[] = []
  let current = ''
  let bytes = 0
  for (const cp of text) {
    const size = utf8Length(cp)
    if (bytes + size > maxBytes && current !== '') {
      parts.push(current)
      current = ''
      bytes = 0
    }
    current += cp
    bytes += size
  }
  if (current !== '') parts.push(current)
  return parts
}

/**
 * Splits text into chunks of at most `maxBytes` UTF-8 bytes each, never cutting a character:
 * surrogate pairs and grapheme clusters (emoji with modifiers, flags, combining marks) stay whole;
 * only a single cluster larger than the whole budget is split, between its code points.
 *
 * A chunk prefers to end after a line break in its second half, so paragraphs stay together.
 * The chunks joined give back the input exactly; empty text gives no chunk.
 *
 * @param maxBytes the budget per chunk, at least 4 (one code point); default 2048, WeChat's
 * limit for a passive text reply.
 * @throws {RangeError} when `maxBytes` is below 4 or not an integer.
 *
 * @example
 * ```ts
 * const [first, ...rest] = splitText(answer)
 * for (const part of rest) await api.sendCustomMessage(openId, part)
 * return first
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function splitText(text: string, maxBytes: number = TEXT_REPLY_MAX_BYTES): string[] {
  if (!Number.isInteger(maxBytes) || maxBytes < 4) {
    throw new RangeError(`splitText: maxBytes must be an integer of at least 4 (one UTF-8 character), got ${maxBytes}`)
  }
  if (typeof text !== 'string') throw new TypeError('splitText: text must be a string')
  if (utf8Length(text) <= maxBytes) return text === '' ? [] : [text]

  const chunks: string[] = []
  let current: string[] = []
  let bytes = 0
  // Byte offset in `current` just after its last line break, when that is in the chunk's second half.
  let breakAt = -1

  const flush = (upTo: number): void => {
    chunks.push(current.slice(0, upTo).join(''))
    current = current.slice(upTo)
    bytes = current.reduce((n, g) => n + utf8Length(g), 0)
    breakAt = -1
  }

  for (const segment of graphemeClusters(text)) {
    const size = utf8Length(segment)
    if (size > maxBytes) {
      if (current.length > 0) flush(current.length)
      const pieces = splitCodePoints(segment, maxBytes)
      chunks.push(...pieces.slice(0, -1))
      current = [pieces.at(-1)!]
      bytes = utf8Length(current[0]!)
      continue
    }
    if (bytes + size > maxBytes) {
      flush(breakAt > 0 ? breakAt : current.length)
      if (bytes + size > maxBytes) flush(current.length)
    }
    current.push(segment)
    bytes += size
    if (segment.includes('\n') && bytes * 2 >= maxBytes) breakAt = current.length
  }
  if (current.length > 0) chunks.push(current.join(''))
  return chunks
}
