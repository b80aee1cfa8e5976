/**
 * Template messages (模板消息): notifications outside the 48-hour customer-service window, from a
 * template chosen in the admin console.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/notify/template/api_sendtemplatemessage.html
 *
 * @module
 */
import type { CallApi } from './client.js'

/** A template field value: a string, or `{ value, color? }` as the API takes it. */
export type TemplateDataValue = string | { value: string; color?: string }

/** Arguments of {@link TemplateApi.send}. */
export interface TemplateMessage {
  /** Recipient OpenID. */
  toUser: string
  /** Template ID from the admin console (模板ID). */
  templateId: string
  /** Keys are the template's placeholders (`{{thing1.DATA}}` → `thing1`). */
  data: Record<string, TemplateDataValue>
  /** Page opened when the user taps the message. */
  url?: string
  /** Mini-program page opened instead of `url` (when the client supports it). */
  miniprogram?: { appId: string; pagePath?: string }
  /** Idempotency key: WeChat drops a second message with the same `client_msg_id`. */
  clientMsgId?: string
}

/**
 * `api.template`: template messages.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/notify/template/api_sendtemplatemessage.html
 */
export class TemplateApi {
  readonly #call: CallApi

  /** @internal Created by {@link WxMpApi}. */
  constructor(call: CallApi) {
    this.#call = call
  }

  /**
   * Sends a template message (`POST /cgi-bin/message/template/send`). Resolves with WeChat's
   * `msgid`, as a string (it is a 64-bit integer). Not retried on network errors unless you pass
   * `clientMsgId`, which makes a repeat harmless.
   *
   * @example
   * ```ts
   * const { msgId } = await api.template.send({
   *   toUser: openId,
   *   templateId: 'TEMPLATE_ID',
   *   data: { thing1: 'Order shipped', time2: '2024-05-01 12:00' },
   *   url: 'https://example.com/orders/42',
   * })
   * ```
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/notify/template/api_sendtemplatemessage.html
   */
  async send(message: TemplateMessage): Promise<{ msgId: string }> {
    for (const field of ['toUser', 'templateId'] as const) {
      if (typeof message?.[field] !== 'string' || message[field] === '') {
        throw new TypeError(`wx-mp-svr: template.send needs a non-empty ${field}`)
      }
    }
    if (typeof message.data !== 'object' || message.data === null) throw new TypeError('wx-mp-svr: template.send needs a data object')
    const data = Object.fromEntries(
      Object.entries(message.data).map(([k, v]) => [k, typeof v === 'string' ? { value: v } : v]),
    )
    const json: Record<string, unknown> = { touser: message.toUser, template_id: message.templateId }
    if (message.url !== undefined) json['url'] = message.url
    if (message.miniprogram !== undefined) {
      json['miniprogram'] = { appid: message.miniprogram.appId, ...(message.miniprogram.pagePath !== undefined ? { pagepath: message.miniprogram.pagePath } : {}) }
    }
    if (message.clientMsgId !== undefined) json['client_msg_id'] = message.clientMsgId
    json['data'] = data
    const body = await this.#call('POST', '/cgi-bin/message/template/send', {
      json,
      idempotent: message.clientMsgId !== undefined,
    })
    return { msgId: String(body['msgid'] ?? '') }
  }
}
