/**
 * The callback URL's HTTP semantics, framework-free: URL verification (GET) and pushes (POST) in
 * plain, compatible and safe mode, turned into a status, a body and a content type. Adapters
 * (the Fastify plugin, serverless functions) only translate their request and response objects.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 * - https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 *
 * @module
 */
import { randomInt } from 'node:crypto'
import { WxMpCrypto } from '../core/crypto.js'
import { isWxMpError, type WxMpError } from '../core/errors.js'
import type { Message } from '../core/messages.js'
import { parseMessage } from '../core/parse.js'
import { checkSignature } from '../core/signature.js'
import { systemClock, type Clock } from './clock.js'
import type { ResolvedConfig } from './config.js'
import type { Dispatcher, DispatchResult, Outcome } from './dispatcher.js'
import type { Log } from './handlers.js'

/** A request as the callback sees it. */
export interface CallbackRequest {
  method: string
  query: Record<string, unknown>
  /** The raw body (POST). */
  body?: string
  /** When the request arrived (epoch ms); the reply deadline counts from it. Default: now. */
  receivedAt?: number
}

/** What to send back. */
export interface CallbackResponse {
  status: number
  body: string
  contentType: string
}

/** How a push was protected: 明文 (plain), 兼容 (compat) or 安全 (safe) mode. */
export type PushMode = 'plain' | 'compat' | 'safe'

const TEXT = 'text/plain; charset=utf-8'
const XML = 'application/xml; charset=utf-8'

const ok = (body: string, contentType = TEXT): CallbackResponse => ({ status: 200, body, contentType })
const SUCCESS = ok('success')

/**
 * Rejections: the body says no more than the status does, so it helps no attacker; the reason is
 * in the server's log.
 */
const rejection = {
  badRequest: { status: 400, body: 'bad request', contentType: TEXT },
  unauthorized: { status: 401, body: 'invalid signature', contentType: TEXT },
  stale: { status: 403, body: 'stale timestamp', contentType: TEXT },
  methodNotAllowed: { status: 405, body: 'method not allowed', contentType: TEXT },
} as const satisfies Record<string, CallbackResponse>

function param(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name]
  return typeof value === 'string' ? value : undefined
}

/** Options of {@link Callback}. */
export interface CallbackOptions {
  config: ResolvedConfig
  dispatcher: Dispatcher
  log: Log
  clock?: Clock
}

/**
 * Answers WeChat's requests to one account's callback URL.
 *
 * Order of checks for a push: signature (401) → timestamp freshness (403) → decryption and
 * parsing (400) → handler. Nothing is parsed and no handler runs before the signature holds.
 */
export class Callback {
  readonly #config: ResolvedConfig
  readonly #crypto: WxMpCrypto | undefined
  readonly #dispatcher: Dispatcher
  readonly #log: Log
  readonly #clock: Clock
  #warnedNoKey = false

  constructor(options: CallbackOptions) {
    const { config } = options
    this.#config = config
    this.#dispatcher = options.dispatcher
    this.#log = options.log
    this.#clock = options.clock ?? systemClock
    this.#crypto =
      config.aesKey !== undefined && config.appId !== undefined
        ? new WxMpCrypto({ token: config.token, aesKey: config.aesKey, appId: config.appId, previousAesKeys: config.previousAesKeys })
        : undefined
  }

  /** `safe` when an AES key is configured (compatible mode is then handled too), else `plain`. */
  get mode(): 'plain' | 'safe' {
    return this.#crypto ? 'safe' : 'plain'
  }

  /**
   * Handles one request: at once when nothing needs waiting for (verification, rejections, a
   * handler that answers synchronously), else with a promise. Never throws, never rejects.
   */
  handle(request: CallbackRequest): CallbackResponse | Promise<CallbackResponse> {
    try {
      if (request.method === 'GET' || request.method === 'HEAD') return this.#verifyUrl(request.query)
      if (request.method !== 'POST') return rejection.methodNotAllowed
      const response = this.#push(request)
      return response instanceof Promise ? response.catch((err: unknown) => this.#failed(err)) : response
    } catch (err) {
      return this.#failed(err)
    }
  }

  /** A bug of ours: WeChat would show the user an error for a 500; `success` shows nothing. */
  #failed(err: unknown): CallbackResponse {
    this.#log.error({ err }, 'unexpected error while answering a push; answered success')
    return SUCCESS
  }

  #isFresh(timestamp: string): boolean {
    const tolerance = this.#config.timestampToleranceS
    if (tolerance === 0) return true
    if (!/^\d{1,12}$/.test(timestamp)) return false
    return Math.abs(this.#clock.now() / 1000 - Number(timestamp)) <= tolerance
  }

  #reject(response: CallbackResponse, reason: string, details: Record<string, unknown> = {}): CallbackResponse {
    this.#log.warn({ outcome: 'rejected', status: response.status, reason, ...details }, `push rejected: ${reason}`)
    return response
  }

  #staleTimestamp(timestamp: string): CallbackResponse {
    const skewS = /^\d+$/.test(timestamp) ? Math.round(Number(timestamp) - this.#clock.now() / 1000) : undefined
    return this.#reject(
      rejection.stale,
      'timestamp outside the tolerance (a replay, or this server\'s clock is off: check NTP, or raise WX_MP_TIMESTAMP_TOLERANCE_S)',
      { skewS },
    )
  }

  #verifyUrl(query: Record<string, unknown>): CallbackResponse {
    const signature = param(query, 'signature')
    const timestamp = param(query, 'timestamp')
    const nonce = param(query, 'nonce')
    const echostr = param(query, 'echostr')
    if (signature === undefined || timestamp === undefined || nonce === undefined || echostr === undefined) {
      return this.#reject(rejection.badRequest, 'URL verification without signature, timestamp, nonce and echostr')
    }
    if (!checkSignature(this.#config.token, signature, timestamp, nonce)) {
      return this.#reject(rejection.unauthorized, 'URL verification signature does not match: WX_MP_TOKEN differs from the Token on the admin page')
    }
    if (!this.#isFresh(timestamp)) return this.#staleTimestamp(timestamp)
    this.#log.info({ outcome: 'verified' }, 'URL verification passed')
    return ok(echostr)
  }

  #push(request: CallbackRequest): CallbackResponse | Promise<CallbackResponse> {
    const receivedAt = request.receivedAt ?? this.#clock.now()
    const { query } = request
    const body = request.body ?? ''
    const timestamp = param(query, 'timestamp')
    const nonce = param(query, 'nonce')
    if (timestamp === undefined || nonce === undefined) {
      return this.#reject(rejection.badRequest, 'push without timestamp and nonce')
    }
    const encrypted = param(query, 'encrypt_type') === 'aes'
    let mode: PushMode = 'plain'
    let xml: string
    if (encrypted && this.#crypto) {
      const crypto = this.#crypto
      const msgSignature = param(query, 'msg_signature')
      if (msgSignature === undefined) return this.#reject(rejection.badRequest, 'encrypted push without msg_signature')
      let encrypt: string
      try {
        encrypt = crypto.readEncrypt(body)
      } catch (err) {
        return this.#reject(rejection.badRequest, describeError(err))
      }
      if (!crypto.verify(msgSignature, timestamp, nonce, encrypt)) {
        return this.#reject(rejection.unauthorized, 'msg_signature does not match: WX_MP_TOKEN differs from the Token on the admin page')
      }
      if (!this.#isFresh(timestamp)) return this.#staleTimestamp(timestamp)
      try {
        xml = crypto.decrypt(encrypt)
      } catch (err) {
        return this.#reject(rejection.badRequest, describeError(err))
      }
      mode = hasPlaintextFields(body) ? 'compat' : 'safe'
    } else {
      if (this.#crypto && !encrypted && !this.#config.allowPlainPushes) {
        // The URL signature does not cover the body: with a key configured, only encrypted pushes
        // are authentic (anyone who saw one push URL could otherwise forge plain ones).
        return this.#reject(
          rejection.unauthorized,
          'plain-mode push refused: WX_MP_AES_KEY is set, so only 兼容模式/安全模式 pushes are accepted. Switch the admin page to 安全模式, or unset WX_MP_AES_KEY for 明文模式 (WX_MP_ALLOW_PLAIN_PUSHES=1 accepts both while you switch)',
        )
      }
      const signature = param(query, 'signature')
      if (signature === undefined) return this.#reject(rejection.badRequest, 'push without signature')
      if (!checkSignature(this.#config.token, signature, timestamp, nonce)) {
        return this.#reject(rejection.unauthorized, 'signature does not match: WX_MP_TOKEN differs from the Token on the admin page')
      }
      if (!this.#isFresh(timestamp)) return this.#staleTimestamp(timestamp)
      if (encrypted) {
        // Encrypted push, but no key configured: compatible mode still carries the plaintext.
        if (!hasPlaintextFields(body)) {
          return this.#reject(rejection.badRequest, 'safe-mode push but WX_MP_AES_KEY is not set: set WX_MP_AES_KEY and WX_MP_APPID')
        }
        if (!this.#warnedNoKey) {
          this.#warnedNoKey = true
          this.#log.warn('compatible-mode push handled from its plaintext: set WX_MP_AES_KEY and WX_MP_APPID to use the encrypted part')
        }
        mode = 'compat'
      }
      xml = body
    }

    let msg: Message
    try {
      msg = parseMessage(xml)
    } catch (err) {
      return this.#reject(rejection.badRequest, describeError(err), { mode })
    }

    // The push's own logger (a child) is made only if the handler or a warning uses it; the one
    // line per push carries the same fields through the parent.
    const bindings = pushBindings(msg)
    const result = this.#dispatcher.dispatch(msg, receivedAt, () => this.#log.child(bindings))
    return result instanceof Promise
      ? result.then((r) => this.#respond(r, bindings, mode, receivedAt))
      : this.#respond(result as DispatchResult, bindings, mode, receivedAt)
  }

  /** Logs the push's one line and turns the dispatcher's answer into the response. */
  #respond(result: DispatchResult, bindings: Record<string, unknown>, mode: PushMode, receivedAt: number): CallbackResponse {
    this.#log.info(
      { ...bindings, mode, outcome: result.outcome, strategy: result.strategy, handlerMs: result.handlerMs, ms: this.#clock.now() - receivedAt },
      describeOutcome(result.outcome),
    )
    // A held attempt is released after WeChat dropped it: nobody reads this, and a "success" it
    // could mistake for an answer would end the retries.
    if (result.outcome === 'held') return ok('')
    if (result.reply === null) return SUCCESS
    if (mode === 'plain' || !this.#crypto) return ok(result.reply, XML)
    const envelope = this.#crypto.encryptMessage(result.reply, {
      timestamp: Math.floor(this.#clock.now() / 1000),
      nonce: String(randomInt(100_000_000, 9_999_999_999)),
    })
    return ok(envelope, XML)
  }
}

function hasPlaintextFields(body: string): boolean {
  return body.includes('<MsgType>')
}

function describeError(err: unknown): string {
  if (isWxMpError(err)) return `${(err as WxMpError).code}: ${err.message}`
  return String(err)
}

function pushBindings(msg: Message): Record<string, unknown> {
  const bindings: Record<string, unknown> = { msgType: msg.msgType, from: msg.fromUserName }
  if (msg.msgType === 'event') {
    bindings['event'] = msg.event
  } else {
    const msgId = (msg as { msgId?: unknown }).msgId
    if (msgId !== undefined) bindings['msgId'] = msgId
  }
  return bindings
}

const outcomeText: Record<Outcome, string> = {
  reply: 'replied',
  success: 'answered success (no reply)',
  deadline: 'answered success at the deadline; the handler is still running',
  held: 'attempt held open so that WeChat retries (retry-window); the handler is still running',
  placeholder: 'answered the placeholder at the deadline; the answer waits for the user\'s next message',
  'pending-delivered': 'answered with an answer that was waiting for this user',
  duplicate: 'retry of a push already handled; answered from its result',
  error: 'handler failed; answered without its reply',
}

function describeOutcome(outcome: Outcome): string {
  return outcomeText[outcome]
}
