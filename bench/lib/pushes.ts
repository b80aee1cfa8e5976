/**
 * Pre-built pushes for the benchmark: written, signed and (in safe mode) sealed by the project's
 * own core (writeMessage, signPushQuery, WxMpCrypto.sealPush), each with its own MsgId and nonce,
 * so that dedup never short-circuits and no cost is moved from the server into the load
 * generator's measured window.
 */
import { WxMpCrypto } from '../../src/core/crypto.js'
import { signPushQuery } from '../../src/core/signature.js'
import { writeMessage } from '../../src/core/write.js'

/** The account the benchmark plays (any values of the right form work). */
export const account = {
  token: 'benchToken2024',
  aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appId: 'wx0123456789abcdef',
  toUserName: 'gh_0123456789ab',
} as const

export type PushMode = 'plain' | 'safe'

/** One request: path with its query, and body. */
export interface Push {
  path: string
  body: string
  /** What the echo handler must answer with. */
  content: string
  fromUserName: string
}

/** The plaintext XML of a text message, as WeChat sends it. */
export function textMessageXml(fromUserName: string, createTime: number, content: string, msgId: string): string {
  return writeMessage({ toUserName: account.toUserName, fromUserName, createTime, msgType: 'text', content, msgId })
}

/** Users the pushes come from (WeChat openids are 28 characters). */
function openId(i: number): string {
  return 'oBench' + String(i % 997).padStart(22, '0')
}

/** A run-unique MsgId base, so that two runs against one server never collide either. */
const msgIdBase = BigInt(Date.now()) * 1_000_000n

/**
 * Builds `count` distinct pushes for `mode`, stamped now (the server accepts them for 300 s).
 * `offset` continues the MsgId sequence of an earlier batch.
 */
export function buildPushes(mode: PushMode, count: number, offset = 0, path = '/wx'): Push[] {
  const crypto = mode === 'safe' ? new WxMpCrypto({ token: account.token, aesKey: account.aesKey, appId: account.appId }) : undefined
  const timestamp = String(Math.floor(Date.now() / 1000))
  const pushes: Push[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const n = offset + i
    const nonce = String(100_000_000 + ((n * 7919) % 900_000_000))
    const fromUserName = openId(n)
    const content = `你好，公众号！这是第 ${n} 条消息 (hello #${n})`
    const xml = textMessageXml(fromUserName, Number(timestamp), content, String(msgIdBase + BigInt(n)))
    const sealed = crypto ? crypto.sealPush(xml, { timestamp, nonce }) : { body: xml, query: signPushQuery(account.token, { timestamp, nonce, openid: fromUserName }) }
    const query = new URLSearchParams({ ...sealed.query }).toString()
    const body = sealed.body
    pushes[i] = { path: `${path}?${query}`, body, content, fromUserName }
  }
  return pushes
}
