/**
 * Customer-service messages (客服消息): the typed message union and its mapping to the official JSON
 * body of `POST /cgi-bin/message/custom/send`.
 *
 * This is how an answer that takes longer than WeChat's 5-second window reaches the user: reply
 * `success` (or nothing) to the push, then send the answer here. Messages use the camelCase,
 * `msgType`-tagged shape of this kit's passive replies; {@link buildCustomMessageBody} maps them
 * field by field (`hqMusicUrl` → `hqmusicurl`, `thumbMediaId` → `thumb_media_id`…).
 *
 * Limits the docs state: messages can be sent within 48 hours of the user's last message (errcode
 * 45015 after that), 5 per user message; `news` carries exactly 1 article (45008 beyond).
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 *
 * @module
 */
import { WxMpError } from '../core/errors.js'

/** Text. `content` may contain `<a href="…">` links and mini-program links, as documented. */
export interface CustomTextMessage {
  msgType: 'text'
  content: string
}
/** An image uploaded with `media.uploadTemp('image', …)`. */
export interface CustomImageMessage {
  msgType: 'image'
  mediaId: string
}
/** A voice message uploaded with `media.uploadTemp('voice', …)`. */
export interface CustomVoiceMessage {
  msgType: 'voice'
  mediaId: string
}
/** A video; `thumbMediaId` is a `thumb` upload. */
export interface CustomVideoMessage {
  msgType: 'video'
  mediaId: string
  thumbMediaId?: string
  title?: string
  description?: string
}
/** Music; `thumbMediaId` is a `thumb` upload. */
export interface CustomMusicMessage {
  msgType: 'music'
  title?: string
  description?: string
  musicUrl: string
  hqMusicUrl: string
  thumbMediaId: string
}
/** One article of a {@link CustomNewsMessage}. */
export interface CustomNewsArticle {
  title: string
  description?: string
  url?: string
  picUrl?: string
}
/** A link card (图文消息, opens `url`). WeChat accepts exactly one article. */
export interface CustomNewsMessage {
  msgType: 'news'
  articles: [CustomNewsArticle]
}
/** An article from the account's material library, by `media_id` (图文消息, opens the article page). */
export interface CustomMpNewsMessage {
  msgType: 'mpnews'
  mediaId: string
}
/** A published article, by the `article_id` of the publishing APIs (发布能力). */
export interface CustomMpNewsArticleMessage {
  msgType: 'mpnewsarticle'
  articleId: string
}
/** One choice of a {@link CustomMsgMenuMessage}; tapping it sends `content` back with `bizmsgmenuid = id`. */
export interface CustomMsgMenuItem {
  id: string
  content: string
}
/** A menu message (菜单消息): text above, tappable choices, text below. */
export interface CustomMsgMenuMessage {
  msgType: 'msgmenu'
  headContent: string
  list: CustomMsgMenuItem[]
  tailContent: string
}
/** A mini-program card; the mini program must be linked to the account. */
export interface CustomMiniProgramPageMessage {
  msgType: 'miniprogrampage'
  title: string
  appId: string
  pagePath: string
  thumbMediaId: string
}

/**
 * Every customer-service message type. A plain `string` passed to `sendCustomMessage` means text.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export type CustomMessage =
  | CustomTextMessage
  | CustomImageMessage
  | CustomVoiceMessage
  | CustomVideoMessage
  | CustomMusicMessage
  | CustomNewsMessage
  | CustomMpNewsMessage
  | CustomMpNewsArticleMessage
  | CustomMsgMenuMessage
  | CustomMiniProgramPageMessage

/** The `msgType` tags of {@link CustomMessage}. */
export type CustomMessageType = CustomMessage['msgType']

/** Options of `sendCustomMessage`. */
export interface SendCustomMessageOptions {
  /** Send as this customer-service account (`customservice.kf_account`, e.g. `test1@kftest`). */
  kfAccount?: string
}

/** The official JSON body of `POST /cgi-bin/message/custom/send`. */
export type CustomMessageBody = { touser: string; msgtype: CustomMessageType } & Record<string, unknown>

function invalid(message: string): WxMpError {
  return new WxMpError('INVALID_REPLY', `wx-mp-svr: invalid customer-service message: ${message}`)
}

function str(value: unknown, field: string, { optional = false } = {}): string | undefined {
  if (value === undefined && optional) return undefined
  if (typeof value !== 'string' || value === '') {
    throw invalid(`${field} must be a non-empty string${optional ? ' when given' : ''}`)
  }
  return value
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined))
}

/**
 * Maps `message` to the official JSON body for `openId`, validating it first. Throws a core
 * `WxMpError` with code `INVALID_REPLY` (before any network call) for an empty openId, an unknown
 * `msgType`, a missing field, or a news message without exactly one article.
 *
 * @example
 * ```ts
 * buildCustomMessageBody('oUser', { msgType: 'image', mediaId: 'MEDIA' })
 * // { touser: 'oUser', msgtype: 'image', image: { media_id: 'MEDIA' } }
 * ```
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export function buildCustomMessageBody(
  openId: string,
  message: string | CustomMessage,
  options: SendCustomMessageOptions = {},
): CustomMessageBody {
  const touser = str(openId, 'openId') as string
  const m: CustomMessage = typeof message === 'string' ? { msgType: 'text', content: message } : message
  if (typeof m !== 'object' || m === null) throw invalid('expected a string or an object with msgType')
  let payload: Record<string, unknown>
  switch (m.msgType) {
    case 'text':
      payload = { content: str(m.content, 'text content') }
      break
    case 'image':
    case 'voice':
    case 'mpnews':
      payload = { media_id: str(m.mediaId, `${m.msgType} mediaId`) }
      break
    case 'mpnewsarticle':
      payload = { article_id: str(m.articleId, 'mpnewsarticle articleId') }
      break
    case 'video':
      payload = compact({
        media_id: str(m.mediaId, 'video mediaId'),
        thumb_media_id: str(m.thumbMediaId, 'video thumbMediaId', { optional: true }),
        title: m.title,
        description: m.description,
      })
      break
    case 'music':
      payload = compact({
        title: m.title,
        description: m.description,
        musicurl: str(m.musicUrl, 'music musicUrl'),
        hqmusicurl: str(m.hqMusicUrl, 'music hqMusicUrl'),
        thumb_media_id: str(m.thumbMediaId, 'music thumbMediaId'),
      })
      break
    case 'news': {
      const articles: unknown = m.articles
      if (!Array.isArray(articles) || articles.length !== 1) {
        throw invalid(
          `news takes exactly 1 article (got ${Array.isArray(articles) ? articles.length : 'none'}); WeChat answers 45008 otherwise. Send several messages, or use mpnews.`,
        )
      }
      const a = articles[0] as CustomNewsArticle
      payload = {
        articles: [
          compact({ title: str(a.title, 'news article title'), description: a.description, url: a.url, picurl: a.picUrl }),
        ],
      }
      break
    }
    case 'msgmenu': {
      if (!Array.isArray(m.list) || m.list.length === 0) throw invalid('msgmenu list must have at least one item')
      payload = {
        head_content: typeof m.headContent === 'string' ? m.headContent : '',
        list: m.list.map((item, i) => ({ id: str(item?.id, `msgmenu list[${i}].id`), content: str(item?.content, `msgmenu list[${i}].content`) })),
        tail_content: typeof m.tailContent === 'string' ? m.tailContent : '',
      }
      break
    }
    case 'miniprogrampage':
      payload = {
        title: str(m.title, 'miniprogrampage title'),
        appid: str(m.appId, 'miniprogrampage appId'),
        pagepath: str(m.pagePath, 'miniprogrampage pagePath'),
        thumb_media_id: str(m.thumbMediaId, 'miniprogrampage thumbMediaId'),
      }
      break
    default: {
      const unknownType: unknown = (m as { msgType?: unknown }).msgType
      throw invalid(
        `unknown msgType ${JSON.stringify(unknownType)}; expected one of text, image, voice, video, music, news, mpnews, mpnewsarticle, msgmenu, miniprogrampage`,
      )
    }
  }
  const body: CustomMessageBody = { touser, msgtype: m.msgType, [m.msgType]: payload }
  if (options.kfAccount !== undefined) {
    body['customservice'] = { kf_account: str(options.kfAccount, 'kfAccount') }
  }
  return body
}
