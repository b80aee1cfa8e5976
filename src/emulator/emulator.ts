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
import { ATTEMPT_TIMEOUT_MS, MAX_ATTEMPTS, REPUSH_DELAY_MS, deliver, type Attempt } from './attempts.js'
import { emulatorModes, randomNonce, sealPush, withQuery, type EmulatorMode } from './envelope.js'
import { judgeReply, type Verdict } from './judge.js'
import { interactionOf, type MockApiMessage } from './mock-api-account.js'
import type { MockApi } from './mock-api.js'
import { hasError, problem, type Problem } from './problems.js'
import { buildPush, randomOpenId, randomOriginalId, type PushInput } from './push.js'
import { FAILURE_NOTICE, describeReply, type ShownMessage } from './shown.js'
import type { Exchange, ExchangeOptions } from './transport.js'
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
  /** The pause before a re-push after an early failure (non-200, refused reply); WeChat's is under 1 s. */
  repushDelayMs?: number
  /**
   * Clock in milliseconds (CreateTime, timestamps, the times of customer-service messages);
   * default `Date.now`. Give the mock API the same clock.
   */
  now?: () => number
  /**
   * The mock WeChat API the bot delivers customer-service messages to ({@link startMockApi}).
   * Every push the emulator delivers opens that user's customer-service window in it, and its
   * messages to the user appear in {@link SendResult.messages}.
   */
  mockApi?: MockApi
  /**
   * Makes one attempt; default: a new HTTP(S) connection per attempt. Replace it to drive the
   * emulator without sockets (tests of the schedule and the verdicts).
   */
  exchange?: (url: URL, options: ExchangeOptions) => Promise<Exchange>
}

/**
 * Options of one {@link Emulator.send}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export interface SendOptions {
  /**
   * Keep listening to the mock API until this many milliseconds after the send, for late
   * customer-service messages (default 0: until the delivery ends).
   */
  waitMs?: number
  /** Called as each attempt ends, with its number (1-based): `chat` shows the retries with it. */
  onAttempt?: (attempt: Attempt, number: number) => void
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
 * - `messages`: every message the user sees, in order, with its time after the send: the reply,
 *   the failure notice, and customer-service messages from the mock API (until the delivery
 *   ends, or `waitMs`).
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
  messages: ShownMessage[]
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
  /** The mock WeChat API given in the options, if any. */
  readonly mockApi: MockApi | undefined
  /**
   * Sends one push (a string is a text message) on WeChat's schedule and judges the answers.
   *
   * Never throws for what the server does: a timeout, a 500 or a bad reply is in the result.
   * Throws {@link WxMpError} `INVALID_CONFIG` only for an input missing a required field.
   */
  send(message: PushInput, options?: SendOptions): Promise<SendResult>
  /** The URL verification of the admin page's 提交 button. */
  verify(): Promise<VerifyResult>
}

/**
 * The share of WeChat's deadline after which an answer gets a SLOW_REPLY warning: 0.96, i.e.
 * above 4.8 s of 5 s. Not lower: the kit itself answers at its reply deadline, 4.5 s by default
 * (the fallback `success`, a placeholder, or a held retry answered in time), and a warning there
 * would fire on every slow handler that is handled right. Above 4.8 s, less than 200 ms remain for
 * the path between WeChat and the server — less than one round trip from WeChat's data centres
 * to a typical VPS, with TLS — so the real answer would come too late.
 */
const SLOW_REPLY_RATIO = 0.96

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
  const repushDelayMs = options.repushDelayMs ?? REPUSH_DELAY_MS
  if (!(timeoutMs > 0) || !Number.isInteger(maxAttempts) || maxAttempts < 1 || !(repushDelayMs >= 0)) {
    throw config('attemptTimeoutMs must be positive, maxAttempts a positive integer and repushDelayMs at least 0.')
  }
  const now = options.now ?? Date.now
  const fromUserName = options.fromUserName ?? randomOpenId()
  const toUserName = options.toUserName ?? randomOriginalId()
  const mockApi = options.mockApi

  async function send(message: PushInput, sendOptions: SendOptions = {}): Promise<SendResult> {
    const waitMs = sendOptions.waitMs ?? 0
    if (!(waitMs >= 0)) throw config(`waitMs must be 0 or more (got ${String(waitMs)}).`)
    const push = buildPush(message, { fromUserName, toUserName, now })
    const sealed = sealPush(push, {
      mode,
      token,
      ...(crypto ? { crypto } : {}),
      timestamp: Math.floor(now() / 1000),
      nonce: randomNonce(),
    })
    const sentAt = now()
    const arrived: MockApiMessage[] = []
    const unsubscribe = mockApi?.onMessage((m) => {
      if (m.openId === push.fromUserName) arrived.push(m)
    })
    try {
      // WeChat registers the user's interaction when the user acts, before it pushes: the bot may
      // call the customer-service API while the first attempt is still open.
      const interaction = interactionOf(push)
      if (mockApi && interaction) mockApi.interact(push.fromUserName, interaction)
      const judge = (ex: { body: string }): Verdict & { accepted: boolean } => {
        const verdict = judgeReply(ex.body, { push, mode, ...(crypto ? { crypto } : {}) })
        return { ...verdict, accepted: !hasError(verdict.problems) }
      }
      const delivery = await deliver(withQuery(url, sealed.query), sealed.body, {
        timeoutMs,
        maxAttempts,
        repushDelayMs,
        judge,
        ...(options.exchange ? { exchange: options.exchange } : {}),
        ...(sendOptions.onAttempt ? { onAttempt: sendOptions.onAttempt } : {}),
      })
      const rest = sentAt + waitMs - now()
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest))
      const base = { attempts: delivery.attempts, ...(push.msgId === undefined ? {} : { msgId: push.msgId }) }
      const last = delivery.attempts[delivery.attempts.length - 1]!
      const ended = last.at + last.ms
      const customerService: ShownMessage[] = arrived.map((m) => ({ at: Math.max(0, m.at - sentAt), via: 'customer-service', text: m.text }))
      const timeline = (first: ShownMessage | undefined): ShownMessage[] =>
        [...(first ? [first] : []), ...customerService].sort((a, b) => a.at - b.at)
      if (!delivery.answer) {
        return {
          ok: false,
          ...base,
          reply: null,
          shown: FAILURE_NOTICE,
          warnings: delivery.problems,
          replyXml: delivery.reading?.replyXml ?? '',
          messages: timeline({ at: ended, via: 'notice', text: FAILURE_NOTICE }),
        }
      }
      const verdict = delivery.reading!
      const tries = delivery.attempts.length
      const earlier = delivery.attempts.slice(0, -1)
      // Attempts left open past 5 s and then an answer on a later one: a server holding attempts
      // on purpose (slowReply retry-window) so that WeChat retries — delivered, but counted.
      const held = tries > 1 && earlier.every((a) => a.error === 'timeout')
      const warnings = held ? delivery.problems.filter((p) => p.code !== 'TIMEOUT') : [...delivery.problems]
      if (held) {
        warnings.push(
          problem(
            'HELD',
            `${earlier.length === 1 ? 'Attempt 1 was' : `Attempts ${earlier.map((_, i) => i + 1).join(', ')} were`} held past 5 s and WeChat pushed again; the answer came on attempt ${tries} (how a retry-window strategy delivers a slow answer). Each held attempt counts as a failure in WeChat's alarms.`,
          ),
        )
      } else if (tries > 1) {
        warnings.push(
          problem(
            'RETRIED',
            `The answer came on attempt ${tries}: your server received this push ${tries} times. Deduplicate by MsgId (messages) or FromUserName + CreateTime (events).`,
          ),
        )
      }
      if (delivery.answer.ms > timeoutMs * SLOW_REPLY_RATIO) {
        warnings.push(
          problem(
            'SLOW_REPLY',
            `The answer took ${delivery.answer.ms} ms, within ${timeoutMs - delivery.answer.ms} ms of WeChat's ${timeoutMs} ms deadline: the latency between WeChat and your server will push it over. Answer by ~4.5 s.`,
          ),
        )
      }
      const shown = describeReply(verdict.reply)
      return {
        ok: true,
        ...base,
        reply: verdict.reply,
        shown,
        warnings,
        replyXml: verdict.replyXml,
        messages: timeline(shown === '' ? undefined : { at: ended, via: 'reply', text: shown }),
      }
    } finally {
      unsubscribe?.()
    }
  }

  return {
    mode,
    fromUserName,
    toUserName,
    mockApi,
    send,
    verify: () => verifyUrl({ url, token, timeoutMs, now }),
  }
}
