/**
 * Sealing a push the way WeChat sends it, by the core's own functions: `signPushQuery` in plain
 * mode, `WxMpCrypto.sealPush` in compatible and safe mode.
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
import { signPushQuery, type PushQuery, type WxMpCrypto } from '../core/index.js'
import type { BuiltPush } from './push.js'

/** The message-encryption modes of the admin page (消息加解密方式). */
export const emulatorModes = ['plain', 'compat', 'safe'] as const

/** `plain` (明文模式), `compat` (兼容模式) or `safe` (安全模式). */
export type EmulatorMode = (typeof emulatorModes)[number]

/** A push as it goes on the wire. */
export interface SealedPush {
  /** The query parameters, in WeChat's order. */
  query: ReadonlyArray<readonly [string, string]>
  /** The request body (`text/xml`). */
  body: string
  /** The plaintext document (the same as `body` in plain mode). */
  plaintext: string
}

/** What {@link sealPush} needs. */
export interface SealOptions {
  mode: EmulatorMode
  token: string
  /** Required in compat and safe mode. */
  crypto?: WxMpCrypto
  /** Seconds since the epoch. */
  timestamp: number
  nonce: string
}

/** A nonce of WeChat's shape: a decimal number. */
export function randomNonce(): string {
  return String(randomInt(100_000_000, 2_000_000_000))
}

/**
 * Signs (and in compat/safe mode encrypts) a push. The result is sent unchanged on every
 * attempt: WeChat's retries repeat the same request.
 */
export function sealPush(push: BuiltPush, options: SealOptions): SealedPush {
  const { mode, token, crypto, timestamp, nonce } = options
  let sealed: { body: string; query: PushQuery }
  if (mode === 'plain') {
    sealed = { body: push.xml, query: signPushQuery(token, { timestamp, nonce, openid: push.fromUserName }) }
  } else {
    if (!crypto) throw new TypeError(`sealPush: ${mode} mode needs a WxMpCrypto`)
    sealed = crypto.sealPush(push.xml, { timestamp, nonce, mode, openid: push.fromUserName, toUserName: push.toUserName })
  }
  const query = Object.entries(sealed.query).filter((entry): entry is [string, string] => entry[1] !== undefined)
  return { query, body: sealed.body, plaintext: push.xml }
}

/** `url` with `query` appended (keeping any query the URL already has). */
export function withQuery(url: URL, query: SealedPush['query']): URL {
  const target = new URL(url)
  for (const [name, value] of query) target.searchParams.append(name, value)
  return target
}
