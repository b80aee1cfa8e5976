/**
 * Long text answers become parts that each fit one WeChat message, cut at paragraph or sentence
 * ends and never inside a character, each but the last marked with its number.
 *
 * Official reference (a passive text reply holds at most 2048 bytes):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import type { ReplyMessage } from '../core/reply.js'
import { splitText, TEXT_REPLY_MAX_BYTES } from '../core/split-text.js'

/**
 * The budget of one part's own text: WeChat's 2048 bytes less room for the part marker and for
 * the note the kit may append when it delivers the part (both under 200 bytes).
 */
export const PART_BUDGET_BYTES = TEXT_REPLY_MAX_BYTES - 256

/** Where the parts after the first go: they are marked differently. */
export type PartChannel = 'next-message' | 'kefu'

/** Whether a reply is a text over the budget of one message. */
export function isLongText(reply: ReplyMessage | null): boolean {
  return reply?.msgType === 'text' && Buffer.byteLength(reply.content, 'utf8') > TEXT_REPLY_MAX_BYTES
}

/**
 * Splits a reply into the messages that carry it: a long text becomes several, anything else
 * stays one. A text over `maxBytes` is cut there first and ends with `truncatedNote`: nobody reads
 * a megabyte in 2 KB messages, and keeping it would only fill memory.
 */
export function answerParts(reply: ReplyMessage, maxBytes = 64 * 1024, truncatedNote = ''): ReplyMessage[] {
  if (!isLongText(reply)) return [reply]
  let text = (reply as { content: string }).content
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    // Cut at a byte offset; a character cut in two decodes to U+FFFD, which is dropped.
    text = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8').replace(/\uFFFD+$/, '')
    if (truncatedNote !== '') text = `${text}\n\n${truncatedNote}`
  }
  return splitText(text, PART_BUDGET_BYTES).map((content) => ({ msgType: 'text', content }))
}

/** Appends `suffix` to a text part on a line of its own; other kinds stay as they are. */
export function withNote(part: ReplyMessage, note: string): ReplyMessage {
  if (part.msgType !== 'text' || note === '') return part
  return { msgType: 'text', content: `${part.content}\n\n${note}` }
}
