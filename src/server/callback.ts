/**
 * The callback URL's HTTP semantics, framework-free: the protocol's decision
 * ({@link readCallback}) composed with the dispatcher, turned into `{ status, headers, body }`.
 * This is the one place where a refusal's error code becomes an HTTP status and a body; adapters
 * (the Fastify plugin, serverless functions) only translate their request and response objects.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */
import { randomInt } from 'node:crypto'
import { readCallback, writeCallbackReply, type CallbackAccount, type EncryptionMode } from '../core/callback-protocol.js'
import { WxMpCrypto } from '../core/crypto.js'
import type { WxMpError, WxMpErrorCode } from '../core/errors.js'
import type { Message } from '../core/messages.js'
import { systemClock, type Clock } from './clock.js'
import type { ResolvedConfig } from './config.js'
import type { Dispatcher, DispatchResult, Outcome } from './dispatcher.js'
import type { Log } from './handlers.js'

/** The body limit of a push (WeChat's are a few KiB). */
export const BODY_LIMIT_BYTES = 64 * 1024

/** WeChat drops an attempt it has no answer to after this long, ms: a later answer is never seen. */
export const WECHAT_WAITS_MS = 5_000

/** A request as the callback sees it. */
export interface CallbackRequest {
  /** The HTTP method, upper case. */
  method: string
  /** The parsed query string. */
  query: Readonly<Record<string, unknown>>
  /**
   * The request headers. The protocol reads none of them (WeChat's authentication is in the
   * query); adapters may pass them through as they come.
   */
  headers?: Readonly<Record<string, string | string[] | undefined>>
  /** The raw body (POST). */
  body?: string | undefined
  /** When the request arrived (epoch ms); the reply deadline counts from it. Default: now. */
  receivedAt?: number | undefined
}

/** What to send back. `headers` always holds `content-type`; a 405 also `allow`. */
export interface CallbackResponse {
  status: number
  headers: Readonly<Record<string, string>>
  body: string
}

const TEXT = Object.freeze({ 'content-type': 'text/plain; charset=utf-8' })
const XML = Object.freeze({ 'content-type': 'application/xml; charset=utf-8' })
const SUCCESS: CallbackResponse = Object.freeze({ status: 200, headers: TEXT, body: 'success' })

/**
 * Status and body of every refusal. A body names the reason class and where to look, so a
 * person reading a proxy's log (or the emulator) is sent the right way; it holds no secret and
 * nothing an attacker could not see from the status. The full reason is in the server's log.
 */
const refusals: Record<WxMpErrorCode, { status: number; body: string }> = {
  METHOD_NOT_ALLOWED: { status: 405, body: 'method not allowed: the callback URL answers GET and POST' },
  PAYLOAD_TOO_LARGE: { status: 413, body: 'payload too large: WeChat pushes are a few KiB' },
  MISSING_PARAMETER: { status: 400, body: 'missing parameter: signature, timestamp and nonce are required' },
  INVALID_SIGNATURE: { status: 401, body: 'invalid signature: check WX_MP_TOKEN' },
  PLAIN_PUSH_REFUSED: { status: 401, body: 'plain push refused: this server requires safe mode' },
  STALE_TIMESTAMP: { status: 403, body: 'stale timestamp: check the server clock' },
  AES_KEY_MISSING: { status: 400, body: 'cannot decrypt: this server has no EncodingAESKey (WX_MP_AES_KEY)' },
  INVALID_CIPHERTEXT: { status: 400, body: 'cannot decrypt: check the EncodingAESKey and AppID' },
  BAD_PADDING: { status: 400, body: 'cannot decrypt: check the EncodingAESKey and AppID' },
  APPID_MISMATCH: { status: 400, body: 'cannot decrypt: check the EncodingAESKey and AppID' },
  INVALID_AES_KEY: { status: 400, body: 'cannot decrypt: check the EncodingAESKey and AppID' },
  MALFORMED_XML: { status: 400, body: 'malformed push: not a WeChat XML message' },
  DOCTYPE_FORBIDDEN: { status: 400, body: 'malformed push: DOCTYPE and entities are refused' },
  INVALID_REPLY: { status: 400, body: 'bad request' },
  INVALID_CONFIG: { status: 400, body: 'bad request' },
  INVALID_MESSAGE: { status: 400, body: 'bad request' },
  // The dispatcher answers store failures itself (onDedupError); this is only a last resort.
  STORE_UNAVAILABLE: { status: 503, body: 'shared store unavailable: check WX_MP_REDIS_URL' },
}

const refusalResponses = new Map<WxMpErrorCode, CallbackResponse>(
  Object.entries(refusals).map(([code, { status, body }]) => [
    code as WxMpErrorCode,
    Object.freeze({ status, headers: status === 405 ? Object.freeze({ ...TEXT, allow: 'GET, POST' }) : TEXT, body }),
  ]),
)

/**
 * The response that refuses a request for `code`: the one mapping of error codes to HTTP
 * statuses (400, 401, 403, 405, 413) and bodies. Adapters use it for refusals they detect
 * themselves (e.g. a body over the limit while it is still being read).
 */
export function refusalResponse(code: WxMpErrorCode): CallbackResponse {
  return refusalResponses.get(code) ?? refusalResponses.get('MALFORMED_XML')!
}

/** Options of {@link Callback}. */
export interface CallbackOptions {
  config: ResolvedConfig
  dispatcher: Dispatcher
  log: Log
  clock?: Clock
}

/**
 * Answers WeChat's requests to one account's callback URL: the protocol's checks
 * ({@link readCallback}), then the dispatcher, then the reply in the push's mode
 * ({@link writeCallbackReply}). Nothing is parsed and no handler runs before the signature holds.
 */
export class Callback {
  readonly #account: CallbackAccount
  readonly #dispatcher: Dispatcher
  readonly #log: Log
  readonly #clock: Clock
  #warnedNoKey = false

  constructor(options: CallbackOptions) {
    const { config } = options
    this.#dispatcher = options.dispatcher
    this.#log = options.log
    this.#clock = options.clock ?? systemClock
    const crypto =
      config.aesKey !== undefined && config.appId !== undefined
        ? new WxMpCrypto({ token: config.token, aesKey: config.aesKey, appId: config.appId, previousAesKeys: config.previousAesKeys })
        : undefined
    this.#account = {
      token: config.token,
      crypto,
      timestampToleranceS: config.timestampToleranceS,
      allowPlainPushes: config.allowPlainPushes,
      bodyLimitBytes: BODY_LIMIT_BYTES,
    }
  }

  /** `safe` when an AES key is configured (compatible mode is then handled too), else `plain`. */
  get mode(): Exclude<EncryptionMode, 'compat'> {
    return this.#account.crypto ? 'safe' : 'plain'
  }

  /**
   * Handles one request: at once when nothing needs waiting for (verification, refusals, a
   * handler that answers synchronously), else with a promise. Never throws, never rejects.
   */
  handle(request: CallbackRequest): CallbackResponse | Promise<CallbackResponse> {
    try {
      const receivedAt = request.receivedAt ?? this.#clock.now()
      const decision = readCallback(request, this.#account, this.#clock.now())
      if (decision.kind === 'refuse') return this.#refuse(decision.error)
      if (decision.kind === 'verify') {
        this.#log.info({ outcome: 'verified' }, 'URL verification passed')
        return { status: 200, headers: TEXT, body: decision.echostr }
      }
      if (decision.readFromPlaintext && !this.#warnedNoKey) {
        this.#warnedNoKey = true
        this.#log.warn('compatible-mode push handled from its plaintext: set WX_MP_AES_KEY and WX_MP_APPID to use the encrypted part')
      }
      const response = this.#dispatch(decision.message, decision.mode, receivedAt)
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

  #refuse(error: WxMpError): CallbackResponse {
    const response = refusalResponse(error.code)
    this.#log.warn(
      { outcome: 'rejected', status: response.status, code: error.code, reason: error.message },
      `push rejected: ${error.message}`,
    )
    return response
  }

  #dispatch(msg: Message, mode: EncryptionMode, receivedAt: number): CallbackResponse | Promise<CallbackResponse> {
    // The push's own logger (a child) is made only if the handler or a warning uses it; the one
    // line per push carries the same fields through the parent.
    const bindings = pushBindings(msg)
    // At debug, the push's line carries what the user wrote (never at info: it is their message).
    const text = this.#debug() ? textOf(msg) : undefined
    const result = this.#dispatcher.dispatch(msg, receivedAt, () => this.#log.child(bindings))
    return result instanceof Promise
      ? result.then((r) => this.#respond(r, bindings, mode, receivedAt, text))
      : this.#respond(result as DispatchResult, bindings, mode, receivedAt, text)
  }

  /**
   * Logs the push's one line and turns the dispatcher's answer into the response. An answer
   * written after WeChat stopped waiting (the event loop was blocked) is logged as `too-late`, a
   * warning: WeChat did not see it. A held attempt is released late on purpose and is not one.
   */
  #respond(result: DispatchResult, bindings: Record<string, unknown>, mode: EncryptionMode, receivedAt: number, text?: string): CallbackResponse {
    const now = this.#clock.now()
    const ms = now - receivedAt
    const fields = { ...bindings, mode, outcome: result.outcome as string, strategy: result.strategy, handlerMs: result.handlerMs, ms, text }
    if (ms >= WECHAT_WAITS_MS && result.outcome !== 'held') {
      fields.outcome = 'too-late'
      this.#log.warn(
        { ...fields, answered: result.outcome },
        `answered ${ms} ms after the push arrived: WeChat stops waiting at 5 s and did not see this answer (${outcomeText[result.outcome]}). ` +
          'Something blocked the event loop (synchronous work in a handler?)',
      )
    } else {
      this.#log.info(fields, outcomeText[result.outcome])
    }
    // A held attempt is released after WeChat dropped it: nobody reads this, and a "success" it
    // could mistake for an answer would end the retries.
    if (result.outcome === 'held') return { status: 200, headers: TEXT, body: '' }
    if (result.reply === null) return SUCCESS
    const body = writeCallbackReply(result.reply, mode, this.#account, {
      timestamp: Math.floor(now / 1000),
      nonce: String(randomInt(100_000_000, 9_999_999_999)),
    })
    return { status: 200, headers: XML, body }
  }

  /** Whether the logger writes debug lines (pino's `isLevelEnabled`; another logger: no). */
  #debug(): boolean {
    const log = this.#log as { isLevelEnabled?: (level: string) => boolean }
    return typeof log.isLevelEnabled === 'function' && log.isLevelEnabled('debug')
  }
}

/** The text of a push, when it has one: a text message's content, a voice message's recognition. */
function textOf(msg: Message): string | undefined {
  if (msg.msgType === 'text') return msg.content
  if (msg.msgType === 'voice') return msg.recognition
  return undefined
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
