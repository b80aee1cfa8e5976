/**
 * Keyword replies read from a JSON file: text, image and voice answers, and a welcome on
 * subscribe. Pure: the file's content in, the bot's handlers out.
 */
import type { Handlers, ReplyMessage } from 'wx-mp-svr/serverless'

/** One answer of the file: text, or an image or a voice by its permanent MediaId (素材管理). */
export type KeywordAnswer = { type: 'text'; content: string } | { type: 'image'; mediaId: string } | { type: 'voice'; mediaId: string }

/** The keywords file (keywords.json). */
export interface KeywordFile {
  /** Sent to a new follower. */
  welcome: string
  /** Tried in order; the first that matches answers. */
  rules: Array<{ keyword: string; match: 'exact' | 'contains'; reply: KeywordAnswer }>
  /** The answer when no rule matches; empty or absent: no answer (WeChat shows nothing). */
  fallback?: string
}

function toReply(answer: KeywordAnswer): ReplyMessage {
  return answer.type === 'text' ? { msgType: 'text', content: answer.content } : { msgType: answer.type, mediaId: answer.mediaId }
}

/** Checks the file's shape once, at start, so that a typo fails the deployment rather than a message. */
export function checkKeywordFile(value: unknown): KeywordFile {
  const file = value as KeywordFile
  if (typeof file?.welcome !== 'string' || !Array.isArray(file.rules)) throw new Error('keywords.json needs "welcome" (text) and "rules" (a list)')
  file.rules.forEach((rule, i) => {
    const ok =
      typeof rule?.keyword === 'string' &&
      (rule.match === 'exact' || rule.match === 'contains') &&
      (rule.reply?.type === 'text' ? typeof rule.reply.content === 'string' : (rule.reply?.type === 'image' || rule.reply?.type === 'voice') && typeof rule.reply.mediaId === 'string')
    if (!ok) throw new Error(`keywords.json rule ${i + 1} needs "keyword", "match" ("exact" or "contains") and a "reply" of type text, image or voice`)
  })
  return file
}

/** The bot's handlers for a keywords file. */
export function keywordBot(file: KeywordFile): Pick<Handlers, 'onMessage' | 'onSubscribe'> {
  return {
    onMessage: (msg) => {
      if (msg.msgType !== 'text') return file.fallback || undefined
      const text = msg.content.trim()
      const rule = file.rules.find((r) => (r.match === 'exact' ? text === r.keyword : text.includes(r.keyword)))
      return rule ? toReply(rule.reply) : file.fallback || undefined
    },
    onSubscribe: () => file.welcome,
  }
}
