/**
 * Where an answer goes when no passive reply can carry it: the user's queue of pending answers,
 * or the customer-service API (whatever it cannot send falls back to the queue). Every outcome is
 * logged with where the answer went: `pending`, `kefu-sent`, `kefu-failed → pending`.
 *
 * @module
 */
import type { ReplyMessage } from '../core/reply.js'
import type { Log } from '../server/handlers.js'
import { withNote } from './answer-parts.js'
import type { KefuChannel } from './kefu.js'
import type { PendingAnswers } from './pending-answers.js'
import type { SlowReplyTexts } from './strategy.js'

/** Whose answer it is, and where to log. */
export interface DeliveryTarget {
  user: string
  log: () => Log
}

const kefuFixes: Record<string, string> = {
  'no-permission': 'errcode 48001: this account has no customer-service permission (unverified or personal); use slowReply "retry-window" or "auto"',
  'window-closed': 'errcode 45015: the user has not written within 48 h (or unfollowed)',
  quota: 'the 5-per-48 h customer-service quota is spent',
  failed: 'the customer-service API failed',
}

/** One account's delivery of answers outside passive replies. */
export class AnswerDelivery {
  readonly #pending: PendingAnswers
  readonly #kefu: KefuChannel | undefined
  readonly #texts: SlowReplyTexts

  constructor(options: { pending: PendingAnswers; kefu: KefuChannel | undefined; texts: SlowReplyTexts }) {
    this.#pending = options.pending
    this.#kefu = options.kefu
    this.#texts = options.texts
  }

  /** Marks each part but the last with its number, as the channel words it. */
  mark(parts: readonly ReplyMessage[], channel: 'queue' | 'kefu'): ReplyMessage[] {
    if (parts.length <= 1) return [...parts]
    const t = this.#texts
    return parts.map((p, i) =>
      i === parts.length - 1 ? p : withNote(p, channel === 'kefu' ? t.partForKefu(i + 1, parts.length) : t.partForNextMessage(i + 1, parts.length)),
    )
  }

  #notices(): { truncated: string; dropped: string } {
    return { truncated: this.#texts.truncated, dropped: this.#texts.dropped }
  }

  /** Keeps `parts` for the user's next message (in the entry `jobId` opened for them, if any). */
  async toQueue(target: DeliveryTarget, parts: readonly ReplyMessage[], jobId?: string): Promise<void> {
    const { user, log } = target
    try {
      const filled = jobId !== undefined ? await this.#pending.fill(user, jobId, parts, this.#notices()) : await this.#pending.add(user, parts, this.#notices())
      if (filled.dropped > 0) {
        log().warn({ from: user, dropped: filled.dropped, kept: filled.kept }, 'pending answers over their bound: parts dropped (the user is told)')
      }
      log().info({ from: user, parts: filled.kept, delivery: 'pending' }, "answer waits for the user's next message")
    } catch (err) {
      log().error({ err, from: user }, 'store failed to keep the answer for the next message: the answer is lost')
    }
  }

  /** Sends `parts` as 客服 messages; what cannot be sent waits for the next message. */
  async toKefu(target: DeliveryTarget, parts: readonly ReplyMessage[]): Promise<void> {
    const { user, log } = target
    if (this.#kefu === undefined) return this.toQueue(target, parts)
    let result
    try {
      result = await this.#kefu.send(user, parts, (n) => this.#texts.kefuQuotaLeft(n))
    } catch (err) {
      result = { sent: 0, rest: [...parts], failure: 'failed' as const, error: err }
    }
    if (result.rest.length === 0) {
      log().info({ from: user, parts: result.sent, delivery: 'kefu-sent' }, 'answer sent with the customer-service API')
      return
    }
    log().warn(
      { from: user, sent: result.sent, rest: result.rest.length, delivery: 'kefu-failed → pending', err: result.error },
      `${kefuFixes[result.failure ?? 'failed']}; the rest waits for the user's next message`,
    )
    await this.toQueue(target, result.rest)
  }

  /** Closes a waiting entry whose handler had nothing to say. */
  async close(target: DeliveryTarget, jobId: string): Promise<void> {
    try {
      await this.#pending.fill(target.user, jobId, [], this.#notices())
    } catch (err) {
      target.log().warn({ err }, 'store failed to close a pending answer')
    }
  }
}
