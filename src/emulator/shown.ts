/**
 * What the user's phone shows for a reply, as one line of text per bubble or card.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import type { ReplyMessage } from '../core/index.js'

/**
 * The system notice WeChat shows in the chat when the server failed all attempts or answered
 * something it cannot use, in the official doc's words (some client versions word it
 * "该公众号提供的服务出现故障，请稍后再试").
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export const FAILURE_NOTICE = '该公众号暂时无法提供服务，请稍后再试'

/**
 * Describes a reply as the phone shows it: the text itself; `[image media_id=…]`,
 * `[voice media_id=…]`, `[video media_id=… title]`, `[music title]`; one `[news] title` line per
 * card; `[transfer to customer service]`. `null` (no reply) shows nothing: `''`.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function describeReply(reply: ReplyMessage | null): string {
  if (reply === null) return ''
  switch (reply.msgType) {
    case 'text':
      return reply.content
    case 'image':
      return `[image media_id=${reply.mediaId}]`
    case 'voice':
      return `[voice media_id=${reply.mediaId}]`
    case 'video':
      return `[video media_id=${reply.mediaId}${reply.title ? ' ' + reply.title : ''}]`
    case 'music':
      return `[music ${reply.title || '(untitled)'}]`
    case 'news':
      return reply.articles.map((a) => `[news] ${a.title}`).join('\n')
    case 'transfer_customer_service':
      return reply.kfAccount ? `[transfer to customer service ${reply.kfAccount}]` : '[transfer to customer service]'
  }
}

/**
 * One message the user sees, in the order of {@link SendResult.messages}: when (ms after the
 * push was sent), how it came — `reply` (the passive reply to this push), `customer-service`
 * (客服, sent by the bot through the API), `notice` (WeChat's failure notice) — and what the
 * phone shows.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export interface ShownMessage {
  at: number
  via: 'reply' | 'customer-service' | 'notice'
  text: string
}
