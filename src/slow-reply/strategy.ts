/**
 * How an answer that takes longer than WeChat's 5 seconds reaches the user, and the words the kit
 * says to the user meanwhile.
 *
 * WeChat waits 5 s per attempt and tries 3 times (≈ 0 / 5 / 10 s, same query string), then shows
 * "该公众号暂时无法提供服务". Unverified and personal accounts cannot use the customer-service
 * (客服) API (errcode 48001); verified ones may send 5 messages per 48 h after a user message.
 *
 * Official reference (passive replies, the 5-second rule and the retries):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */

/** The slow-reply strategies (`slowReply` option, `WX_MP_SLOW_REPLY`, CLI `--slow-reply`). */
export const slowReplyStrategies = ['auto', 'retry-window', 'next-message', 'customer-service', 'success'] as const

/**
 * - `retry-window`: hold WeChat's attempts 1 and 2 open while the handler runs and answer on the
 *   attempt that has the result (a handler done within ~14 s is a passive reply); the last attempt
 *   falls back to `next-message`.
 * - `next-message`: answer a placeholder at the deadline; the user's next push gets the answer.
 * - `customer-service`: answer `success` at the deadline and send the answer with the 客服 API
 *   (needs the AppSecret and the permission); what cannot be sent waits for the next message.
 * - `success`: answer `success` at the deadline and hand the late result to `lateReply`.
 * - `auto` (default): `customer-service` when an AppSecret is set and the account has not
 *   answered 48001, else `retry-window` — switching to `next-message` while too many attempts are
 *   held (WeChat counts each as a failure in its alarms).
 */
export type SlowReplyStrategy = (typeof slowReplyStrategies)[number]

/** A strategy with `auto` decided. */
export type EffectiveStrategy = Exclude<SlowReplyStrategy, 'auto'>

/** Whether a value names a strategy. */
export function isSlowReplyStrategy(value: unknown): value is SlowReplyStrategy {
  return typeof value === 'string' && (slowReplyStrategies as readonly string[]).includes(value)
}

/**
 * Texts that only fetch a pending answer (after trimming; an empty text too). Anything else is a
 * new question: it gets the pending answer and is handled as well.
 */
export const defaultFetchWords: readonly string[] = ['继续', '1', '?', '？', '']

/** What the kit says to the user on its own; each text fits one passive reply. */
export interface SlowReplyTexts {
  placeholder: string
  working: (seconds: number) => string
  nothingPending: string
  newQuestionQueued: string
  partForNextMessage: (index: number, total: number) => string
  partForKefu: (index: number, total: number) => string
  kefuQuotaLeft: (parts: number) => string
  gaveUp: (seconds: number) => string
  dropped: string
  truncated: string
}

/** The default texts (Chinese: what the users of a 公众号 read). */
export const defaultSlowReplyTexts: SlowReplyTexts = {
  /** The placeholder answered at the deadline under `next-message`. */
  placeholder: '回答正在准备中，请稍后回复任意内容（如“继续”）获取。',
  /** A fetch while the oldest answer is still in the works. */
  working: (seconds: number): string => `回答还在准备中（已 ${seconds} 秒），请稍后回复任意内容（如“继续”）获取。`,
  /** A fetch with nothing pending. */
  nothingPending: '没有待领取的回答。',
  /** Appended when a new question arrived together with a fetch of an older answer. */
  newQuestionQueued: '（你的新消息已收到，回答准备好后回复任意内容获取。）',
  /** Marks a part of a long answer that waits for the next message. */
  partForNextMessage: (index: number, total: number): string => `（${index}/${total}）回复任意内容继续`,
  /** Marks a part of a long answer sent through the customer-service API. */
  partForKefu: (index: number, total: number): string => `（${index}/${total}）`,
  /** The last customer-service message when the quota leaves parts for the next message. */
  kefuQuotaLeft: (parts: number): string => `还有 ${parts} 段回答，回复任意内容获取。`,
  /** Told on the next push when a handler ran past the job timeout. */
  gaveUp: (seconds: number): string => `抱歉，上一个问题超过 ${seconds} 秒仍未处理完，已放弃。请重新提问。`,
  /** Told when an answer did not fit the pending-answer bounds. */
  dropped: '抱歉，待领取的回答太多，有一个回答未能保存，请重新提问。',
  /** Appended to the last kept part when an answer was cut to fit the per-user bound. */
  truncated: '（回答过长，其余部分已省略。）',
}
