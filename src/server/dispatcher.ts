/**
 * Runs a bot's handler once per push, however often WeChat retries and whichever instance each
 * attempt reaches, answers every attempt within its deadline, and gets every answer to the user
 * however slow — in the attempt that has it, through the retry window, with the user's next
 * message, or with the customer-service API (the slow-reply strategies).
 *
 * All shared state (dedup records, attempt counts, pending answers, the quota ledger, the alarm
 * counter) goes through the one store contract; the in-memory store answers at once, which lets
 * a push whose handler also answers at once be served without a promise, a timer or an abort
 * controller.
 *
 * Official reference (5-second rule, 3 attempts, 消息排重):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { Message, NormalMessage, SubscribeEvent } from '../core/messages.js'
import { renderReply, type ReplyMessage } from '../core/reply.js'
import { AnswerDelivery } from '../slow-reply/answer-delivery.js'
import { answerParts, withNote } from '../slow-reply/answer-parts.js'
import { HeldAlarm } from '../slow-reply/held-alarm.js'
import { KefuChannel, type KefuApi } from '../slow-reply/kefu.js'
import { PendingAnswers } from '../slow-reply/pending-answers.js'
import { defaultFetchWords, defaultSlowReplyTexts, type EffectiveStrategy, type SlowReplyStrategy, type SlowReplyTexts } from '../slow-reply/strategy.js'
import { StoreKeys } from '../store/keys.js'
import { MemoryStore } from '../store/memory-store.js'
import { isThenable, type WxMpStore } from '../store/store.js'
import { settleBy, systemClock, type Clock } from './clock.js'
import { DeadlineAbort } from './deadline-abort.js'
import { dedupParts } from './dedup-key.js'
import { decodeRecord, encodeDone, encodeFallback, encodePending, type Fallback } from './dedup-record.js'
import type { HandlerContext, HandlerResult, Handlers, LateReplyHandler, Log, MaybePromise, OtherEvent } from './handlers.js'

/**
 * How a push was answered; one word in the push's log line.
 * - `reply`: the handler's answer, in time; `success`: the handler answered nothing.
 * - `held`: the attempt was left unanswered so that WeChat retries (`retry-window`).
 * - `placeholder`: the placeholder text; the answer waits for the user's next message.
 * - `pending-delivered`: the push got an answer that was waiting for it.
 * - `deadline`: `success` at the deadline; the answer goes by 客服 or to `lateReply`.
 * - `duplicate`: a retry, answered from the push's first answer.
 * - `error`: the handler failed (answered by `onError`, or `success`).
 */
export type Outcome = 'reply' | 'success' | 'held' | 'placeholder' | 'pending-delivered' | 'deadline' | 'duplicate' | 'error'

/** The dispatcher's answer to one push. */
export interface DispatchResult {
  /** Plaintext reply XML, or `null` for `success`. */
  reply: string | null
  outcome: Outcome
  /** How long the handler ran (only when this push ran it and it finished in time). */
  handlerMs?: number
  /** The strategy that answered a push whose handler was not done by the deadline. */
  strategy?: EffectiveStrategy
}

/** What the store failing means for a push. */
export type DedupFailurePolicy = 'run' | 'success'

/**
 * Whether work may go on after a response is sent: `allowed` on a server (and on platforms with
 * `waitUntil`); `none` on functions frozen once they answer, where the attempt that runs the
 * handler holds its own request open until the handler is done.
 */
export type BackgroundWork = 'allowed' | 'none'

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  handlers: Handlers
  log: Log
  appId: string | undefined
  replyTimeoutMs: number
  /** All shared state. Default: a {@link MemoryStore}. */
  store?: WxMpStore
  /** The key layout (prefix and account). Default `wxmp` and the AppID. */
  keys?: StoreKeys
  /**
   * How long a finished push is remembered, ms: a replayed push within the timestamp tolerance
   * must be a retry, never a second run. Default: the tolerance plus a minute (6 min).
   */
  dedupTtlMs?: number
  /**
   * When the store fails (a shared store is down): `'run'` (default) runs the handler anyway,
   * risking a double run on a retry; `'success'` answers `success` without running it.
   */
  onDedupError?: DedupFailurePolicy
  /** Default `auto`. */
  slowReply?: SlowReplyStrategy
  /** Texts the kit says to the user; `placeholder` is `slowReplyPlaceholder`. */
  texts?: Partial<SlowReplyTexts>
  /** Texts that only fetch a pending answer. Default `继续`, `1`, `?`, `？` and empty. */
  fetchWords?: readonly string[]
  /** The customer-service API (a `WxMpApi`), when an AppSecret is configured. */
  kefuApi?: KefuApi
  /** A handler still running after this long is given up, ms. Default 120 000. */
  jobTimeoutMs?: number
  /** How long an answer waits for the user's next message, ms. Default 30 min. */
  pendingTtlMs?: number
  /** Bound on one user's waiting answers, bytes. Default 64 KiB. */
  pendingMaxBytesPerUser?: number
  /** Bound on all waiting answers, bytes. Default 8 MiB. */
  pendingMaxBytesTotal?: number
  /** Held attempts per 5 minutes above which `auto` stops holding. Default 20. */
  heldAlarmThreshold?: number
  /** Default `allowed`. */
  background?: BackgroundWork
  /** Receives answers that finished after the deadline under the `success` strategy. */
  lateReply?: LateReplyHandler
  /**
   * Told of every piece of work that may outlive the response it began with (a handler run and
   * its delivery, a wait for another instance): a serverless adapter hands it to `waitUntil`, or
   * awaits it before answering where nothing runs after the response.
   */
  onBackground?: (work: Promise<unknown>) => void
  clock?: Clock
}

/** A finished handler run, rendered. */
interface RunResult {
  /** The reply as the handler gave it (normalised), or `null`. */
  reply: ReplyMessage | null
  /** The messages that carry it (a long text is several); empty for `null`. */
  parts: ReplyMessage[]
  /** The first part rendered as the passive reply, or `null`. */
  xml: string | null
  handlerMs: number
  failed: boolean
  /** Given up after the job timeout. */
  gaveUp?: boolean
}

/** A push being handled in this process. */
interface Run {
  key: string
  user: string
  msg: Message
  firstAt: number
  /** The dedup record this run claimed (compare-and-set against it). */
  claimed: string
  done: Promise<RunResult>
  result?: RunResult
  /** Decided locally: where the answer goes. */
  fallback?: Fallback
  /** The pending-queue entry opened for the answer. */
  jobId?: string
  /** Whether some attempt answered with the result. */
  answered: boolean
  /** Attempts waiting for the result right now. */
  waiting: number
  /** When the run started; and its logger. */
  log: () => Log
}

/** Makes the push's logger at most once, when first used. */
function lazyLog(log: Log | (() => Log)): () => Log {
  if (typeof log !== 'function') return () => log
  let made: Log | undefined
  return () => (made ??= log())
}

const SUCCESS_RESULT: DispatchResult = Object.freeze({ reply: null, outcome: 'success' })

/** WeChat drops an attempt at 5 s: a held attempt is released just after. */
const HOLD_MS = 5_500
/** An arrival this long after the first is WeChat's last attempt (they come at ≈ 0 / 5 / 10 s). */
const FINAL_ATTEMPT_AFTER_MS = 9_000
/** After this long no attempt of WeChat's can carry an answer any more. */
const RETRY_WINDOW_MS = 15_000
/** The lease of a run's pending record, renewed while the run lives; an expired lease may be taken over. */
const LEASE_MS = 10_000
const POLL_MS = 100

/** Events the user makes by acting in the chat: a waiting answer can be given in their reply. */
const USER_EVENTS: ReadonlySet<string> = new Set([
  'subscribe',
  'SCAN',
  'CLICK',
  'LOCATION',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
])

function userInitiated(msg: Message): boolean {
  return msg.msgType !== 'event' || USER_EVENTS.has(msg.event)
}

interface Resolved {
  store: WxMpStore
  keys: StoreKeys
  dedupTtlMs: number
  onDedupError: DedupFailurePolicy
  slowReply: SlowReplyStrategy
  texts: SlowReplyTexts
  fetchWords: ReadonlySet<string>
  jobTimeoutMs: number
  background: BackgroundWork
  clock: Clock
}

/**
 * Routes pushes to handlers. One instance per account.
 *
 * - The first copy of a push claims it in the store and runs the handler; a handler done by the
 *   reply deadline (`replyTimeoutMs` after arrival) is the reply.
 * - Otherwise the slow-reply strategy decides at the deadline: hold the attempt (WeChat retries),
 *   answer a placeholder (the answer waits for the next message), or answer `success` (the answer
 *   goes by 客服 or to `lateReply`). WeChat's last attempt never holds.
 * - A copy that arrives while the handler runs joins it (in this process, or by polling the store
 *   when another instance runs it); a copy after completion gets the stored answer.
 * - A user with answers waiting gets the oldest with their next push.
 */
export class Dispatcher {
  readonly #handlers: Handlers
  readonly #log: Log
  readonly #appId: string | undefined
  readonly #replyTimeoutMs: number
  readonly #o: Resolved
  readonly #pending: PendingAnswers
  readonly #kefu: KefuChannel | undefined
  readonly #alarm: HeldAlarm
  readonly #delivery: AnswerDelivery
  readonly #lateReply: LateReplyHandler | undefined
  readonly #onBackground: ((work: Promise<unknown>) => void) | undefined
  readonly #owner = randomBytes(6).toString('hex')
  /** Runs that later copies of their push join. */
  readonly #runs = new Map<string, Run>()
  /** Every run still going on (for the shutdown log). */
  readonly #live = new Set<Run>()
  readonly #background = new Set<Promise<unknown>>()
  #alarmTripped = false
  /** The last answer of the store about the 客服 permission (48001 remembered). */
  #kefuDeniedSeen = false

  constructor(options: DispatcherOptions) {
    const clock = options.clock ?? systemClock
    const store = options.store ?? new MemoryStore({ now: () => clock.now() })
    const keys = options.keys ?? new StoreKeys('wxmp', options.appId)
    // `??` per field: callers pass `undefined` for settings left unset.
    this.#o = {
      store,
      keys,
      dedupTtlMs: options.dedupTtlMs ?? 360_000,
      onDedupError: options.onDedupError ?? 'run',
      slowReply: options.slowReply ?? 'auto',
      texts: { ...defaultSlowReplyTexts, ...options.texts },
      fetchWords: new Set((options.fetchWords ?? defaultFetchWords).map((w) => w.trim())),
      jobTimeoutMs: options.jobTimeoutMs ?? 120_000,
      background: options.background ?? 'allowed',
      clock,
    }
    this.#handlers = options.handlers
    this.#log = options.log
    this.#appId = options.appId
    this.#replyTimeoutMs = options.replyTimeoutMs
    this.#lateReply = options.lateReply
    this.#onBackground = options.onBackground
    const now = (): number => clock.now()
    this.#pending = new PendingAnswers({
      store,
      keys,
      ttlMs: options.pendingTtlMs,
      maxBytesPerUser: options.pendingMaxBytesPerUser,
      maxBytesTotal: options.pendingMaxBytesTotal,
      now,
    })
    this.#kefu = options.kefuApi ? new KefuChannel({ api: options.kefuApi, store, keys }) : undefined
    this.#alarm = new HeldAlarm({ store, keys, threshold: options.heldAlarmThreshold })
    this.#delivery = new AnswerDelivery({ pending: this.#pending, kefu: this.#kefu, texts: this.#o.texts })
    const strategy = this.#o.slowReply
    if (this.#kefu !== undefined && (strategy === 'auto' || strategy === 'customer-service')) {
      // Learn at once whether 客服 works, so that the first slow answer already goes the right way.
      this.#kefu.probe().then(
        (answer) => {
          this.#kefuDeniedSeen = answer === 'denied'
          if (answer === 'denied') {
            this.#log.warn(
              strategy === 'auto'
                ? 'customer-service API: no permission (48001: unverified or personal account); slow answers use the retry window and the next message'
                : 'customer-service API: no permission (48001: unverified or personal account); slowReply "customer-service" cannot send, so slow answers wait for the user\'s next message. Use slowReply "auto" or "retry-window".',
            )
          }
        },
        (err: unknown) => this.#log.warn({ err }, 'customer-service permission probe failed'),
      )
    }
  }

  /** The configured strategy. */
  get slowReply(): SlowReplyStrategy {
    return this.#o.slowReply
  }

  /** Handler runs and deliveries still going on (for graceful shutdown). */
  get pending(): number {
    return this.#background.size
  }

  /**
   * Waits until running handlers and deliveries finish, or `timeoutMs` passes; then logs every
   * handler it abandons, with its user and message id.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#background.size > 0) {
      await settleBy(Promise.allSettled([...this.#background]), this.#o.clock.now() + timeoutMs, this.#o.clock)
    }
    for (const run of this.#live) {
      this.#log.warn(
        { from: run.user, msgId: (run.msg as { msgId?: unknown }).msgId, runningMs: this.#o.clock.now() - run.firstAt },
        'shutdown: abandoning a handler that is still running; its answer is lost',
      )
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#background.add(promise)
    const forget = (): void => {
      this.#background.delete(promise)
    }
    promise.then(forget, forget)
    this.#onBackground?.(promise)
    return promise
  }

  /** Whether a push has a handler to run. */
  hasHandler(msg: Message): boolean {
    const h = this.#handlers
    if (msg.msgType !== 'event') return h.onMessage !== undefined
    return msg.event === 'subscribe' ? h.onSubscribe !== undefined : h.onEvent !== undefined
  }

  #isFetchWord(msg: Message): boolean {
    return msg.msgType === 'text' && this.#o.fetchWords.has(msg.content.trim())
  }

  /**
   * Answers one push. Never rejects: handler errors, invalid replies and store failures all end
   * in a logged, defined answer.
   *
   * @param receivedAt when the request arrived (epoch ms); the deadline counts from it.
   * @param log the push's logger, or a function that makes it when first used.
   */
  dispatch(msg: Message, receivedAt: number, log: Log | (() => Log)): MaybePromise<DispatchResult> {
    const pushLog = lazyLog(log)
    const key = this.#o.keys.key('dedup', ...dedupParts(msg))
    const local = this.#runs.get(key)
    if (local !== undefined) return this.#retry(key, msg, receivedAt, pushLog, local)

    let claim: MaybePromise<string | undefined>
    const claimed = encodePending(receivedAt, this.#owner)
    try {
      claim = this.#o.store.claim(key, claimed, LEASE_MS)
    } catch (err) {
      claim = Promise.reject(err)
    }
    if (isThenable(claim)) {
      return Promise.resolve(claim).then(
        (existing) =>
          existing === undefined ? this.#fresh(key, claimed, msg, receivedAt, pushLog) : this.#retry(key, msg, receivedAt, pushLog, undefined, existing),
        (err: unknown) => this.#storeFailed(err, key, claimed, msg, receivedAt, pushLog),
      )
    }
    if (claim !== undefined) return this.#retry(key, msg, receivedAt, pushLog, undefined, claim)
    return this.#fresh(key, claimed, msg, receivedAt, pushLog)
  }

  #storeFailed(err: unknown, key: string, claimed: string, msg: Message, receivedAt: number, log: () => Log): MaybePromise<DispatchResult> {
    log().warn({ err }, `store failed; policy "${this.#o.onDedupError}"`)
    if (this.#o.onDedupError === 'success') return SUCCESS_RESULT
    return this.#startAndAnswer(key, claimed, msg, receivedAt, log)
  }

  /** A push nobody claimed before: deliver what waits for the user, then run the handler. */
  #fresh(key: string, claimed: string, msg: Message, receivedAt: number, log: () => Log): MaybePromise<DispatchResult> {
    try {
      const noted = this.#kefu?.noteInteraction(msg)
      if (noted !== undefined && isThenable(noted)) {
        Promise.resolve(noted).then(undefined, (err: unknown) => log().warn({ err }, 'store failed to open the customer-service window'))
      }
      // Every strategy may leave answers waiting (the rest of a long one, at least).
      if (userInitiated(msg)) {
        const ids = this.#pending.ids(msg.fromUserName)
        if (isThenable(ids) || ids.length > 0 || this.#isFetchWord(msg)) {
          return this.#track(this.#withPending(key, claimed, msg, receivedAt, log, ids))
        }
      }
    } catch (err) {
      log().warn({ err }, 'store failed while looking for waiting answers; handling the push on its own')
    }
    return this.#startAndAnswer(key, claimed, msg, receivedAt, log)
  }

  async #withPending(
    key: string,
    claimed: string,
    msg: Message,
    receivedAt: number,
    log: () => Log,
    ids: MaybePromise<string[]>,
  ): Promise<DispatchResult> {
    const user = msg.fromUserName
    const fetchOnly = this.#isFetchWord(msg)
    let waiting: boolean
    try {
      waiting = (await ids).length > 0 || (fetchOnly && (await this.#pending.recent(user)))
    } catch (err) {
      log().warn({ err }, 'store failed while looking for waiting answers; handling the push on its own')
      waiting = false
    }
    if (!waiting) return this.#startAndAnswer(key, claimed, msg, receivedAt, log)

    const t = this.#o.texts
    let reply: ReplyMessage
    try {
      const taken = await this.#pending.take(user)
      if (taken.kind === 'none' && !fetchOnly) return this.#startAndAnswer(key, claimed, msg, receivedAt, log)
      reply =
        taken.kind === 'answer'
          ? taken.reply
          : { msgType: 'text', content: taken.kind === 'notice' ? taken.text : taken.kind === 'working' ? t.working(Math.round(taken.sinceMs / 1000)) : t.nothingPending }
    } catch (err) {
      log().warn({ err }, 'store failed while taking a waiting answer; handling the push on its own')
      return this.#startAndAnswer(key, claimed, msg, receivedAt, log)
    }
    if (!fetchOnly && this.hasHandler(msg)) {
      // A new question: its answer is delivered the account's way, even if ready at once,
      // because this push's reply carries the older answer.
      const fallback = await this.#restChannel()
      // Not joinable: retries of this push get the answer it was given (the dedup record).
      const run = this.#start(key, claimed, msg, receivedAt, log, undefined, false)
      run.fallback = fallback
      if (fallback === 'queue') run.jobId = await this.#pending.open(user, receivedAt)
      reply = withNote(reply, t.newQuestionQueued)
    }
    const xml = this.#renderSafe(reply, msg, log)
    await this.#recordSafe(key, xml, log)
    return { reply: xml, outcome: 'pending-delivered' }
  }

  /** Starts the handler and answers this first attempt: at once if it can, else by the strategy. */
  #startAndAnswer(key: string, claimed: string, msg: Message, receivedAt: number, log: () => Log): MaybePromise<DispatchResult> {
    if (!this.hasHandler(msg)) {
      const recorded = this.#recordSafe(key, null, log)
      return isThenable(recorded) ? Promise.resolve(recorded).then(() => SUCCESS_RESULT) : SUCCESS_RESULT
    }
    // The fast path: a handler that answers at once, with a reply that fits one message, and a
    // store that records at once — no promise, no timer.
    const deadline = receivedAt + this.#replyTimeoutMs
    const startedAt = this.#o.clock.now()
    const abort = new DeadlineAbort(this.#abortAt(deadline), this.#o.clock)
    const outcome = this.#invoke(msg, abort, deadline, log)
    if (!isThenable(outcome)) {
      let result: RunResult | undefined
      try {
        result = this.#finish(outcome, msg, startedAt, false)
      } catch {
        result = undefined // an invalid reply: the general path reports it through onError
      }
      if (result !== undefined && result.parts.length <= 1) {
        const recorded = this.#recordSafe(key, result.xml, log)
        const answer: DispatchResult = { reply: result.xml, outcome: result.xml === null ? 'success' : 'reply', handlerMs: result.handlerMs }
        return isThenable(recorded) ? Promise.resolve(recorded).then(() => answer) : answer
      }
    }
    const run = this.#start(key, claimed, msg, receivedAt, log, { outcome, startedAt, abort })
    return this.#track(this.#attempt(run, receivedAt, log, 1))
  }

  /**
   * When `ctx.signal` aborts: when the kit gives the run up (the job timeout) — a slow answer
   * still reaches the user, so an LLM call given the signal must not be cut at the reply
   * deadline — except under `success` without a `lateReply`, where nobody would see it.
   */
  #abortAt(deadline: number): number {
    if (this.#o.slowReply === 'success' && this.#lateReply === undefined) return deadline
    return this.#o.clock.now() + this.#o.jobTimeoutMs
  }

  /** Registers a run and starts (or adopts) its handler invocation. */
  #start(
    key: string,
    claimed: string,
    msg: Message,
    receivedAt: number,
    log: () => Log,
    begun?: { outcome: MaybePromise<HandlerResult>; startedAt: number; abort: DeadlineAbort },
    joinable = true,
  ): Run {
    const deadline = receivedAt + this.#replyTimeoutMs
    const abort = begun?.abort ?? new DeadlineAbort(this.#abortAt(deadline), this.#o.clock)
    const startedAt = begun?.startedAt ?? this.#o.clock.now()
    const outcome = begun !== undefined ? begun.outcome : this.#invoke(msg, abort, deadline, log)
    abort.arm()
    const run: Run = { key, user: msg.fromUserName, msg, firstAt: receivedAt, claimed, done: undefined as unknown as Promise<RunResult>, answered: false, waiting: 0, log }
    run.done = this.#settle(run, outcome, startedAt, abort)
    if (joinable) this.#runs.set(key, run)
    this.#live.add(run)
    this.#track(this.#complete(run))
    // Only another instance could take an expired claim over: the in-memory store needs no lease.
    if (joinable && !(this.#o.store instanceof MemoryStore)) this.#renewLease(run)
    return run
  }

  /** The handler's result, rendered; a failure goes through `onError`; a run past the job timeout is given up. */
  async #settle(run: Run, outcome: MaybePromise<HandlerResult>, startedAt: number, abort: DeadlineAbort): Promise<RunResult> {
    const clock = this.#o.clock
    let timer: unknown
    const gaveUp = new Promise<'gave-up'>((resolve) => {
      timer = clock.setTimeout(() => resolve('gave-up'), Math.max(0, startedAt + this.#o.jobTimeoutMs - clock.now()))
    })
    let result: RunResult
    try {
      const value = await Promise.race([Promise.resolve(outcome), gaveUp])
      if (value === 'gave-up') {
        result = { reply: null, parts: [], xml: null, handlerMs: clock.now() - startedAt, failed: true, gaveUp: true }
      } else {
        result = this.#finish(value, run.msg, startedAt, false)
      }
    } catch (err) {
      run.log().error({ err, msgId: (run.msg as { msgId?: unknown }).msgId }, 'handler failed')
      try {
        const apology = this.#handlers.onError ? await this.#handlers.onError(err, run.msg) : undefined
        result = this.#finish(apology, run.msg, startedAt, true)
      } catch (onErrorFailure) {
        run.log().error({ err: onErrorFailure }, 'onError failed too; answering success')
        result = { reply: null, parts: [], xml: null, handlerMs: clock.now() - startedAt, failed: true }
      }
    } finally {
      clock.clearTimeout(timer)
      abort.finish()
    }
    run.result = result
    return result
  }

  /** Renders a handler's result: the parts of a long text, the first as the passive reply. */
  #finish(value: HandlerResult, msg: Message, startedAt: number, failed: boolean): RunResult {
    const handlerMs = this.#o.clock.now() - startedAt
    if (value === undefined || value === null) return { reply: null, parts: [], xml: null, handlerMs, failed }
    const reply: ReplyMessage = typeof value === 'string' ? { msgType: 'text', content: value } : value
    const parts = answerParts(reply, this.#pending.maxBytesPerUser - 4096, this.#o.texts.truncated)
    // Render every part now (marked as the rest will go): an invalid reply fails here, inside the
    // handler's error path.
    const xmls = this.#delivery.mark(parts, this.#likelyRestChannel()).map((p) => renderReply(p, msg, { now: () => this.#o.clock.now() }))
    return { reply, parts, xml: xmls[0] ?? null, handlerMs, failed }
  }

  #invoke(msg: Message, abort: DeadlineAbort, deadline: number, log: () => Log): MaybePromise<HandlerResult> {
    const ctx: HandlerContext = {
      get log() {
        return log()
      },
      get signal() {
        return abort.signal
      },
      appId: this.#appId,
      deadline,
    }
    const h = this.#handlers
    try {
      if (msg.msgType !== 'event') return h.onMessage!(msg as NormalMessage, ctx)
      if (msg.event === 'subscribe') return h.onSubscribe!(msg as SubscribeEvent, ctx)
      return h.onEvent!(msg as OtherEvent, ctx)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Keeps the run's claim alive while it runs, so that another instance never takes it over. */
  #renewLease(run: Run): void {
    const clock = this.#o.clock
    const renew = (): void => {
      if (run.result !== undefined || this.#runs.get(run.key) !== run) return
      Promise.resolve(this.#o.store.expire(run.key, LEASE_MS, run.claimed)).then(
        () => undefined,
        (err: unknown) => run.log().warn({ err }, 'store failed to renew the run\'s claim'),
      )
      timer = clock.setTimeout(renew, LEASE_MS / 3)
    }
    let timer = clock.setTimeout(renew, LEASE_MS / 3)
    void run.done.finally(() => clock.clearTimeout(timer))
  }

  /**
   * One attempt waits for the run until its deadline; what it answers then depends on whether it
   * is WeChat's last attempt and on the strategy.
   */
  async #attempt(run: Run, receivedAt: number, log: () => Log, attempt: number): Promise<DispatchResult> {
    const deadline = receivedAt + this.#replyTimeoutMs
    run.waiting++
    const settled = await settleBy(run.done, deadline, this.#o.clock)
    run.waiting--
    if (settled.done) return this.#answer(run, settled.value, attempt === 1)
    const final = attempt >= 3 || receivedAt - run.firstAt >= FINAL_ATTEMPT_AFTER_MS
    const strategy = await this.#decide(final, log)
    if (strategy === 'retry-window' && !final) return this.#hold(receivedAt, run, log)
    if (strategy === 'success' && run.fallback === undefined) {
      // Today's behaviour: success now; a retry may still get the result, else lateReply does.
      return { reply: null, outcome: attempt === 1 ? 'deadline' : 'duplicate', strategy }
    }
    const how = fallbackOf(strategy)
    const taken = await this.#takeFallback(run.key, run.claimed, run.firstAt, how, log)
    if (taken.state === 'done') return { reply: taken.reply, outcome: attempt === 1 ? 'reply' : 'duplicate' }
    run.fallback = taken.how
    if (taken.how === 'queue' && run.jobId === undefined) run.jobId = await this.#openJob(run)
    if (taken.how === 'kefu' && this.#kefu) {
      this.#typing(run).catch((err: unknown) => run.log().warn({ err }, 'typing indicator failed'))
    }
    return this.#fallbackAnswer(taken.how, run.msg, strategy, log, attempt === 1)
  }

  #answer(run: Run, result: RunResult, first: boolean): DispatchResult {
    run.answered = true
    if (!first) return { reply: result.xml, outcome: 'duplicate' }
    return {
      reply: result.xml,
      outcome: result.failed ? 'error' : result.xml === null ? 'success' : 'reply',
      handlerMs: result.handlerMs,
    }
  }

  /** Leaves an attempt unanswered until WeChat has dropped it (or, without background work, until the run ends). */
  async #hold(receivedAt: number, run: Run | undefined, log: () => Log): Promise<DispatchResult> {
    try {
      await this.#alarm.note(this.#o.clock.now())
    } catch (err) {
      log().warn({ err }, 'store failed to count a held attempt')
    }
    if (run !== undefined && this.#o.background === 'none') await run.done
    else await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, Math.max(0, receivedAt + HOLD_MS - this.#o.clock.now())))
    return { reply: null, outcome: 'held', strategy: 'retry-window' }
  }

  /** The strategy for an attempt whose answer is not ready at its deadline. */
  async #decide(final: boolean, log: () => Log): Promise<EffectiveStrategy> {
    const configured = this.#o.slowReply
    let strategy: EffectiveStrategy
    if (configured === 'auto') {
      strategy = this.#kefu !== undefined && !(await this.#kefuDenied(log)) ? 'customer-service' : 'retry-window'
    } else {
      strategy = configured
    }
    if (strategy === 'retry-window' && !final) {
      let tripped = false
      try {
        tripped = await this.#alarm.tripped(this.#o.clock.now())
      } catch (err) {
        log().warn({ err }, 'store failed to read the held-attempt counter')
      }
      if (tripped !== this.#alarmTripped) {
        this.#alarmTripped = tripped
        if (tripped) {
          this.#log.warn(
            { threshold: this.#alarm.threshold },
            configured === 'auto'
              ? `more than ${this.#alarm.threshold} attempts held within 5 minutes: WeChat counts each as a failure and may stop pushing for a minute; answering placeholders (next-message) until the rate falls`
              : `more than ${this.#alarm.threshold} attempts held within 5 minutes: WeChat counts each as a failure and may stop pushing for a minute (slowReply "retry-window" keeps holding; "auto" would switch to next-message)`,
          )
        } else {
          this.#log.info('held attempts are back under the threshold')
        }
      }
      if (tripped && configured === 'auto') strategy = 'next-message'
    }
    if (this.#o.background === 'none' && !final && strategy !== 'retry-window') {
      // Frozen once answered: hold this attempt so the run goes on; the last attempt answers.
      strategy = 'retry-window'
    }
    return strategy
  }

  /** Where the rest of a long answer will most likely go, without asking the store. */
  #likelyRestChannel(): 'queue' | 'kefu' {
    const s = this.#o.slowReply
    return (s === 'customer-service' || s === 'auto') && this.#kefu !== undefined && !this.#kefuDeniedSeen ? 'kefu' : 'queue'
  }

  async #kefuDenied(log: () => Log): Promise<boolean> {
    try {
      const denied = (await this.#kefu?.denied()) === true
      this.#kefuDeniedSeen = denied
      return denied
    } catch (err) {
      log().warn({ err }, 'store failed to read the customer-service permission')
      return false
    }
  }

  /** Where the parts after the first of a long answer go. */
  async #restChannel(): Promise<'queue' | 'kefu'> {
    const s = this.#o.slowReply
    if ((s === 'customer-service' || s === 'auto') && this.#kefu !== undefined && !(await this.#kefuDenied(() => this.#log))) return 'kefu'
    return 'queue'
  }

  /**
   * Decides, once for all instances, that no attempt will carry the answer: compare-and-set of the
   * push's record from pending to fallback. Returns the decision in force (possibly another
   * attempt's), or the finished answer when the run completed first.
   */
  async #takeFallback(
    key: string,
    claimed: string,
    firstAt: number,
    how: Fallback,
    log: () => Log,
  ): Promise<{ state: 'fallback'; how: Fallback } | { state: 'done'; reply: string | null }> {
    const value = encodeFallback(firstAt, this.#owner, how)
    try {
      for (let expected = claimed, tries = 0; tries < 3; tries++) {
        if (await this.#o.store.replace(key, expected, value, this.#o.dedupTtlMs)) return { state: 'fallback', how }
        const now = await this.#o.store.get(key)
        const state = now === undefined ? undefined : decodeRecord(now)
        if (state === undefined) break
        if (state.state === 'done') return state
        if (state.state === 'fallback') return state
        expected = now!
      }
    } catch (err) {
      log().warn({ err }, 'store failed while deciding the fallback; deciding locally')
    }
    return { state: 'fallback', how }
  }

  #fallbackAnswer(how: Fallback, msg: Message, strategy: EffectiveStrategy, log: () => Log, first: boolean): DispatchResult {
    if (how === 'queue') {
      const xml = this.#renderSafe({ msgType: 'text', content: this.#o.texts.placeholder }, msg, log)
      return { reply: xml, outcome: first ? 'placeholder' : 'duplicate', strategy: strategy === 'retry-window' ? 'next-message' : strategy }
    }
    return { reply: null, outcome: first ? 'deadline' : 'duplicate', strategy }
  }

  async #openJob(run: Run): Promise<string | undefined> {
    try {
      return await this.#pending.open(run.user, run.firstAt)
    } catch (err) {
      run.log().warn({ err }, 'store failed to open a pending answer')
      return undefined
    }
  }

  /** The typing indicator while a 客服 answer is prepared: at the deadline, and once more while it runs (it lasts 15 s). */
  async #typing(run: Run): Promise<void> {
    const kefu = this.#kefu!
    const failure = await kefu.typing(run.user)
    if (failure === 'no-permission') {
      this.#kefuDeniedSeen = true
      run.log().warn('customer-service API answered 48001 (no permission: unverified or personal account); the answer will wait for the user\'s next message. Use slowReply "retry-window" or "auto".')
      run.fallback = 'queue'
      run.jobId ??= await this.#openJob(run)
      return
    }
    const again = run.firstAt + 19_000 - this.#o.clock.now()
    if (failure === undefined && again > 0) {
      const settled = await settleBy(run.done, this.#o.clock.now() + again, this.#o.clock)
      if (!settled.done) await kefu.typing(run.user)
    }
  }

  /** A copy of a push that was claimed before (here or by another instance). */
  async #retry(key: string, msg: Message, receivedAt: number, log: () => Log, local: Run | undefined, existing?: string): Promise<DispatchResult> {
    let attempt = 2
    try {
      attempt = 1 + (await this.#o.store.add(this.#o.keys.key('attempts', key), 1, RETRY_WINDOW_MS * 2))
    } catch (err) {
      log().warn({ err }, 'store failed to count the attempt')
    }
    if (local !== undefined) return this.#attempt(local, receivedAt, log, attempt)
    const state = existing === undefined ? undefined : decodeRecord(existing)
    if (state === undefined) return SUCCESS_RESULT
    if (state.state === 'done') return { reply: state.reply, outcome: 'duplicate' }
    if (state.state === 'fallback') return this.#fallbackAnswer(state.how, msg, this.#o.slowReply === 'auto' ? 'next-message' : (this.#o.slowReply as EffectiveStrategy), log, false)
    return this.#track(this.#awaitForeign(key, existing!, state.firstAt, msg, receivedAt, log, attempt))
  }

  /** Waits for a run of another instance by polling the store, until this attempt's deadline. */
  async #awaitForeign(key: string, claimed: string, firstAt: number, msg: Message, receivedAt: number, log: () => Log, attempt: number): Promise<DispatchResult> {
    const clock = this.#o.clock
    const deadline = receivedAt + this.#replyTimeoutMs
    let expected = claimed
    while (clock.now() < deadline) {
      await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - clock.now()))))
      let value: string | undefined
      try {
        value = await this.#o.store.get(key)
      } catch (err) {
        log().warn({ err }, 'store failed while waiting for another instance')
        return SUCCESS_RESULT
      }
      if (value === undefined) {
        // The owner's lease ran out with no answer: it died. Take the push over.
        const mine = encodePending(receivedAt, this.#owner)
        let took: string | undefined
        try {
          took = await this.#o.store.claim(key, mine, LEASE_MS)
        } catch {
          return SUCCESS_RESULT
        }
        if (took === undefined) {
          log().warn('the instance that claimed this push stopped answering; running the handler here')
          const run = this.#start(key, mine, msg, receivedAt, log)
          return this.#attempt(run, receivedAt, log, attempt)
        }
        value = took
      }
      const state = decodeRecord(value)
      if (state?.state === 'done') return { reply: state.reply, outcome: 'duplicate' }
      if (state?.state === 'fallback') return this.#fallbackAnswer(state.how, msg, 'next-message', log, false)
      expected = value
    }
    const final = attempt >= 3 || receivedAt - firstAt >= FINAL_ATTEMPT_AFTER_MS
    const strategy = await this.#decide(final, log)
    if (strategy === 'retry-window' && !final) return this.#hold(receivedAt, undefined, log)
    const taken = await this.#takeFallback(key, expected, firstAt, fallbackOf(strategy), log)
    if (taken.state === 'done') return { reply: taken.reply, outcome: 'duplicate' }
    return this.#fallbackAnswer(taken.how, msg, strategy, log, false)
  }

  /**
   * After the run: records the answer for retries and, when no attempt can carry it, sends it
   * where the strategy said — the pending queue, the 客服 API, or `lateReply`.
   */
  async #complete(run: Run): Promise<void> {
    const result = await run.done
    if (this.#runs.get(run.key) === run) this.#runs.delete(run.key)
    this.#live.delete(run)
    const log = run.log
    const clock = this.#o.clock
    if (result.gaveUp) {
      const seconds = Math.round(this.#o.jobTimeoutMs / 1000)
      log().error({ from: run.user, jobTimeoutMs: this.#o.jobTimeoutMs }, `handler still running after ${seconds} s: given up (its promise is let go); the user is told on their next message`)
      try {
        if (run.jobId !== undefined) await this.#pending.fail(run.user, run.jobId, this.#o.texts.gaveUp(seconds))
        else await this.#pending.add(run.user, [{ msgType: 'text', content: this.#o.texts.gaveUp(seconds) }], this.#notices())
      } catch (err) {
        log().warn({ err }, 'store failed to record the given-up answer')
      }
      return
    }
    let how = run.fallback
    if (how === undefined) {
      const xml = result.xml
      try {
        if (await this.#o.store.replace(run.key, run.claimed, encodeDone(xml), this.#o.dedupTtlMs)) {
          how = undefined
        } else {
          const now = await this.#o.store.get(run.key)
          const state = now === undefined ? undefined : decodeRecord(now)
          if (state?.state === 'fallback') how = state.how
          else if (now === undefined) await this.#o.store.set(run.key, encodeDone(xml), this.#o.dedupTtlMs)
        }
      } catch (err) {
        log().warn({ err }, 'store failed to record the answer; a retry may run the handler again')
      }
      const late = clock.now() >= run.firstAt + this.#replyTimeoutMs
      if (how === undefined && late && !run.answered && run.waiting === 0) {
        if (this.#o.slowReply === 'success') how = 'late'
        // No attempt of WeChat's is left to carry it (the last one never came): the next message will.
        else if (clock.now() - run.firstAt >= RETRY_WINDOW_MS && result.parts.length > 0) how = 'queue'
      }
      if (how === undefined) {
        if (result.parts.length > 1) await this.#deliverRest(run, result)
        return
      }
    }
    await this.#deliverLate(run, result, how)
  }

  #notices(): { truncated: string; dropped: string } {
    return { truncated: this.#o.texts.truncated, dropped: this.#o.texts.dropped }
  }

  /** The parts of a long answer after the one the reply carried. */
  async #deliverRest(run: Run, result: RunResult): Promise<void> {
    const channel = await this.#restChannel()
    const rest = this.#delivery.mark(result.parts, channel).slice(1)
    if (channel === 'kefu') await this.#delivery.toKefu(run, rest)
    else await this.#delivery.toQueue(run, rest)
  }

  async #deliverLate(run: Run, result: RunResult, how: Fallback): Promise<void> {
    const log = run.log
    const lateByMs = this.#o.clock.now() - (run.firstAt + this.#replyTimeoutMs)
    if (how === 'late') {
      const handler = this.#lateReply
      if (!handler) {
        log().info(
          { lateByMs, handlerMs: result.handlerMs, hasReply: result.reply !== null, delivery: 'none' },
          `handler completed ${lateByMs} ms after the deadline; WeChat was answered success and does not retry, so the user does not see it (slowReply "success": plug a lateReply, or use another strategy)`,
        )
        return
      }
      try {
        await handler({ message: run.msg, reply: result.reply, xml: result.xml, handlerMs: result.handlerMs, lateByMs, appId: this.#appId, log: log() })
      } catch (err) {
        log().error({ err }, 'lateReply failed')
      }
      return
    }
    if (result.parts.length === 0) {
      if (run.jobId !== undefined) await this.#delivery.close(run, run.jobId)
      return
    }
    if (how === 'kefu' && this.#kefu !== undefined) await this.#delivery.toKefu(run, this.#delivery.mark(result.parts, 'kefu'))
    else await this.#delivery.toQueue(run, this.#delivery.mark(result.parts, 'queue'), run.jobId)
  }

  /** Records the answer a push got, for its retries. */
  #recordSafe(key: string, xml: string | null, log: () => Log): MaybePromise<void> {
    try {
      const done = this.#o.store.set(key, encodeDone(xml), this.#o.dedupTtlMs)
      if (isThenable(done)) {
        return Promise.resolve(done).then(undefined, (err: unknown) => {
          log().warn({ err }, 'store failed to record the answer; a retry may run the handler again')
        })
      }
    } catch (err) {
      log().warn({ err }, 'store failed to record the answer; a retry may run the handler again')
    }
    return undefined
  }

  #renderSafe(reply: ReplyMessage, msg: Message, log: () => Log): string | null {
    try {
      return renderReply(reply, msg, { now: () => this.#o.clock.now() })
    } catch (err) {
      log().error({ err }, 'could not render a waiting answer; answering success')
      return null
    }
  }
}

function fallbackOf(strategy: EffectiveStrategy): Fallback {
  if (strategy === 'customer-service') return 'kefu'
  if (strategy === 'success') return 'late'
  return 'queue'
}
