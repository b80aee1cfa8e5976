/**
 * The emulator: WeChat's server in a function. It signs and encrypts pushes, sends them with
 * WeChat's timing and retries, and judges the answers the way WeChat does.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import { WxMpCrypto, WxMpError, type ReplyMessage } from '../core/index.js'
import { ATTEMPT_TIMEOUT_MS, MAX_ATTEMPTS, deliver, type Attempt } from './attempts.js'
import { emulatorModes, randomNonce, sealPush, withQuery, type EmulatorMode } from './envelope.js'
import { judgeReply } from './judge.js'
import { hasError, problem, type Problem } from './problems.js'
import { buildPush, randomOpenId, randomOriginalId, type PushInput } from './push.js'
import { FAILURE_NOTICE, describeReply } from './shown.js'
import { verifyUrl, type VerifyResult } from './verify.js'

/**
 * Options of {@link createEmulator}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface EmulatorOptions {
  /** The server URL, as entered on the admin page (服务器地址). */
  url: string | URL
  /** The Token (令牌). */
  token: string
  /** The EncodingAESKey (消息加解密密钥); needed for compat and safe mode. */
  aesKey?: string
  /** The AppID; needed for compat and safe mode (it is inside every ciphertext). */
  appId?: string
  /** Default: `safe` when `aesKey` is given, else `plain`. */
  mode?: EmulatorMode
  /** The user's OpenID for every push; default: a random one per emulator. */
  fromUserName?: string
  /** The account's original id (`gh_…`); default: a random one per emulator. */
  toUserName?: string
  /** The deadline of one attempt; WeChat's is 5000 ms. Shorten it in tests. */
  attemptTimeoutMs?: number
  /** How many attempts before giving up; WeChat makes 3. */
  maxAttempts?: number
  /** Clock in milliseconds (CreateTime, timestamps); default `Date.now`. */
  now?: () => number
}

/**
 * What {@link Emulator.send} returns, and what `wx-mp-svr send --json` prints.
 *
 * - `attempts`: each attempt's HTTP status (0 when no response came), time and failure reason.
 * - `reply`: the reply as an object of the core's reply types, `null` for none.
 * - `shown`: what the phone shows: the reply's text or a description (`[image media_id=…]`),
 *   `''` when the user sees nothing, or {@link FAILURE_NOTICE}.
 * - `warnings`: every problem found, errors included (see `level`); codes are stable.
 * - `ok`: `false` exactly when WeChat would show {@link FAILURE_NOTICE}.
 * - `replyXml`: the plaintext reply document (decrypted in compat/safe mode), `''` for none.
 * - `msgId`: the MsgId of the push (the same on every attempt), for ordinary messages.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface SendResult {
  ok: boolean
  attempts: Attempt[]
  reply: ReplyMessage | null
  shown: string
  warnings: Problem[]
  replyXml: string
  msgId?: string
}

/**
 * An emulated WeChat server bound to one account and one user; see {@link createEmulator}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export interface Emulator {
  /** The encryption mode pushes are sent in. */
  readonly mode: EmulatorMode
  /** The user's OpenID pushes come from. */
  readonly fromUserName: string
  /** The account id pushes go to. */
  readonly toUserName: string
  /**
   * Sends one push (a string is a text message) and judges the answer.
   *
   * Never throws for what the server does: a timeout, a 500 or a bad reply is in the result.
   * Throws {@link WxMpError} `INVALID_CONFIG` only for an input missing a required field.
   */
  send(message: PushInput): Promise<SendResult>
  /** The URL verification of the admin page's 提交 button. */
  verify(): Promise<VerifyResult>
}

function config(message: string): WxMpError {
  return new WxMpError('INVALID_CONFIG', message)
}

function parseUrl(url: string | URL): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw config(`The URL ${JSON.stringify(String(url))} is not absolute: write it as on the admin page, e.g. https://example.com/wechat.`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw config(`The URL must start with http:// or https:// (got ${parsed.protocol}).`)
  }
  return parsed
}

/**
 * Creates an emulator of WeChat's server for one account, to drive a bot end to end without
 * WeChat: in tests, in scripts, or through `wx-mp-svr send|verify|chat`.
 *
 * Options are checked here, once: a missing token, a malformed EncodingAESKey or compat/safe
 * mode without `aesKey`/`appId` throw {@link WxMpError} `INVALID_CONFIG`/`INVALID_AES_KEY`.
 *
 * @example
 * ```ts
 * import { createEmulator } from 'wx-mp-svr'
 * const wechat = createEmulator({ url: 'http://127.0.0.1:3000/wechat', token, aesKey, appId })
 * const result = await wechat.send('hello')
 * assert.equal(result.shown, 'Hi!')
 * await wechat.send({ msgType: 'event', event: 'CLICK', eventKey: 'MENU_HELP' })
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 */
export function createEmulator(options: EmulatorOptions): Emulator {
  const { token, aesKey, appId } = options ?? ({} as EmulatorOptions)
  const url = parseUrl(options?.url)
  if (typeof token !== 'string' || token === '') {
    throw config('token is required: the Token (令牌) from 设置与开发 → 基本配置 → 服务器配置.')
  }
  const mode = options.mode ?? (aesKey ? 'safe' : 'plain')
  if (!emulatorModes.includes(mode)) throw config(`mode must be plain, compat or safe (got ${JSON.stringify(mode)}).`)
  let crypto: WxMpCrypto | undefined
  if (mode !== 'plain') {
    if (!aesKey) throw config(`${mode} mode needs aesKey: the EncodingAESKey (消息加解密密钥) from the admin page.`)
    if (!appId) throw config(`${mode} mode needs appId: the AppID (开发者ID) the ciphertext is made for.`)
    crypto = new WxMpCrypto({ token, aesKey, appId })
  }
  const timeoutMs = options.attemptTimeoutMs ?? ATTEMPT_TIMEOUT_MS
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS
  if (!(timeoutMs > 0) || !Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw config('attemptTimeoutMs must be positive and maxAttempts a positive integer.')
  }
  const now = options.now ?? Date.now
  const fromUserName = options.fromUserName ?? randomOpenId()
  const toUserName = options.toUserName ?? randomOriginalId()

  async function send(message: PushInput): Promise<SendResult> {
    const push = buildPush(message, { fromUserName, toUserName, now })
    const sealed = sealPush(push, {
      mode,
      token,
      ...(crypto ? { crypto } : {}),
      timestamp: Math.floor(now() / 1000),
      nonce: randomNonce(),
    })
    const delivery = await deliver(withQuery(url, sealed.query), sealed.body, { timeoutMs, maxAttempts })
    const base = { attempts: delivery.attempts, ...(push.msgId === undefined ? {} : { msgId: push.msgId }) }
    if (!delivery.answer) {
      return { ok: false, ...base, reply: null, shown: FAILURE_NOTICE, warnings: delivery.problems, replyXml: '' }
    }
    const verdict = judgeReply(delivery.answer.body, { push, mode, ...(crypto ? { crypto } : {}) })
    const warnings = [...delivery.problems, ...verdict.problems]
    const tries = delivery.attempts.length
    if (tries > 1) {
      warnings.push(
        problem(
          'RETRIED',
          `The answer came on attempt ${tries}: your server received this push ${tries} times. Deduplicate by MsgId (messages) or FromUserName + CreateTime (events).`,
        ),
      )
    }
    if (delivery.answer.ms > timeoutMs * 0.9) {
      warnings.push(problem('SLOW_REPLY', `The answer took ${delivery.answer.ms} ms, close to WeChat's ${timeoutMs} ms deadline: network latency will push it over. Answer within ~4.5 s.`))
    }
    const ok = !hasError(verdict.problems)
    return {
      ok,
      ...base,
      reply: ok ? verdict.reply : null,
      shown: ok ? describeReply(verdict.reply) : FAILURE_NOTICE,
      warnings,
      replyXml: verdict.replyXml,
    }
  }

  return {
    mode,
    fromUserName,
    toUserName,
    send,
    verify: () => verifyUrl({ url, token, timeoutMs, now }),
  }
}
