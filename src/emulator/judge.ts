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
import {
  TEXT_REPLY_MAX_BYTES,
  isWxMpError,
  newsArticleLimit,
  parseXmlDocument,
  type ReplyMessage,
  type ReplyType,
  type WxMpCrypto,
  type XmlElement,
  type XmlNode,
} from '../core/index.js'
import { articleItems, readReplyBody, replyTypes } from '../core/reply.js'
import type { EmulatorMode } from './envelope.js'
import { problem, type Problem } from './problems.js'
import type { BuiltPush } from './push.js'

/**
 * What the judge needs to know about the push it judges the answer to.
 */
export interface JudgeContext {
  push: Pick<BuiltPush, 'toUserName' | 'fromUserName' | 'msgType'>
  mode: EmulatorMode
  /** Required in compat and safe mode. */
  crypto?: WxMpCrypto
}

/**
 * The judge's reading of one answer.
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
 */
export const knownReplyTypes: ReadonlySet<string> = replyTypes

function textOf(node: XmlNode | XmlNode[] | undefined): string | undefined {
  const value = Array.isArray(node) ? node[0] : node
  if (value === undefined) return undefined
  if (typeof value === 'string') return value
  const keys = Object.keys(value)
  if (keys.every((k) => k === '#text')) return String(value['#text'] ?? '')
  return undefined
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
    root = parseXmlDocument(body)
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
    const opened = openEnvelope(body, context.crypto)
    if ('problem' in opened) return noReply([opened.problem])
    const inner = opened.xml
    if (inner.trim() === 'success' || inner === '') {
      return noReply(
        [problem('ENCRYPTED_SUCCESS', 'The reply encrypts "success": "no reply" is plain `success` (or an empty body) and is never encrypted.')],
        inner,
      )
    }
    try {
      root = parseXmlDocument(inner)
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

function malformed(body: string, err: unknown, what = 'The reply'): Problem {
  const reason = err instanceof Error ? err.message : String(err)
  const hint = /^\s*[[{]/.test(body)
    ? ' WeChat accepts XML only, not JSON.'
    : /^\s*<(!doctype\s+)?html/i.test(body)
      ? ' It looks like an HTML page (a framework error page, or a proxy).'
      : ''
  return problem('MALFORMED_XML', `${what} is not a WeChat XML message: ${reason}${hint} Body: ${preview(body)}`)
}

/** Opens an encrypted reply with the core's `openReply`, turning its errors into the judge's problems. */
function openEnvelope(body: string, crypto: WxMpCrypto): { xml: string } | { problem: Problem } {
  try {
    return { xml: crypto.openReply(body) }
  } catch (err) {
    if (!isWxMpError(err)) throw err
    switch (err.code) {
      case 'MALFORMED_XML':
      case 'INVALID_SIGNATURE':
        return { problem: problem('BAD_MSG_SIGNATURE', err.message) }
      case 'APPID_MISMATCH':
        return { problem: problem('APPID_MISMATCH', `The reply was encrypted for another appId. ${err.message}`) }
      default:
        return { problem: problem('DECRYPT_FAILED', `The reply's Encrypt cannot be decrypted with this EncodingAESKey: ${err.message}`) }
    }
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

/**
 * Reads the reply's elements with the core's reader (the table renderReply writes with), after
 * the checks WeChat makes of news replies: at least one article, within the limit for the push
 * (the core's one rule), and an ArticleCount that agrees.
 */
function readReply(msgType: string, root: XmlElement, problems: Problem[], pushType: string): ReplyMessage | null {
  if (msgType === 'news') {
    const items = articleItems(root)
    if (items.length === 0) {
      problems.push(problem('NEWS_NO_ARTICLES', 'The news reply has no <Articles><item>: send at least one article.'))
      return null
    }
    const limit = newsArticleLimit(pushType)
    if (items.length > limit) {
      problems.push(
        problem(
          'NEWS_TOO_MANY_ARTICLES',
          `The news reply holds ${items.length} articles; WeChat allows ${limit} in a reply to ${pushType === 'event' ? 'an event' : 'a user message'}. Send one card, or push the others with the customer-service API.`,
        ),
      )
    }
    const count = textOf(root['ArticleCount'])?.trim()
    if (count !== String(items.length)) {
      problems.push(problem('NEWS_COUNT_MISMATCH', `The news reply's ArticleCount is ${preview(count ?? '(missing)')} but it holds ${items.length} <item>s.`))
    }
  }
  let reply: ReplyMessage
  try {
    reply = readReplyBody(root, msgType as ReplyType)
  } catch (err) {
    if (!isWxMpError(err)) throw err
    problems.push(problem('MISSING_FIELD', `The ${msgType} reply is incomplete: ${err.message}`))
    return null
  }
  if (reply.msgType === 'text') {
    const bytes = Buffer.byteLength(reply.content, 'utf8')
    if (bytes > TEXT_REPLY_MAX_BYTES) {
      problems.push(
        problem(
          'TEXT_TOO_LONG',
          `The text reply is ${bytes} bytes of UTF-8; WeChat allows ${TEXT_REPLY_MAX_BYTES} (a CJK character is 3 bytes) and cuts or drops longer ones. Split it (splitText) and send the rest with the customer-service API.`,
        ),
      )
    }
  }
  return reply
}
