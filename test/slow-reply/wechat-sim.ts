/**
 * WeChat's side of a conversation, on a fake clock, against a Dispatcher: attempts at 0 / 5 / 10 s
 * each dropped at 5 s, the failure notice after three failed attempts, the 客服 API as a fake with
 * the account presets' answers, and a user who fetches waiting answers. What the user saw is
 * collected in order, with times.
 */
import { Dispatcher, MemoryStore, parseMessage, type DispatcherOptions, type Log, type SlowReplyStrategy } from '../../src/index.js'
import { FakeClock, T0, USER } from '../server/helpers.js'

import { FAILURE_NOTICE } from '../../src/emulator/index.js'
export { FAILURE_NOTICE }

export interface Seen {
  /** ms after the first push */
  at: number
  via: 'reply' | 'kefu' | 'notice'
  text: string
}

export type Preset = 'test' | 'personal' | 'verified'

/** The 客服 API as WeChat answers it for each account preset. */
export class FakeKefuApi {
  sent: Array<{ to: string; text: string; at: number }> = []
  typing = 0
  failNext: number | 'network' | undefined
  constructor(
    readonly preset: Preset,
    readonly clock: FakeClock,
  ) {}
  #check(): void {
    if (this.preset === 'personal') throw Object.assign(new Error('api unauthorized'), { errcode: 48001 })
    const f = this.failNext
    if (f !== undefined) {
      this.failNext = undefined
      if (f === 'network') throw new Error('fetch failed')
      throw Object.assign(new Error(`errcode ${f}`), { errcode: f })
    }
  }
  async sendCustomMessage(to: string, message: string | { msgType: string }): Promise<void> {
    this.#check()
    this.sent.push({ to, text: typeof message === 'string' ? message : `[${message.msgType}]`, at: this.clock.now() - T0 })
  }
  async setTyping(): Promise<void> {
    this.#check()
    this.typing++
  }
}

const noop = (): void => undefined
export const silentLog: Log = { debug: noop, info: noop, warn: noop, error: noop, child: () => silentLog }

export interface SimOptions {
  strategy: SlowReplyStrategy
  /** How long the handler takes, ms. */
  handlerMs: number
  answer?: string | ((question: string) => string)
  preset?: Preset
  withSecret?: boolean
  extra?: Partial<DispatcherOptions>
  log?: Log
}

let msgSeq = 0

function contentOf(xml: string | null): string | undefined {
  if (xml === null) return undefined
  const m = /<Content><!\[CDATA\[([\s\S]*?)\]\]><\/Content>/.exec(xml)
  return m ? m[1]!.replace(/\]\]\]\]><!\[CDATA\[>/g, ']]>') : `[${/<MsgType><!\[CDATA\[(\w+)/.exec(xml)?.[1] ?? '?'}]`
}

/** One account, one user, a fake clock. */
export class Sim {
  readonly clock = new FakeClock()
  readonly seen: Seen[] = []
  readonly api: FakeKefuApi
  readonly dispatcher: Dispatcher
  runs = 0
  outcomes: string[] = []

  constructor(readonly o: SimOptions) {
    this.api = new FakeKefuApi(o.preset ?? 'verified', this.clock)
    const answer = o.answer ?? ((q: string) => `answer to ${q}`)
    this.dispatcher = new Dispatcher({
      handlers: {
        onMessage: (m) => {
          this.runs++
          const q = m.msgType === 'text' ? m.content : m.msgType
          return new Promise((resolve) => {
            this.clock.setTimeout(() => resolve(typeof answer === 'string' ? answer : answer(q)), o.handlerMs)
          })
        },
      },
      store: new MemoryStore({ now: () => this.clock.now() }),
      log: o.log ?? silentLog,
      appId: 'wxSIM',
      replyTimeoutMs: 4500,
      slowReply: o.strategy,
      kefuApi: o.withSecret === false ? undefined : o.strategy === 'customer-service' || o.withSecret ? this.api : undefined,
      clock: this.clock,
      ...o.extra,
    })
  }

  get t(): number {
    return this.clock.now() - T0
  }

  async step(ms: number, by = 100): Promise<void> {
    for (let done = 0; done < ms; done += by) {
      this.clock.advance(Math.min(by, ms - done))
      await new Promise<void>((r) => setImmediate(r))
      await new Promise<void>((r) => setImmediate(r))
    }
  }

  /**
   * The user sends `text`; WeChat pushes it up to 3 times (0 / 5 / 10 s), each attempt dropped at
   * 5 s. Returns once WeChat is done with it (answered, or gave up showing the notice); the clock
   * has then moved on by up to 15 s.
   */
  async send(text: string, options: { event?: string } = {}): Promise<void> {
    const msgId = String(++msgSeq + 1_000_000)
    const createTime = Math.floor(this.clock.now() / 1000)
    const xml = options.event
      ? `<xml><ToUserName><![CDATA[gh_sim]]></ToUserName><FromUserName><![CDATA[${USER}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${options.event}]]></Event><EventKey><![CDATA[K]]></EventKey></xml>`
      : `<xml><ToUserName><![CDATA[gh_sim]]></ToUserName><FromUserName><![CDATA[${USER}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${text}]]></Content><MsgId>${msgId}</MsgId></xml>`
    const msg = parseMessage(xml)
    const firstAt = this.clock.now()
    let settledWith: { reply: string | null } | undefined
    for (let attempt = 0; attempt < 3 && settledWith === undefined; attempt++) {
      const start = firstAt + attempt * 5000
      if (this.clock.now() < start) await this.step(start - this.clock.now())
      let result: { reply: string | null; outcome: string } | undefined
      void Promise.resolve(this.dispatcher.dispatch(msg, this.clock.now(), silentLog)).then((r) => {
        result = r
        this.outcomes.push(r.outcome)
      })
      // WeChat listens for 5 s.
      for (let waited = 0; waited < 5000 && result === undefined; waited += 50) await this.step(50, 50)
      if (result !== undefined && this.clock.now() - start <= 5000) settledWith = result
    }
    if (settledWith === undefined) {
      this.seen.push({ at: this.t, via: 'notice', text: FAILURE_NOTICE })
      return
    }
    const shown = contentOf(settledWith.reply)
    if (shown !== undefined) this.seen.push({ at: this.t, via: 'reply', text: shown })
  }

  /** Collects 客服 messages sent so far into what the user saw. */
  collectKefu(): void {
    for (const m of this.api.sent.splice(0)) this.seen.push({ at: m.at, via: 'kefu', text: m.text })
  }

  texts(): string[] {
    this.collectKefu()
    return this.seen.sort((a, b) => a.at - b.at).map((s) => s.text)
  }
}
