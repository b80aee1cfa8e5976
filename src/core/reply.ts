/**
 * Passive replies (被动回复用户消息): what a handler returns, and how it becomes WeChat's XML.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import { WxMpError } from './errors.js'
import { XmlBuilder } from './xml.js'

/** A text reply. A plain `string` returned from a handler means the same. */
export interface TextReply {
  msgType: 'text'
  content: string
}
/** An image reply; `mediaId` from the media upload API. */
export interface ImageReply {
  msgType: 'image'
  mediaId: string
}
/** A voice reply; `mediaId` from the media upload API. */
export interface VoiceReply {
  msgType: 'voice'
  mediaId: string
}
/** A video reply; `mediaId` from the media upload API. */
export interface VideoReply {
  msgType: 'video'
  mediaId: string
  title?: string
  description?: string
}
/** A music reply; `thumbMediaId` is required by WeChat. */
export interface MusicReply {
  msgType: 'music'
  thumbMediaId: string
  title?: string
  description?: string
  musicUrl?: string
  /** High-quality link, preferred on Wi-Fi. */
  hqMusicUrl?: string
}
/** One card of a news (图文) reply. */
export interface Article {
  title: string
  description?: string
  /** Image link; JPG or PNG, 360×200 for the large card, 200×200 for the small ones. */
  picUrl?: string
  /** Where tapping the card leads. */
  url?: string
}
/** A news (图文) reply: 1 article when answering a user message, up to 8 for events. */
export interface NewsReply {
  msgType: 'news'
  articles: Article[]
}
/** Hands the conversation to the customer-service (客服) system, optionally to one agent. */
export interface TransferCustomerServiceReply {
  msgType: 'transfer_customer_service'
  /** `account@gh_id` of the agent; absent lets WeChat pick any online agent. */
  kfAccount?: string
}

/** A reply object: discriminated by `msgType`. */
export type ReplyMessage =
  | TextReply
  | ImageReply
  | VoiceReply
  | VideoReply
  | MusicReply
  | NewsReply
  | TransferCustomerServiceReply

/** What a handler may return: a string (text), a reply object, or nothing (`success`). */
export type Reply = string | ReplyMessage

/** The `MsgType` values a passive reply can have. */
export type ReplyType = ReplyMessage['msgType']

/**
 * Small builders for replies, so handlers read like what they send.
 *
 * @example
 * ```ts
 * import { reply } from 'wx-mp-svr'
 * return reply.news([{ title: 'Docs', url: 'https://example.com' }])
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export const reply = {
  text: (content: string): TextReply => ({ msgType: 'text', content }),
  image: (mediaId: string): ImageReply => ({ msgType: 'image', mediaId }),
  voice: (mediaId: string): VoiceReply => ({ msgType: 'voice', mediaId }),
  video: (mediaId: string, info: { title?: string; description?: string } = {}): VideoReply => ({
    msgType: 'video',
    mediaId,
    ...info,
  }),
  music: (music: Omit<MusicReply, 'msgType'>): MusicReply => ({ msgType: 'music', ...music }),
  news: (articles: Article[]): NewsReply => ({ msgType: 'news', articles }),
  transferCustomerService: (kfAccount?: string): TransferCustomerServiceReply =>
    kfAccount === undefined ? { msgType: 'transfer_customer_service' } : { msgType: 'transfer_customer_service', kfAccount },
} as const

/**
 * How many articles a news reply may hold. Official doc: when the user sent a text, image, voice,
 * video, news or location message, 1; in every other case (events), up to 8.
 */
export const newsArticleLimits = { userMessage: 1, other: 8 } as const

/** What {@link renderReply} needs of the incoming push. */
export interface ReplyTarget {
  toUserName: string
  fromUserName: string
  /** Decides the news article limit; absent means the stricter user-message limit. */
  msgType?: string
}

/** Options of {@link renderReply}. */
export interface RenderOptions {
  /** The clock, in milliseconds (default `Date.now`); CreateTime is written in whole seconds. */
  now?: () => number
}

function invalid(message: string): WxMpError {
  return new WxMpError('INVALID_REPLY', message)
}

function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`${what} must be a non-empty string.`)
  return value
}

function optionalText(value: unknown, what: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw invalid(`${what} must be a string when given.`)
  return value
}

/**
 * Renders a reply as the XML WeChat expects, addressed back to the sender of `incoming`
 * (To/From swapped), with CreateTime in integer seconds.
 *
 * Every text value is CDATA-escaped (`]]>` is split) and stripped of characters XML 1.0 forbids;
 * all other characters are kept exactly, nothing is trimmed.
 *
 * @throws {WxMpError} `INVALID_REPLY` for an unknown `msgType`, a missing field, or a news reply
 * over its article limit (1 when answering a user message, 8 for events) or with none.
 *
 * @example
 * ```ts
 * renderReply('hello', msg)                                  // text
 * renderReply({ msgType: 'image', mediaId: 'MEDIA_ID' }, msg) // image
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function renderReply(replyValue: Reply, incoming: ReplyTarget, options: RenderOptions = {}): string {
  const r: ReplyMessage = typeof replyValue === 'string' ? { msgType: 'text', content: replyValue } : replyValue
  if (r === null || typeof r !== 'object') throw invalid('A reply must be a string or an object with msgType.')
  if (!incoming || typeof incoming.fromUserName !== 'string' || typeof incoming.toUserName !== 'string') {
    throw invalid('renderReply needs the incoming message (its toUserName and fromUserName).')
  }
  const now = options.now ?? Date.now
  const xml = new XmlBuilder()
    .add('ToUserName', incoming.fromUserName)
    .add('FromUserName', incoming.toUserName)
    .add('CreateTime', Math.floor(now() / 1000))
    .add('MsgType', r.msgType)

  switch (r.msgType) {
    case 'text':
      if (typeof r.content !== 'string') throw invalid('A text reply needs content: a string.')
      xml.add('Content', r.content)
      break
    case 'image':
      xml.add('Image', new XmlBuilder().add('MediaId', requireText(r.mediaId, 'image reply mediaId')))
      break
    case 'voice':
      xml.add('Voice', new XmlBuilder().add('MediaId', requireText(r.mediaId, 'voice reply mediaId')))
      break
    case 'video':
      xml.add(
        'Video',
        new XmlBuilder()
          .add('MediaId', requireText(r.mediaId, 'video reply mediaId'))
          .add('Title', optionalText(r.title, 'video reply title'))
          .add('Description', optionalText(r.description, 'video reply description')),
      )
      break
    case 'music':
      xml.add(
        'Music',
        new XmlBuilder()
          .add('Title', optionalText(r.title, 'music reply title'))
          .add('Description', optionalText(r.description, 'music reply description'))
          .add('MusicUrl', optionalText(r.musicUrl, 'music reply musicUrl'))
          .add('HQMusicUrl', optionalText(r.hqMusicUrl, 'music reply hqMusicUrl'))
          .add('ThumbMediaId', requireText(r.thumbMediaId, 'music reply thumbMediaId')),
      )
      break
    case 'news': {
      const articles = r.articles
      if (!Array.isArray(articles) || articles.length === 0) throw invalid('A news reply needs at least one article.')
      // Events allow 8; user messages (and kinds we do not know, to be safe) allow 1.
      const limit = incoming.msgType === 'event' ? newsArticleLimits.other : newsArticleLimits.userMessage
      if (articles.length > limit) {
        throw invalid(
          `A news reply to ${incoming.msgType === 'event' ? 'an event' : 'a user message'} may hold at most ${limit} article(s) (WeChat's limit), got ${articles.length}. ` +
            'Send one card, or push the others with the customer-service API.',
        )
      }
      const items = new XmlBuilder()
      articles.forEach((a, i) => {
        if (a === null || typeof a !== 'object') throw invalid(`news article ${i} must be an object.`)
        items.add(
          'item',
          new XmlBuilder()
            .add('Title', requireText(a.title, `news article ${i} title`))
            .add('Description', optionalText(a.description, `news article ${i} description`))
            .add('PicUrl', optionalText(a.picUrl, `news article ${i} picUrl`))
            .add('Url', optionalText(a.url, `news article ${i} url`)),
        )
      })
      xml.add('ArticleCount', articles.length).add('Articles', items)
      break
    }
    case 'transfer_customer_service': {
      const kfAccount = optionalText(r.kfAccount, 'transfer_customer_service kfAccount')
      if (kfAccount !== undefined) xml.add('TransInfo', new XmlBuilder().add('KfAccount', kfAccount))
      break
    }
    default:
      throw invalid(
        `Unknown reply msgType ${JSON.stringify((r as { msgType?: unknown }).msgType)}: use text, image, voice, video, music, news or transfer_customer_service.`,
      )
  }
  return xml.toDocument()
}
