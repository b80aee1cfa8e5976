/**
 * Sealing a push the way WeChat sends it: the signed query string and, in compatible and safe
 * mode, the encrypted body.
 *
 * - plain (明文模式): `?signature&timestamp&nonce&openid`, the plaintext body.
 * - compat (兼容模式): adds `encrypt_type=aes&msg_signature`; the body holds the plaintext
 *   elements followed by `<Encrypt>`.
 * - safe (安全模式): the same query; the body is `<xml><ToUserName/><Encrypt/></xml>`.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 *
 * @module
 */
import { randomInt } from 'node:crypto'
import { computeSignature, type WxMpCrypto } from '../core/index.js'
import { pushDocument, type BuiltPush } from './push.js'

/**
 * The message-encryption modes of the admin page (消息加解密方式).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export const emulatorModes = ['plain', 'compat', 'safe'] as const

/**
 * `plain` (明文模式), `compat` (兼容模式) or `safe` (安全模式).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export type EmulatorMode = (typeof emulatorModes)[number]

/**
 * A push as it goes on the wire.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export interface SealedPush {
  /** The query parameters, in WeChat's order. */
  query: ReadonlyArray<readonly [string, string]>
  /** The request body (`text/xml`). */
  body: string
  /** The plaintext document (the same as `body` in plain mode). */
  plaintext: string
}

/**
 * What {@link sealPush} needs.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export interface SealOptions {
  mode: EmulatorMode
  token: string
  /** Required in compat and safe mode. */
  crypto?: WxMpCrypto
  /** Seconds since the epoch. */
  timestamp: number
  nonce: string
}

/**
 * A nonce of WeChat's shape: a decimal number.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export function randomNonce(): string {
  return String(randomInt(100_000_000, 2_000_000_000))
}

/**
 * Signs (and in compat/safe mode encrypts) a push. The result is sent unchanged on every
 * attempt: WeChat's retries repeat the same request.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export function sealPush(push: BuiltPush, options: SealOptions): SealedPush {
  const { mode, token, crypto, timestamp, nonce } = options
  const plaintext = pushDocument(push.elements)
  const query: Array<readonly [string, string]> = [
    ['signature', computeSignature(token, timestamp, nonce)],
    ['timestamp', String(timestamp)],
    ['nonce', nonce],
    ['openid', push.fromUserName],
  ]
  if (mode === 'plain') return { query, body: plaintext, plaintext }
  if (!crypto) throw new TypeError(`sealPush: ${mode} mode needs a WxMpCrypto`)
  const encrypt = crypto.encrypt(plaintext)
  query.push(['encrypt_type', 'aes'], ['msg_signature', crypto.sign(timestamp, nonce, encrypt)])
  const elements = mode === 'compat' ? [...push.elements, ['Encrypt', encrypt] as const] : [['ToUserName', push.toUserName] as const, ['Encrypt', encrypt] as const]
  return { query, body: pushDocument(elements), plaintext }
}

/**
 * `url` with `query` appended (keeping any query the URL already has).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export function withQuery(url: URL, query: SealedPush['query']): URL {
  const target = new URL(url)
  for (const [name, value] of query) target.searchParams.append(name, value)
  return target
}
