/**
 * What a bot author writes: the handler callbacks and the context they receive.
 *
 * Official reference (passive replies and the 5-second rule):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import type { Message, NormalMessage, SubscribeEvent, WxEvent } from '../core/messages.js'
import type { Reply, ReplyMessage } from '../core/reply.js'

/** A value or a promise of it. */
export type MaybePromise<T> = T | PromiseLike<T>

/** What a handler returns: a string (text), a reply object, or nothing (WeChat gets `success`). */
export type HandlerResult = Reply | void | undefined | null

type LogFn = (objOrMsg: unknown, msg?: string) => void

/** The logger interface the kit uses; pino's (and Fastify's) logger fits it. */
export interface Log {
  debug: LogFn
  info: LogFn
  warn: LogFn
  error: LogFn
  child(bindings: Record<string, unknown>): Log
}

/** What every handler receives besides the message. */
export interface HandlerContext {
  /** A child logger bound to this push (message id or event, user). */
  log: Log
  /**
   * Aborted when nobody will use the handler's answer any more: when the kit gives the run up
   * (`jobTimeoutMs`, default 120 s) — slow answers still reach the user, so pass it to `fetch` or
   * your LLM client without fear of cutting them — or, under `slowReply: 'success'` without a
   * `lateReply`, at the reply deadline.
   */
  signal: AbortSignal
  /** The account's AppID, when configured. */
  appId: string | undefined
  /** The reply deadline (epoch ms): an answer by then is a passive reply; later, the slow-reply strategy delivers it. */
  deadline: number
}

/** An event other than `subscribe` (which goes to `onSubscribe`). */
export type OtherEvent = Exclude<WxEvent, SubscribeEvent>

/**
 * The callbacks of a bot. Each may return a string (a text reply), a reply object
 * (`{ msgType: 'image', mediaId }`, …, see {@link Reply}), or nothing (`success`: the user sees
 * nothing), synchronously or as a promise.
 *
 * @example
 * ```ts
 * export const onMessage: OnMessage = (msg) => msg.msgType === 'text' ? msg.content : undefined
 * export const onSubscribe: OnSubscribe = () => '欢迎关注！'
 * ```
 */
export interface Handlers {
  /** Every ordinary (non-event) message: text, image, voice, video, shortvideo, location, link and unknown kinds. */
  onMessage?: (message: NormalMessage, ctx: HandlerContext) => MaybePromise<HandlerResult>
  /** `subscribe` events, including subscribes through a parametric QR code (`qrScene`). */
  onSubscribe?: (event: SubscribeEvent, ctx: HandlerContext) => MaybePromise<HandlerResult>
  /** Every other event (menu clicks, SCAN, LOCATION, unsubscribe, job results, …). Absent: `success`. */
  onEvent?: (event: OtherEvent, ctx: HandlerContext) => MaybePromise<HandlerResult>
  /**
   * Called when a handler throws (or returns a reply that cannot be rendered). It may return an
   * apology reply; by default the user sees nothing (`success`). The error is logged either way.
   */
  onError?: (error: unknown, message: Message) => MaybePromise<HandlerResult>
}

/**
 * A handler result that arrived after the reply deadline, when WeChat had already been answered
 * `success` and no retry was waiting for it.
 *
 * This is the seam for delivery strategies: push it with the customer-service API
 * (`api.sendCustomMessage(late.message.fromUserName, late.reply)`), keep it for the user's next
 * message, and so on. WeChat does not retry a push it was answered `success` for, so this is the
 * answer's only way to the user.
 */
export interface LateReply {
  /** The push that was answered late. */
  message: Message
  /** The handler's reply, normalised (a string became `{ msgType: 'text' }`); `null` when it returned nothing. */
  reply: ReplyMessage | null
  /** The rendered plaintext reply XML, or `null`. */
  xml: string | null
  /** How long the handler ran, in ms. */
  handlerMs: number
  /** How long after the deadline it finished, in ms. */
  lateByMs: number
  /** The account's AppID, when configured. */
  appId: string | undefined
  /** The push's logger. */
  log: Log
}

/** Receives {@link LateReply}s; errors it throws (or rejects with) are logged, never crash the server. */
export type LateReplyHandler = (late: LateReply) => MaybePromise<void>

/** `onMessage`, named: `export const onMessage: OnMessage = (msg, ctx) => …`. */
export type OnMessage = NonNullable<Handlers['onMessage']>
/** `onSubscribe`, named. */
export type OnSubscribe = NonNullable<Handlers['onSubscribe']>
/** `onEvent`, named. */
export type OnEvent = NonNullable<Handlers['onEvent']>
/** `onError`, named. */
export type OnError = NonNullable<Handlers['onError']>
