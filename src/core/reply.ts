/**
 * Passive replies (被动回复用户消息): what a handler returns, and how it becomes WeChat's XML.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import { WxMpError } from './errors.js'
import { readText } from './parse.js'
import { XmlBuilder, parseXmlDocument, type XmlElement, type XmlNode } from './xml.js'

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

/**
 * The news article limit for a reply to a push of `msgType` — the one rule {@link renderReply} and
 * the emulator's judge both apply: {@link newsArticleLimits}`.other` (8) after an event,
 * `.userMessage` (1) after anything else (user messages, and kinds not known, to be safe).
 */
export function newsArticleLimit(msgType: string | undefined): number {
  return msgType === 'event' ? newsArticleLimits.other : newsArticleLimits.userMessage
}

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

/** One element of a reply kind: the reply object's property, its XML element, whether required. */
interface ReplyField {
  readonly name: string
  readonly tag: string
  readonly required: boolean
}

/**
 * The one table of the reply kinds other than news (whose articles are a list): the element that
 * wraps the fields (`<Image><MediaId/></Image>`), and the fields in WeChat's order. Both
 * {@link renderReply} and {@link parseReply} are driven by it.
 */
const replyLayout: Record<Exclude<ReplyType, 'news'>, { wrapper?: string; fields: readonly ReplyField[] }> = {
  text: { fields: [{ name: 'content', tag: 'Content', required: true }] },
  image: { wrapper: 'Image', fields: [{ name: 'mediaId', tag: 'MediaId', required: true }] },
  voice: { wrapper: 'Voice', fields: [{ name: 'mediaId', tag: 'MediaId', required: true }] },
  video: {
    wrapper: 'Video',
    fields: [
      { name: 'mediaId', tag: 'MediaId', required: true },
      { name: 'title', tag: 'Title', required: false },
      { name: 'description', tag: 'Description', required: false },
    ],
  },
  music: {
    wrapper: 'Music',
    fields: [
      { name: 'title', tag: 'Title', required: false },
      { name: 'description', tag: 'Description', required: false },
      { name: 'musicUrl', tag: 'MusicUrl', required: false },
      { name: 'hqMusicUrl', tag: 'HQMusicUrl', required: false },
      { name: 'thumbMediaId', tag: 'ThumbMediaId', required: true },
    ],
  },
  transfer_customer_service: { wrapper: 'TransInfo', fields: [{ name: 'kfAccount', tag: 'KfAccount', required: false }] },
}

/** The fields of one news article, in WeChat's order; the list is `<Articles><item/>…</Articles>` after `<ArticleCount>`. */
const articleFields: readonly ReplyField[] = [
  { name: 'title', tag: 'Title', required: true },
  { name: 'description', tag: 'Description', required: false },
  { name: 'picUrl', tag: 'PicUrl', required: false },
  { name: 'url', tag: 'Url', required: false },
]

/** The `MsgType`s a passive reply can have, from the reply table. */
export const replyTypes: ReadonlySet<string> = new Set<ReplyType>([...(Object.keys(replyLayout) as ReplyType[]), 'news'])

/** Adds the fields of `value` to `xml`, checking each: required ones non-empty strings, optional ones strings when given. */
function addReplyFields(xml: XmlBuilder, fields: readonly ReplyField[], value: Record<string, unknown>, what: string): void {
  for (const { name, tag, required } of fields) {
    const v = value[name]
    if (required) {
      if (typeof v !== 'string' || v === '') throw invalid(`${what} ${name} must be a non-empty string.`)
    } else if (v === undefined || v === null) {
      continue
    } else if (typeof v !== 'string') {
      throw invalid(`${what} ${name} must be a string when given.`)
    }
    xml.add(tag, v)
  }
}

/**
 * Renders a reply as the XML WeChat expects, addressed back to the sender of `incoming`
 * (To/From swapped), with CreateTime in integer seconds. {@link parseReply} is its inverse.
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
 */
export function renderReply(replyValue: Reply, incoming: ReplyTarget, options: RenderOptions = {}): string {
  const r: ReplyMessage = typeof replyValue === 'string' ? { msgType: 'text', content: replyValue } : replyValue
  if (r === null || typeof r !== 'object') throw invalid('A reply must be a string or an object with msgType.')
  if (!incoming || typeof incoming.fromUserName !== 'string' || typeof incoming.toUserName !== 'string') {
    throw invalid('renderReply needs the incoming message (its toUserName and fromUserName).')
  }
  if (typeof r.msgType !== 'string' || !replyTypes.has(r.msgType)) {
    throw invalid(
      `Unknown reply msgType ${JSON.stringify((r as { msgType?: unknown }).msgType)}: use text, image, voice, video, music, news or transfer_customer_service.`,
    )
  }
  const now = options.now ?? Date.now
  const xml = new XmlBuilder()
    .add('ToUserName', incoming.fromUserName)
    .add('FromUserName', incoming.toUserName)
    .add('CreateTime', Math.floor(now() / 1000))
    .add('MsgType', r.msgType)

  if (r.msgType === 'news') {
    const articles = r.articles
    if (!Array.isArray(articles) || articles.length === 0) throw invalid('A news reply needs at least one article.')
    const limit = newsArticleLimit(incoming.msgType)
    if (articles.length > limit) {
      throw invalid(
        `A news reply to ${incoming.msgType === 'event' ? 'an event' : 'a user message'} may hold at most ${limit} article(s) (WeChat's limit), got ${articles.length}. ` +
          'Send one card, or push the others with the customer-service API.',
      )
    }
    const items = new XmlBuilder()
    articles.forEach((a, i) => {
      if (a === null || typeof a !== 'object') throw invalid(`news article ${i} must be an object.`)
      const item = new XmlBuilder()
      addReplyFields(item, articleFields, a as unknown as Record<string, unknown>, `news article ${i}`)
      items.add('item', item)
    })
    return xml.add('ArticleCount', articles.length).add('Articles', items).toDocument()
  }
  if (r.msgType === 'text' && typeof r.content !== 'string') throw invalid('A text reply needs content: a string.')
  const layout = replyLayout[r.msgType]
  const fields = r as unknown as Record<string, unknown>
  if (r.msgType === 'text') {
    xml.add('Content', r.content)
  } else if (layout.wrapper !== undefined) {
    const inner = new XmlBuilder()
    addReplyFields(inner, layout.fields, fields, `${r.msgType} reply`)
    // transfer_customer_service without an agent has no <TransInfo> at all.
    if (inner.toString() !== '' || layout.fields.some((f) => f.required)) xml.add(layout.wrapper, inner)
  }
  return xml.toDocument()
}

/**
 * A passive reply read back from its XML ({@link parseReply}): the reply object and the envelope
 * fields as written, i.e. `toUserName` is the user (the push's FromUserName) and `fromUserName`
 * the account.
 */
export interface ParsedReply {
  /** The user the reply goes to (`ToUserName`). */
  toUserName: string
  /** The account that replies (`FromUserName`). */
  fromUserName: string
  /** `CreateTime`, in seconds. */
  createTime: number
  /** The reply, as {@link renderReply} takes it (a text reply is always an object here). */
  reply: ReplyMessage
}

function malformed(message: string): WxMpError {
  return new WxMpError('MALFORMED_XML', message)
}

function readReplyFields(holder: XmlElement | undefined, fields: readonly ReplyField[], into: Record<string, unknown>, where: string): void {
  for (const { name, tag, required } of fields) {
    const value = holder === undefined ? undefined : readText(holder[tag], `${where}.${tag}`)
    if (value === undefined || (required && value === '' && name !== 'content')) {
      if (required) throw malformed(`The ${where === '' ? '' : `<${where}> of the `}reply lacks <${tag}>.`)
      continue
    }
    into[name] = value
  }
}

function childElement(node: XmlNode | XmlNode[] | undefined): XmlElement | undefined {
  const value = Array.isArray(node) ? node[0] : node
  if (value === undefined) return undefined
  if (typeof value === 'string') return value.trim() === '' ? {} : undefined
  return value
}

/**
 * Reads a plaintext passive reply (what {@link renderReply} writes, or what
 * {@link WxMpCrypto.openReply} returns): the inverse of {@link renderReply} for the seven reply
 * kinds, so `parseReply(renderReply(r, msg, { now })).reply` deep-equals `r` (a string reply comes
 * back as `{ msgType: 'text', content }`).
 *
 * It checks the form only (the elements each kind needs, `ArticleCount` equal to the number of
 * articles), not WeChat's policies (who it is addressed to, the 2048-byte text limit, the article
 * limits): the emulator's judge reports those.
 *
 * @throws {WxMpError} `MALFORMED_XML` when the text is not XML, lacks `ToUserName`,
 * `FromUserName`, an integer `CreateTime` or a known `MsgType`, or an element its kind needs;
 * `DOCTYPE_FORBIDDEN`.
 *
 * @example
 * ```ts
 * const { reply, toUserName } = parseReply(xml)
 * if (reply.msgType === 'text') console.log(toUserName, reply.content)
 * ```
 */
export function parseReply(xml: string): ParsedReply {
  const root = parseXmlDocument(xml)
  const head: Record<string, string> = {}
  for (const tag of ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType']) {
    const value = readText(root[tag], tag)
    if (value === undefined || (value === '' && (tag === 'CreateTime' || tag === 'MsgType'))) throw malformed(`The reply lacks <${tag}>.`)
    head[tag] = value
  }
  const createTime = head['CreateTime']!.trim()
  if (!/^\d{1,15}$/.test(createTime)) throw malformed(`The reply's CreateTime must be an integer number of seconds, got "${createTime.slice(0, 32)}".`)
  const msgType = head['MsgType']!
  if (!replyTypes.has(msgType)) {
    throw malformed(`Unknown reply MsgType "${msgType.slice(0, 64)}": WeChat accepts text, image, voice, video, music, news or transfer_customer_service.`)
  }
  if (msgType === 'news') {
    const items = articleItems(root)
    const count = readText(root['ArticleCount'], 'ArticleCount')?.trim()
    if (items.length > 0 && count !== String(items.length)) {
      throw malformed(`The news reply's ArticleCount is ${JSON.stringify(count ?? null)} but it holds ${items.length} <item>s.`)
    }
  }
  const reply = readReplyBody(root, msgType as ReplyType)
  return { toUserName: head['ToUserName']!, fromUserName: head['FromUserName']!, createTime: Number(createTime), reply }
}

/** The `<Articles><item>` elements of a news reply (an array, possibly empty). */
export function articleItems(root: XmlElement): XmlNode[] {
  const node = childElement(root['Articles'])?.['item']
  return node === undefined ? [] : Array.isArray(node) ? node : [node]
}

/**
 * Reads the kind-specific elements of a reply document whose `MsgType` is `msgType` (everything
 * after the header), by the same table {@link renderReply} writes with. {@link parseReply} checks
 * the header first; the emulator's judge, which reports header problems its own way, calls this
 * directly.
 *
 * @throws {WxMpError} `MALFORMED_XML` when an element the kind needs is missing or empty (a news
 * reply without articles included).
 */
export function readReplyBody(root: XmlElement, msgType: ReplyType): ReplyMessage {
  const reply: Record<string, unknown> = { msgType }
  if (msgType === 'news') {
    const items = articleItems(root)
    if (items.length === 0) throw malformed('The news reply has no <Articles><item>.')
    reply['articles'] = items.map((item, i) => {
      const article: Record<string, unknown> = {}
      const element = childElement(item)
      if (element === undefined) throw malformed(`News article ${i + 1} must hold elements.`)
      readReplyFields(element, articleFields, article, `Articles><item #${i + 1}`)
      return article
    })
  } else {
    const layout = replyLayout[msgType]
    if (layout === undefined) throw malformed(`Unknown reply MsgType ${JSON.stringify(msgType)}.`)
    const holder = layout.wrapper === undefined ? root : childElement(root[layout.wrapper])
    if (layout.wrapper !== undefined && holder === undefined && root[layout.wrapper] !== undefined) {
      throw malformed(`<${layout.wrapper}> must hold child elements.`)
    }
    readReplyFields(holder, layout.fields, reply, layout.wrapper ?? '')
  }
  return reply as unknown as ReplyMessage
}
