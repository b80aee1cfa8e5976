/**
 * Sending answers with the customer-service (客服) API, within WeChat's rules: 5 messages per
 * 48 h after a user message, 3 within a minute after a menu click, a subscribe or a scan; the
 * typing indicator only within 30 s of the user's message. A ledger per user in the shared store
 * keeps the count; what cannot be sent is handed back, never lost.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 *
 * @module
 */
import type { Message } from '../core/messages.js'
import type { ReplyMessage } from '../core/reply.js'
import type { StoreKeys } from '../store/keys.js'
import type { WxMpStore } from '../store/store.js'

/** What the channel needs of the API client (`WxMpApi` fits). */
export interface KefuApi {
  sendCustomMessage(openId: string, message: string | { msgType: 'image' | 'voice'; mediaId: string }): Promise<void>
  setTyping(openId: string, on: boolean): Promise<void>
}

/** Why a customer-service send stopped. */
export type KefuFailure = 'no-permission' | 'window-closed' | 'quota' | 'failed'

/** What {@link KefuChannel.send} did. */
export interface KefuSendResult {
  /** Parts sent. */
  sent: number
  /** Parts not sent (in order): they go to the pending queue. */
  rest: ReplyMessage[]
  /** Why it stopped early, when it did. */
  failure?: KefuFailure
  /** The error behind a failure. */
  error?: unknown
}

const HOUR = 3_600_000
/** Quota after a user message: 5 within 48 h (since 2023; older documents say 20). */
export const KEFU_AFTER_MESSAGE = { limit: 5, windowMs: 48 * HOUR } as const
/** Quota after a menu click, a subscribe or a scan: 3 within 1 minute. */
export const KEFU_AFTER_EVENT = { limit: 3, windowMs: 60_000 } as const
/** How long a 48001 (no permission) is remembered before the API is tried again. */
const DENIED_FOR_MS = 24 * HOUR

/** An OpenID no user has: the permission probe writes to nobody. */
const PROBE_OPENID = 'wx-mp-svr-permission-probe'

const QUOTA_EVENTS: ReadonlySet<string> = new Set(['CLICK', 'subscribe', 'SCAN', 'scancode_waitmsg'])

function errcodeOf(err: unknown): number | undefined {
  const code = (err as { errcode?: unknown } | null)?.errcode
  return typeof code === 'number' ? code : undefined
}

/** The failure class of an API error. */
export function classifyKefuError(err: unknown): KefuFailure {
  switch (errcodeOf(err)) {
    case 48001:
      return 'no-permission'
    case 45015:
      return 'window-closed'
    case 45047:
      return 'quota'
    default:
      return 'failed'
  }
}

/** One account's customer-service channel. */
export class KefuChannel {
  readonly #api: KefuApi
  readonly #store: WxMpStore
  readonly #keys: StoreKeys

  constructor(options: { api: KefuApi; store: WxMpStore; keys: StoreKeys }) {
    this.#api = options.api
    this.#store = options.store
    this.#keys = options.keys
  }

  /** Opens the user's quota window for a push that allows customer-service messages. */
  noteInteraction(msg: Message): ReturnType<WxMpStore['set']> | undefined {
    if (msg.msgType !== 'event') {
      return this.#store.set(this.#keys.key('quota', 'message', msg.fromUserName), String(KEFU_AFTER_MESSAGE.limit), KEFU_AFTER_MESSAGE.windowMs)
    }
    if (QUOTA_EVENTS.has(msg.event)) {
      return this.#store.set(this.#keys.key('quota', 'event', msg.fromUserName), String(KEFU_AFTER_EVENT.limit), KEFU_AFTER_EVENT.windowMs)
    }
    return undefined
  }

  /** Whether the account answered 48001 lately (remembered in the store for a day). */
  async denied(): Promise<boolean> {
    return (await this.#store.get(this.#keys.key('capability', 'kefu'))) === 'denied'
  }

  async #deny(): Promise<void> {
    await this.#store.set(this.#keys.key('capability', 'kefu'), 'denied', DENIED_FOR_MS)
  }

  /** Takes one message from the user's quota; false when none is left. */
  async #takeQuota(user: string): Promise<boolean> {
    for (const kind of ['event', 'message'] as const) {
      const key = this.#keys.key('quota', kind, user)
      if ((await this.#store.get(key)) === undefined) continue
      if ((await this.#store.add(key, -1, KEFU_AFTER_EVENT.windowMs)) >= 0) return true
    }
    return false
  }

  /** Parts this user's quota still allows (without taking them). */
  async remaining(user: string): Promise<number> {
    let n = 0
    for (const kind of ['event', 'message'] as const) {
      const value = await this.#store.get(this.#keys.key('quota', kind, user))
      if (value !== undefined) n += Math.max(0, Number.parseInt(value, 10) || 0)
    }
    return n
  }

  async #spend(user: string): Promise<void> {
    for (const kind of ['event', 'message'] as const) await this.#store.expire(this.#keys.key('quota', kind, user), 1)
  }

  /**
   * Asks WeChat whether the account may use the customer-service API at all, without writing to
   * anyone: a `CancelTyping` for an OpenID that does not exist answers 48001 when the permission
   * is missing, and another error (invalid OpenID) when it is there. Remembers a 48001.
   */
  async probe(): Promise<'allowed' | 'denied' | 'unknown'> {
    try {
      await this.#api.setTyping(PROBE_OPENID, false)
      return 'allowed'
    } catch (err) {
      const code = errcodeOf(err)
      if (code === 48001) {
        await this.#deny()
        return 'denied'
      }
      // WeChat answered, about the OpenID: the permission is there. No answer at all: unknown.
      return code === undefined || code === -1 ? 'unknown' : 'allowed'
    }
  }

  /** Shows the typing indicator; failures only matter for what they teach (48001). */
  async typing(user: string): Promise<KefuFailure | undefined> {
    try {
      await this.#api.setTyping(user, true)
      return undefined
    } catch (err) {
      const failure = classifyKefuError(err)
      if (failure === 'no-permission') await this.#deny()
      return failure
    }
  }

  /**
   * Sends `parts` in order while the quota lasts. When the quota cannot take them all, the last
   * message sent says how many parts wait for the user's next message (`quotaNote`).
   */
  async send(user: string, parts: readonly ReplyMessage[], quotaNote: (rest: number) => string): Promise<KefuSendResult> {
    const allowed = await this.remaining(user)
    let sent = 0
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!
      const restAfter = parts.length - i - 1
      // The last message the quota allows carries the note about the rest.
      const lastAllowed = sent + 1 >= allowed && restAfter > 0
      const message = toCustomMessage(lastAllowed && part.msgType === 'text' ? { msgType: 'text', content: `${part.content}\n\n${quotaNote(restAfter)}` } : part)
      if (message === undefined || !(await this.#takeQuota(user))) {
        return { sent, rest: parts.slice(i), failure: message === undefined ? 'failed' : 'quota' }
      }
      try {
        await this.#api.sendCustomMessage(user, message)
        sent++
      } catch (err) {
        const failure = classifyKefuError(err)
        if (failure === 'no-permission') await this.#deny()
        if (failure === 'quota' || failure === 'window-closed') await this.#spend(user)
        return { sent, rest: parts.slice(i), failure, error: err }
      }
      if (lastAllowed) return { sent, rest: parts.slice(i + 1), failure: 'quota' }
    }
    return { sent, rest: [] }
  }
}

/** A reply as a customer-service message, for the kinds both have in the same shape. */
function toCustomMessage(reply: ReplyMessage): string | { msgType: 'image' | 'voice'; mediaId: string } | undefined {
  if (reply.msgType === 'text') return reply.content
  if (reply.msgType === 'image' || reply.msgType === 'voice') return { msgType: reply.msgType, mediaId: reply.mediaId }
  return undefined
}
