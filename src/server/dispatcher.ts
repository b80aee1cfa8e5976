/**
 * Runs a bot's handler once per push, however often WeChat retries, and answers within the
 * deadline. Framework-free: the Fastify plugin and any serverless adapter share it.
 *
 * Official reference (5-second rule, 3 attempts, 消息排重):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *
 * @module
 */
import { sentEvent, sentMsgType, type Message, type SubscribeEvent, type NormalMessage } from '../core/messages.js'
import { renderReply, type ReplyMessage } from '../core/reply.js'
import { TEXT_REPLY_MAX_BYTES } from '../core/split-text.js'
import { settleBy, systemClock, type Clock } from './clock.js'
import type { DedupRecord, DedupStore } from './dedup-store.js'
import type { HandlerContext, HandlerResult, Handlers, LateReplyHandler, Log, MaybePromise, OtherEvent } from './handlers.js'

/** How a push was answered; one word in the push's log line. */
export type Outcome = 'reply' | 'success' | 'deadline' | 'duplicate' | 'error'

/** The dispatcher's answer to one push. */
export interface DispatchResult {
  /** Plaintext reply XML, or `null` for `success`. */
  reply: string | null
  outcome: Outcome
  /** How long the handler ran (only when this push ran it and it finished in time). */
  handlerMs?: number
}

/** What the store failing means for a push. */
export type DedupFailurePolicy = 'run' | 'success'

/** Options of {@link Dispatcher}. */
export interface DispatcherOptions {
  handlers: Handlers
  store: DedupStore
  log: Log
  appId: string | undefined
  replyTimeoutMs: number
  /** How long a push is remembered. Default 60 000 ms (WeChat retries within ~15 s). */
  dedupTtlMs?: number
  /**
   * When the dedup store fails (a shared store is down): `'run'` (default) runs the handler
   * anyway, risking a double run on a retry; `'success'` answers `success` without running it.
   */
  onDedupError?: DedupFailurePolicy
  lateReply?: LateReplyHandler
  clock?: Clock
}

interface Completed {
  reply: string | null
  /** Whether this run executed the handler (false: the answer came from the store). */
  ran: boolean
  handlerMs: number
  failed: boolean
}

interface Run {
  result: Promise<Completed>
  /** Copies still waiting for the result within their own deadline. */
  waiting: number
}

/**
 * The dedup key of a push: user + MsgId for messages (MsgIds have collided across users); user +
 * CreateTime + Event + EventKey for events (two events can share a second).
 */
export function dedupKey(msg: Message): string {
  // Built with join, which copies the characters into a new string. A template literal would
  // make a rope of substrings of the request body, and every remembered key would keep its whole
  // body alive for as long as the store holds it (10 000 bodies by default).
  if (msg.msgType !== 'event') {
    const msgId = (msg as { msgId?: unknown }).msgId
    if (typeof msgId === 'string' && msgId !== '') return ['m', msg.fromUserName, msgId].join(':')
    return ['m', msg.fromUserName, msg.createTime, sentMsgType(msg)].join(':')
  }
  const eventKey = (msg as { eventKey?: unknown }).eventKey
  return ['e', msg.fromUserName, msg.createTime, sentEvent(msg), typeof eventKey === 'string' ? eventKey : ''].join(':')
}

/** Makes the push's logger at most once, when first used. */
function lazyLog(log: Log | (() => Log)): () => Log {
  if (typeof log !== 'function') return () => log
  let made: Log | undefined
  return () => (made ??= log())
}

/**
 * The handler's `ctx.signal`, aborted at the reply deadline if the handler is still running.
 * The deadline timer runs for every push, but the AbortController behind the signal is made on
 * first use: most handlers never read it, and making one costs more than the rest of a push's
 * dispatch. Read before the deadline, the signal aborts at the deadline; read after it while the
 * handler runs, it is already aborted; once the handler is done, it never aborts.
 */
class DeadlineAbort {
  readonly #clock: Clock
  readonly #deadline: number
  #timer: unknown
  #controller: AbortController | undefined
  #expired = false

  constructor(deadline: number, clock: Clock) {
    this.#clock = clock
    this.#deadline = deadline
  }

  /** Starts the deadline timer: the handler did not answer at once. */
  arm(): void {
    if (this.#timer !== undefined) return
    this.#timer = this.#clock.setTimeout(() => {
      this.#expired = true
      this.#controller?.abort(deadlineReason())
    }, Math.max(0, this.#deadline - this.#clock.now()))
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#expired) this.#controller.abort(deadlineReason())
    }
    return this.#controller.signal
  }

  /** The handler is done: the signal is never aborted from now on. */
  finish(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer)
  }
}

/** A handler invocation under way: its context and what it returned (maybe a promise). */
interface Begun {
  startedAt: number
  abort: DeadlineAbort
  outcome: MaybePromise<HandlerResult>
}

function isThenable<T>(value: MaybePromise<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

const SUCCESS_RESULT: DispatchResult = Object.freeze({ reply: null, outcome: 'success' })

function deadlineReason(): DOMException {
  return new DOMException('WeChat was answered at the reply deadline', 'TimeoutError')
}

const POLL_MS = 100
/** How long a copy waits for another instance's run: WeChat's whole retry window. */
const FOREIGN_RUN_WAIT_MS = 15_000

/**
 * Routes pushes to handlers with dedup and a deadline. One instance per account.
 *
 * - The first copy of a push claims it in the store and runs the handler; at `replyTimeoutMs`
 *   after it arrived it is answered `success` while the handler keeps running.
 * - A copy that arrives while the handler runs joins it, and answers with its result or with
 *   `success` at its own deadline; a copy after completion gets the stored answer.
 * - A result that comes too late for every waiting copy is stored (for a later retry) and handed
 *   to `lateReply`.
 */
export class Dispatcher {
  readonly #o: Required<Omit<DispatcherOptions, 'lateReply'>> & { lateReply: LateReplyHandler | undefined }
  readonly #runs = new Map<string, Run>()
  readonly #background = new Set<Promise<unknown>>()

  constructor(options: DispatcherOptions) {
    // `??` per field, not defaults spread before `...options`: callers (the plugin) pass
    // `undefined` for settings left unset, and a spread `undefined` would erase the default.
    this.#o = {
      ...options,
      dedupTtlMs: options.dedupTtlMs ?? 60_000,
      onDedupError: options.onDedupError ?? 'run',
      clock: options.clock ?? systemClock,
      lateReply: options.lateReply,
    }
  }

  /** Handler runs and late-reply deliveries still going on (for graceful shutdown). */
  get pending(): number {
    return this.#background.size
  }

  /** Waits until running handlers and late-reply deliveries finish, or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.#background.size === 0) return
    await settleBy(Promise.allSettled([...this.#background]), this.#o.clock.now() + timeoutMs, this.#o.clock)
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    this.#background.add(promise)
    promise.then(
      () => this.#background.delete(promise),
      () => this.#background.delete(promise),
    )
    return promise
  }

  /** Whether a push has a handler to run (pushes without one are answered `success` at once). */
  hasHandler(msg: Message): boolean {
    const h = this.#o.handlers
    if (msg.msgType !== 'event') return h.onMessage !== undefined
    return msg.event === 'subscribe' ? h.onSubscribe !== undefined : h.onEvent !== undefined
  }

  /**
   * Answers one push. Never rejects: handler errors, invalid replies and store failures all end
   * in a logged, defined answer.
   *
   * @param receivedAt when the request arrived (epoch ms); the deadline counts from it.
   * @param log the push's logger, or a function that makes it: it is then made only when used
   *   (by `ctx.log` or a warning), which most pushes never do.
   */
  dispatch(msg: Message, receivedAt: number, log: Log | (() => Log)): MaybePromise<DispatchResult> {
    if (!this.hasHandler(msg)) return SUCCESS_RESULT
    const key = dedupKey(msg)
    const deadline = receivedAt + this.#o.replyTimeoutMs
    const existing = this.#runs.get(key)
    if (existing) return this.#join(existing, deadline)
    const pushLog = lazyLog(log)
    // The run is made by #first, before the work that reads it starts.
    let run: Run | undefined

    // The fast path: a store and a handler that both answer at once (the in-memory store and a
    // synchronous handler) are served without a promise, a timer or an abort controller.
    let claim: MaybePromise<DedupRecord | undefined>
    try {
      claim = this.#o.store.claim(key, this.#o.dedupTtlMs)
    } catch (err) {
      claim = Promise.reject(err)
    }
    if (!isThenable(claim) && claim?.state !== 'pending') {
      if (claim?.state === 'done') return { reply: claim.reply, outcome: 'duplicate' }
      const begun = this.#begin(msg, deadline, pushLog)
      if (!isThenable(begun.outcome)) {
        const done = this.#completeSync(key, msg, deadline, pushLog, begun)
        if (done !== undefined) return done
      }
      return this.#first(key, deadline, () => this.#complete(key, msg, deadline, pushLog, run!, begun), (r) => (run = r))
    }
    return this.#first(key, deadline, () => this.#process(key, msg, deadline, pushLog, claim, run!), (r) => (run = r))
  }

  /**
   * Registers a run so that copies can join it, and waits for its result until the deadline.
   *
   * @param work starts the run; it may read the run through `bind` (called before `work`).
   */
  async #first(key: string, deadline: number, work: () => Promise<Completed>, bind: (run: Run) => void): Promise<DispatchResult> {
    const run: Run = { result: undefined as unknown as Promise<Completed>, waiting: 1 }
    bind(run)
    run.result = this.#track(work())
    this.#runs.set(key, run)
    run.result.then(
      () => this.#runs.delete(key),
      () => this.#runs.delete(key),
    )
    const settled = await settleBy(run.result, deadline, this.#o.clock)
    run.waiting--
    if (!settled.done) return { reply: null, outcome: 'deadline' }
    const done = settled.value
    if (!done.ran) return { reply: done.reply, outcome: 'duplicate' }
    return {
      reply: done.reply,
      outcome: done.failed ? 'error' : done.reply === null ? 'success' : 'reply',
      handlerMs: done.handlerMs,
    }
  }

  async #join(run: Run, deadline: number): Promise<DispatchResult> {
    run.waiting++
    const settled = await settleBy(run.result, deadline, this.#o.clock)
    run.waiting--
    return { reply: settled.done ? settled.value.reply : null, outcome: 'duplicate' }
  }

  async #process(
    key: string,
    msg: Message,
    deadline: number,
    log: () => Log,
    claimed: MaybePromise<DedupRecord | undefined>,
    run: Run,
  ): Promise<Completed> {
    const o = this.#o
    let claim
    try {
      claim = await claimed
    } catch (err) {
      log().warn({ err }, `dedup store failed; policy "${o.onDedupError}"`)
      if (o.onDedupError === 'success') return { reply: null, ran: false, handlerMs: 0, failed: false }
      claim = undefined
    }
    if (claim?.state === 'done') return { reply: claim.reply, ran: false, handlerMs: 0, failed: false }
    if (claim?.state === 'pending') return this.#awaitForeign(key, log())
    return this.#complete(key, msg, deadline, log, run, this.#begin(msg, deadline, log))
  }

  /** Calls the handler with its context; a synchronous throw becomes a rejected outcome. */
  #begin(msg: Message, deadline: number, log: () => Log): Begun {
    const o = this.#o
    const abort = new DeadlineAbort(deadline, o.clock)
    const ctx: HandlerContext = {
      get log() {
        return log()
      },
      get signal() {
        return abort.signal
      },
      appId: o.appId,
      deadline,
    }
    const startedAt = o.clock.now()
    let outcome: MaybePromise<HandlerResult>
    try {
      outcome = this.#invoke(msg, ctx)
    } catch (err) {
      outcome = Promise.reject(err)
    }
    return { startedAt, abort, outcome }
  }

  /**
   * Finishes a handler that answered at once: renders, records and returns the result, or
   * `undefined` when something needs the general path (an invalid reply, a store answering with
   * a promise or failing).
   */
  #completeSync(key: string, msg: Message, deadline: number, log: () => Log, begun: Begun): MaybePromise<DispatchResult> | undefined {
    let rendered
    try {
      rendered = this.#render(begun.outcome as HandlerResult, msg)
    } catch {
      return undefined
    }
    begun.abort.finish()
    const handlerMs = this.#o.clock.now() - begun.startedAt
    const result: DispatchResult = { reply: rendered.xml, outcome: rendered.xml === null ? 'success' : 'reply', handlerMs }
    let recorded: MaybePromise<void>
    try {
      recorded = this.#o.store.complete(key, rendered.xml, this.#o.dedupTtlMs)
    } catch (err) {
      log().warn({ err }, 'dedup store failed to record the answer; a retry may run the handler again')
      return result
    }
    if (!isThenable(recorded)) return result
    // A store that records asynchronously: copies join this run until the answer is recorded.
    const completed: Completed = { reply: rendered.xml, ran: true, handlerMs, failed: false }
    const recording = async (): Promise<Completed> => {
      try {
        await recorded
      } catch (err) {
        log().warn({ err }, 'dedup store failed to record the answer; a retry may run the handler again')
      }
      return completed
    }
    return this.#first(key, deadline, recording, () => {})
  }


  /** Waits for the handler, renders, records the answer and hands a late one to `lateReply`. */
  async #complete(key: string, msg: Message, deadline: number, log: () => Log, run: Run, begun: Begun): Promise<Completed> {
    const o = this.#o
    begun.abort.arm()
    let reply: ReplyMessage | null = null
    let xml: string | null = null
    let failed = false
    try {
      ;({ reply, xml } = this.#render(await begun.outcome, msg))
    } catch (err) {
      failed = true
      log().error({ err, msgId: (msg as { msgId?: string }).msgId, key }, 'handler failed')
      try {
        ;({ reply, xml } = this.#render(o.handlers.onError ? await o.handlers.onError(err, msg) : undefined, msg))
      } catch (onErrorFailure) {
        log().error({ err: onErrorFailure }, 'onError failed too; answering success')
        reply = null
        xml = null
      }
    } finally {
      begun.abort.finish()
    }
    const finished = o.clock.now()
    const handlerMs = finished - begun.startedAt

    try {
      await o.store.complete(key, xml, o.dedupTtlMs)
    } catch (err) {
      log().warn({ err }, 'dedup store failed to record the answer; a retry may run the handler again')
    }

    if (finished >= deadline && run.waiting === 0) {
      this.#deliverLate({ message: msg, reply, xml, handlerMs, lateByMs: finished - deadline, appId: o.appId, log: log() })
    }
    return { reply: xml, ran: true, handlerMs, failed }
  }

  /** Waits for a run that another instance claimed, polling the store. */
  async #awaitForeign(key: string, log: Log): Promise<Completed> {
    const o = this.#o
    const until = o.clock.now() + FOREIGN_RUN_WAIT_MS
    while (o.clock.now() < until) {
      await new Promise<void>((resolve) => o.clock.setTimeout(resolve, POLL_MS))
      try {
        const record = await o.store.get(key)
        if (record?.state === 'done') return { reply: record.reply, ran: false, handlerMs: 0, failed: false }
        if (record === undefined) break
      } catch (err) {
        log.warn({ err }, 'dedup store failed while waiting for another instance')
        break
      }
    }
    return { reply: null, ran: false, handlerMs: 0, failed: false }
  }

  #invoke(msg: Message, ctx: HandlerContext): MaybePromise<HandlerResult> {
    const h = this.#o.handlers
    if (msg.msgType !== 'event') return h.onMessage!(msg as NormalMessage, ctx)
    if (msg.event === 'subscribe') return h.onSubscribe!(msg as SubscribeEvent, ctx)
    return h.onEvent!(msg as OtherEvent, ctx)
  }

  #render(result: HandlerResult, msg: Message): { reply: ReplyMessage | null; xml: string | null } {
    if (result === undefined || result === null) return { reply: null, xml: null }
    const reply: ReplyMessage = typeof result === 'string' ? { msgType: 'text', content: result } : result
    const xml = renderReply(reply, msg, { now: () => this.#o.clock.now() })
    if (reply.msgType === 'text' && Buffer.byteLength(reply.content, 'utf8') > TEXT_REPLY_MAX_BYTES) {
      this.#o.log.warn(
        { bytes: Buffer.byteLength(reply.content, 'utf8') },
        `text reply exceeds WeChat's ${TEXT_REPLY_MAX_BYTES}-byte limit and may not be shown; split it with splitText() and send the rest with the customer-service API`,
      )
    }
    return { reply, xml }
  }

  #deliverLate(late: Parameters<LateReplyHandler>[0]): void {
    const handler = this.#o.lateReply
    if (!handler) {
      late.log.info(
        { lateByMs: late.lateByMs, handlerMs: late.handlerMs, hasReply: late.reply !== null },
        `handler completed ${late.lateByMs} ms after the deadline` +
          (late.reply ? '; its reply is kept for a retry of the same message (plug a lateReply strategy to deliver it)' : ''),
      )
      return
    }
    const delivery = (async () => handler(late))().catch((err: unknown) => {
      late.log.error({ err }, 'lateReply failed')
    })
    this.#track(delivery)
  }
}

