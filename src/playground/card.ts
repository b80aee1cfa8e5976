/**
 * What one bubble of the playground's phone pane shows: a passive reply or a customer-service
 * (客服) message reduced to the few shapes the WeChat app draws — a text bubble, an image, voice
 * or video placeholder with its MediaId, a music card, news cards, a transfer notice.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 * - https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 *
 * @module
 */
import type { ReplyMessage } from '../core/reply.js'

/** One news article as a card shows it. */
export interface CardArticle {
  title: string
  description?: string
  url?: string
}

/** A bubble's content, as the page draws it. */
export type Card =
  | { kind: 'text'; text: string }
  | { kind: 'image' | 'voice'; mediaId: string }
  | { kind: 'video'; mediaId: string; title?: string; description?: string }
  | { kind: 'music'; title?: string; description?: string; musicUrl?: string }
  | { kind: 'news'; articles: CardArticle[] }
  | { kind: 'transfer'; kfAccount?: string }
  | { kind: 'other'; text: string }

function optional<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  return typeof value === 'string' && value !== '' ? ({ [key]: value } as Record<K, string>) : {}
}

/** The card of a passive reply. */
export function cardOfReply(reply: ReplyMessage): Card {
  switch (reply.msgType) {
    case 'text':
      return { kind: 'text', text: reply.content }
    case 'image':
    case 'voice':
      return { kind: reply.msgType, mediaId: reply.mediaId }
    case 'video':
      return { kind: 'video', mediaId: reply.mediaId, ...optional('title', reply.title), ...optional('description', reply.description) }
    case 'music':
      return { kind: 'music', ...optional('title', reply.title), ...optional('description', reply.description), ...optional('musicUrl', reply.musicUrl) }
    case 'news':
      return {
        kind: 'news',
        articles: reply.articles.map((a) => ({ title: a.title, ...optional('description', a.description), ...optional('url', a.url) })),
      }
    case 'transfer_customer_service':
      return { kind: 'transfer', ...optional('kfAccount', reply.kfAccount) }
  }
}

function field(body: Record<string, unknown>, part: string): Record<string, unknown> {
  const value = body[part]
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
}

/**
 * The card of a customer-service message, from the JSON body the bot posted to
 * `message/custom/send` (`{ touser, msgtype, text: { content } }`, …); `shown` is the mock API's
 * own one-line description, used for kinds the page has no card for.
 */
export function cardOfCustomMessage(body: Record<string, unknown>, shown: string): Card {
  const type = body['msgtype']
  const part = typeof type === 'string' ? field(body, type) : {}
  const str = (value: unknown): string => (typeof value === 'string' ? value : '')
  switch (type) {
    case 'text':
      return { kind: 'text', text: str(part['content']) }
    case 'image':
    case 'voice':
      return { kind: type, mediaId: str(part['media_id']) }
    case 'video':
      return { kind: 'video', mediaId: str(part['media_id']), ...optional('title', part['title']), ...optional('description', part['description']) }
    case 'music':
      return { kind: 'music', ...optional('title', part['title']), ...optional('description', part['description']), ...optional('musicUrl', part['musicurl']) }
    case 'news': {
      const articles = Array.isArray(part['articles']) ? (part['articles'] as Array<Record<string, unknown>>) : []
      return {
        kind: 'news',
        articles: articles.map((a) => ({ title: str(a['title']), ...optional('description', a['description']), ...optional('url', a['url']) })),
      }
    }
    default:
      return { kind: 'other', text: shown }
  }
}
