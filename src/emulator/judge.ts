/**
 * The judge: reads an HTTP 200 answer to a push the way WeChat's server does and decides whether
 * the user gets a reply, nothing, or the failure notice, naming every problem on the way.
 *
 * Order of checks, as WeChat reads an answer:
 * 1. `success` or an empty body → no reply (the user sees nothing; WeChat does not retry).
 * 2. Well-formed XML with an `<xml>` root (JSON, HTML, a bare string → failure).
 * 3. Compat/safe mode: an `<Encrypt>` envelope whose MsgSignature is
 *    `sha1(sort(token, TimeStamp, Nonce, Encrypt))` and which decrypts, for this appId.
 *    Safe mode requires encryption; compat mode also accepts a plaintext reply; plain mode
 *    cannot read an encrypted one.
 * 4. ToUserName/FromUserName swapped relative to the push, CreateTime in integer seconds,
 *    a known MsgType with the elements it needs, text within 2048 bytes, news article limits.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 *
 * @module
 */
import { XMLValidator } from 'fast-xml-parser'
import {
  TEXT_REPLY_MAX_BYTES,
  isWxMpError,
  newsArticleLimits,
  parseXmlDocument,
  type Article,
  type ReplyMessage,
  type WxMpCrypto,
  type XmlElement,
  type XmlNode,
} from '../core/index.js'
import type { EmulatorMode } from './envelope.js'
import { problem, type Problem } from './problems.js'
import type { BuiltPush } from './push.js'

/**
 * What the judge needs to know about the push it judges the answer to.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export interface JudgeContext {
  push: Pick<BuiltPush, 'toUserName' | 'fromUserName' | 'msgType'>
  mode: EmulatorMode
  /** Required in compat and safe mode. */
  crypto?: WxMpCrypto
}

/**
 * The judge's reading of one answer.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export interface Verdict {
  /** The reply as an object of the core's reply types; `null` for no reply or a refused one. */
  reply: ReplyMessage | null
  /** The plaintext reply document (decrypted in compat/safe mode); `''` when there was none. */
  replyXml: string
  /** Errors (WeChat refuses the answer) and warnings. */
  problems: Problem[]
}

/**
 * The reply `MsgType`s WeChat knows.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export const knownReplyTypes: ReadonlySet<string> = new Set([
  'text',
  'image',
  'voice',
  'video',
  'music',
  'news',
  'transfer_customer_service',
])

const userMessageKinds: ReadonlySet<string> = new Set(['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link'])

function textOf(node: XmlNode | XmlNode[] | undefined): string | undefined {
  const value = Array.isArray(node) ? node[0] : node
  if (value === undefined) return undefined
  if (typeof value === 'string') return value
  const keys = Object.keys(value)
  if (keys.every((k) => k === '#text')) return String(value['#text'] ?? '')
  return undefined
}

function elementOf(node: XmlNode | XmlNode[] | undefined): XmlElement | undefined {
  const value = Array.isArray(node) ? node[0] : node
  return value !== undefined && typeof value === 'object' ? value : undefined
}

function preview(text: string, max = 120): string {
  const flat = JSON.stringify(text)
  return flat.length > max ? flat.slice(0, max) + '…"' : flat
}

function noReply(problems: Problem[] = [], replyXml = ''): Verdict {
  return { reply: null, replyXml, problems }
}

/**
 * Judges the body of an HTTP 200 answer to a push.
 *
 * @example
 * ```ts
 * const verdict = judgeReply(body, { push, mode: 'safe', crypto })
 * if (verdict.problems.some((p) => p.level === 'error')) console.log('user sees the failure notice')
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export function judgeReply(body: string, context: JudgeContext): Verdict {
  if (body === '' || body === 'success') return noReply()
  if (body.trim() === '' || body.trim() === 'success') {
    return noReply([
      problem(
        'SUCCESS_WHITESPACE',
        `The answer ${preview(body)} has whitespace around it; WeChat documents exactly "success" or a body of 0 bytes for "no reply". Write the body without a newline.`,
      ),
    ])
  }
  let root: XmlElement
  try {
    root = parseWellFormed(body)
  } catch (err) {
    return noReply([malformed(body, err)])
  }
  if ('Encrypt' in root) {
    if (context.mode === 'plain' || !context.crypto) {
      return noReply([
        problem(
          'UNEXPECTED_ENCRYPTION',
          'The reply is encrypted, but the push was sent in plain mode (明文模式): WeChat would not decrypt it. Reply in plaintext, or switch the account (and the emulator: --mode safe) to safe mode.',
        ),
      ])
    }
    const opened = openEnvelope(root, context.crypto)
    if ('problem' in opened) return noReply([opened.problem])
    const inner = opened.xml
    if (inner.trim() === 'success' || inner === '') {
      return noReply(
        [problem('ENCRYPTED_SUCCESS', 'The reply encrypts "success": "no reply" is plain `success` (or an empty body) and is never encrypted.')],
        inner,
      )
    }
    try {
      root = parseWellFormed(inner)
    } catch (err) {
      return noReply([malformed(inner, err, 'The decrypted reply')], inner)
    }
    return judgeMessage(root, inner, context)
  }
  if (context.mode === 'safe') {
    return noReply(
      [
        problem(
          'NOT_ENCRYPTED',
          'The account is in safe mode (安全模式) but the reply is plaintext: encrypt it into <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml> (WxMpCrypto.encryptMessage).',
        ),
      ],
      body,
    )
  }
  return judgeMessage(root, body, context)
}

/**
 * The core's parser is lenient (it accepts a truncated `<xml><ToUserName>`); WeChat is not. So
 * the document is validated for well-formedness first, then parsed by the core.
 */
function parseWellFormed(xml: string): XmlElement {
  const valid = XMLValidator.validate(xml)
  if (valid !== true) {
    throw new Error(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`)
  }
  return parseXmlDocument(xml)
}

function malformed(body: string, err: unknown, what = 'The reply'): Problem {
  const reason = err instanceof Error ? err.message : String(err)
  const hint = /^\s*[[{]/.test(body)
    ? ' WeChat accepts XML only, not JSON.'
    : /^\s*<(!doctype\s+)?html/i.test(body)
      ? ' It looks like an HTML page (a framework error page, or a proxy).'
      : ''
  return problem('MALFORMED_XML', `${what} is not a WeChat XML message: ${reason}${hint} Body: ${preview(body)}`)
}

function openEnvelope(root: XmlElement, crypto: WxMpCrypto): { xml: string } | { problem: Problem } {
  const encrypt = textOf(root['Encrypt']) ?? ''
  const signature = textOf(root['MsgSignature'])
  const timestamp = textOf(root['TimeStamp'])
  const nonce = textOf(root['Nonce'])
  const missing = [signature === undefined && 'MsgSignature', timestamp === undefined && 'TimeStamp', nonce === undefined && 'Nonce'].filter(Boolean)
  if (missing.length > 0) {
    return {
      problem: problem('BAD_MSG_SIGNATURE', `The encrypted reply lacks <${missing.join('>, <')}>: the envelope is <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>.`),
    }
  }
  if (!crypto.verify(signature!, timestamp!, nonce!, encrypt)) {
    return {
      problem: problem(
        'BAD_MSG_SIGNATURE',
        'The reply\'s MsgSignature is not sha1(sort([token, TimeStamp, Nonce, Encrypt]).join("")): sign with the same Token, over the Encrypt value you send and the TimeStamp/Nonce in the envelope.',
      ),
    }
  }
  try {
    return { xml: crypto.decrypt(encrypt) }
  } catch (err) {
    if (isWxMpError(err) && err.code === 'APPID_MISMATCH') {
      return { problem: problem('APPID_MISMATCH', `The reply was encrypted for another appId. ${err.message}`) }
    }
    const reason = err instanceof Error ? err.message : String(err)
    return { problem: problem('DECRYPT_FAILED', `The reply's Encrypt cannot be decrypted with this EncodingAESKey: ${reason}`) }
  }
}

function judgeMessage(root: XmlElement, replyXml: string, context: JudgeContext): Verdict {
  const problems: Problem[] = []
  const { push } = context
  const to = textOf(root['ToUserName'])
  const from = textOf(root['FromUserName'])
  if (to !== push.fromUserName) {
    const swapped = to === push.toUserName ? ' It holds the account id: To and From are not swapped.' : ''
    problems.push(
      problem('WRONG_TO_USER', `The reply's ToUserName is ${preview(to ?? '(missing)')}, not the user's OpenID ${preview(push.fromUserName)} (the push's FromUserName).${swapped}`),
    )
  }
  if (from !== push.toUserName) {
    problems.push(
      problem('WRONG_FROM_USER', `The reply's FromUserName is ${preview(from ?? '(missing)')}, not the account id ${preview(push.toUserName)} (the push's ToUserName).`),
    )
  }
  const createTime = textOf(root['CreateTime'])?.trim()
  if (createTime === undefined || createTime === '') {
    problems.push(problem('CREATE_TIME_MISSING', 'The reply has no <CreateTime>: write the current time in integer seconds.'))
  } else if (!/^\d+$/.test(createTime)) {
    problems.push(problem('CREATE_TIME_NOT_INTEGER', `The reply's CreateTime ${preview(createTime)} is not an integer number of seconds: use Math.floor(Date.now() / 1000).`))
  } else if (createTime.length >= 13) {
    problems.push(problem('CREATE_TIME_MILLISECONDS', `The reply's CreateTime ${createTime} is in milliseconds: WeChat uses seconds (Math.floor(Date.now() / 1000)).`))
  }
  const msgType = textOf(root['MsgType'])
  if (msgType === undefined || !knownReplyTypes.has(msgType)) {
    problems.push(
      problem(
        'UNKNOWN_MSG_TYPE',
        `The reply's MsgType is ${preview(msgType ?? '(missing)')}: WeChat accepts text, image, voice, video, music, news or transfer_customer_service.`,
      ),
    )
    return { reply: null, replyXml, problems }
  }
  const reply = readReply(msgType, root, problems, push.msgType)
  const refused = problems.some((p) => p.level === 'error')
  return { reply: refused ? null : reply, replyXml, problems }
}

function missing(problems: Problem[], path: string, msgType: string): void {
  problems.push(problem('MISSING_FIELD', `The ${msgType} reply lacks <${path}>.`))
}

function mediaId(root: XmlElement, wrapper: string, msgType: string, problems: Problem[]): string {
  const id = textOf(elementOf(root[wrapper])?.['MediaId'])
  if (id === undefined || id === '') missing(problems, `${wrapper}><MediaId`, msgType)
  return id ?? ''
}

function readReply(msgType: string, root: XmlElement, problems: Problem[], pushType: string): ReplyMessage | null {
  switch (msgType) {
    case 'text': {
      const content = textOf(root['Content'])
      if (content === undefined) {
        missing(problems, 'Content', msgType)
        return null
      }
      const bytes = Buffer.byteLength(content, 'utf8')
      if (bytes > TEXT_REPLY_MAX_BYTES) {
        problems.push(
          problem(
            'TEXT_TOO_LONG',
            `The text reply is ${bytes} bytes of UTF-8; WeChat allows ${TEXT_REPLY_MAX_BYTES} (a CJK character is 3 bytes) and cuts or drops longer ones. Split it (splitText) and send the rest with the customer-service API.`,
          ),
        )
      }
      return { msgType: 'text', content }
    }
    case 'image':
      return { msgType: 'image', mediaId: mediaId(root, 'Image', msgType, problems) }
    case 'voice':
      return { msgType: 'voice', mediaId: mediaId(root, 'Voice', msgType, problems) }
    case 'video': {
      const video = elementOf(root['Video'])
      const title = textOf(video?.['Title'])
      const description = textOf(video?.['Description'])
      return {
        msgType: 'video',
        mediaId: mediaId(root, 'Video', msgType, problems),
        ...(title === undefined ? {} : { title }),
        ...(description === undefined ? {} : { description }),
      }
    }
    case 'music': {
      const music = elementOf(root['Music'])
      const thumbMediaId = textOf(music?.['ThumbMediaId'])
      if (thumbMediaId === undefined || thumbMediaId === '') missing(problems, 'Music><ThumbMediaId', msgType)
      const reply: ReplyMessage = { msgType: 'music', thumbMediaId: thumbMediaId ?? '' }
      const fields = { title: 'Title', description: 'Description', musicUrl: 'MusicUrl', hqMusicUrl: 'HQMusicUrl' } as const
      for (const [name, tag] of Object.entries(fields)) {
        const value = textOf(music?.[tag])
        if (value !== undefined) reply[name as keyof typeof fields] = value
      }
      return reply
    }
    case 'news':
      return readNews(root, problems, pushType)
    default: {
      const kfAccount = textOf(elementOf(root['TransInfo'])?.['KfAccount'])
      return kfAccount === undefined ? { msgType: 'transfer_customer_service' } : { msgType: 'transfer_customer_service', kfAccount }
    }
  }
}

function readNews(root: XmlElement, problems: Problem[], pushType: string): ReplyMessage | null {
  const node = elementOf(root['Articles'])?.['item']
  const items = node === undefined ? [] : Array.isArray(node) ? node : [node]
  if (items.length === 0) {
    problems.push(problem('NEWS_NO_ARTICLES', 'The news reply has no <Articles><item>: send at least one article.'))
    return null
  }
  const toUser = userMessageKinds.has(pushType)
  const limit = toUser ? newsArticleLimits.userMessage : newsArticleLimits.other
  if (items.length > limit) {
    problems.push(
      problem(
        'NEWS_TOO_MANY_ARTICLES',
        `The news reply holds ${items.length} articles; WeChat allows ${limit} in a reply to ${toUser ? 'a user message' : 'an event'}. Send one card, or push the others with the customer-service API.`,
      ),
    )
  }
  const count = textOf(root['ArticleCount'])?.trim()
  if (count !== String(items.length)) {
    problems.push(problem('NEWS_COUNT_MISMATCH', `The news reply's ArticleCount is ${preview(count ?? '(missing)')} but it holds ${items.length} <item>s.`))
  }
  const articles: Article[] = items.map((item, i) => {
    const el = elementOf(item) ?? {}
    const title = textOf(el['Title'])
    if (title === undefined || title === '') missing(problems, `Articles><item #${i + 1}><Title`, 'news')
    const article: Article = { title: title ?? '' }
    const description = textOf(el['Description'])
    const picUrl = textOf(el['PicUrl'])
    const url = textOf(el['Url'])
    if (description !== undefined) article.description = description
    if (picUrl !== undefined) article.picUrl = picUrl
    if (url !== undefined) article.url = url
    return article
  })
  return { msgType: 'news', articles }
}
