/**
 * One playground session: the user's bot (loaded and served exactly as `wx-mp-svr <handler-file>`
 * serves it), the mock WeChat API it delivers customer-service messages to, and the emulator
 * playing WeChat against it — plus the record of every exchange the page shows: the wire (the
 * signed request, the reply as sent), the plaintexts, the judge's problems, the attempts on
 * WeChat's 0 / 5 / 10 s schedule and the handler's run.
 *
 * Pushes are sent one at a time, in order (as one user's phone sends them); a change of mode,
 * account or strategy waits its turn in the same queue and restarts the bot's endpoint (and the
 * mock API) with the new options, each time with a fresh store, so the conversation can be
 * replayed by an exported test segment by segment.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { WxMpCrypto } from '../core/crypto.js'
import type { ReplyMessage } from '../core/reply.js'
import { createEmulator, type SendResult } from '../emulator/emulator.js'
import type { EmulatorMode } from '../emulator/envelope.js'
import { MOCK_APP_ID, MOCK_APP_SECRET, type MockApiMessage, type MockApiPreset } from '../emulator/mock-api-account.js'
import { startMockApi, type MockApi } from '../emulator/mock-api.js'
import type { Problem } from '../emulator/problems.js'
import { randomOpenId, randomOriginalId } from '../emulator/push.js'
import { FAILURE_NOTICE } from '../emulator/shown.js'
import { exchange as httpExchange } from '../emulator/transport.js'
import { createServer } from '../server/create-server.js'
import type { HandlerModule } from '../cli/load-handlers.js'
import type { SlowReplyStrategy } from '../slow-reply/strategy.js'
import { defaultSlowReplyTexts } from '../slow-reply/strategy.js'
import { cardOfCustomMessage, cardOfReply, type Card } from './card.js'
import type { UserAction } from './actions.js'
import { PlaygroundInputError } from './input-error.js'

/** What the controls set: the encryption mode, the account preset and the slow-reply strategy. */
export interface PlaygroundSettings {
  mode: EmulatorMode
  account: MockApiPreset
  strategy: SlowReplyStrategy
}

/** One attempt on the timeline. */
export interface TimelineAttempt {
  /** 1-based. */
  number: number
  /** Milliseconds after the first attempt started. */
  at: number
  ms: number
  /** HTTP status, 0 when none came. */
  status: number
  /**
   * `answered` (WeChat took the answer), `held` (no answer within 5 s and WeChat tried again),
   * `timed-out` (no answer within 5 s on the last attempt), `failed` (any other failure).
   */
  state: 'answered' | 'held' | 'timed-out' | 'failed'
  error?: string
}

/** One run of a handler of the bot, in milliseconds after the exchange was sent. */
export interface HandlerRun {
  start: number
  /** Absent while it runs. */
  end?: number
  /** The error it threw, if any. */
  error?: string
}

/** One push and everything about its delivery. */
export interface ExchangeRecord {
  id: number
  label: string
  input: UserAction['input']
  settings: PlaygroundSettings
  /** Epoch ms when the push was sent (or queued, while `queued`). */
  sentAt: number
  status: 'queued' | 'sending' | 'done'
  /** The request as WeChat sent it: method, path with the signed query, body. */
  request?: { method: string; url: string; body: string }
  /** The push's plaintext XML (the decrypted body in compat and safe mode). */
  requestXml?: string
  /** The body of the last answer the bot sent (encrypted in compat and safe mode). */
  replyBody?: string
  /** The reply's plaintext XML. */
  replyXml?: string
  problems: Problem[]
  attempts: TimelineAttempt[]
  handlerRuns: HandlerRun[]
  /** `false` when the phone shows the failure notice. */
  ok?: boolean
  /** When the delivery ended, ms after `sentAt`. */
  endedMs?: number
  /** Why the push could not be sent at all (the emulator refused the input). */
  error?: string
}

/** One bubble of the conversation. */
export interface Bubble {
  id: number
  exchangeId: number
  /** `user`; `bot` (a passive reply); `kefu` (客服, a customer-service message); `notice` (WeChat's failure notice). */
  from: 'user' | 'bot' | 'kefu' | 'notice'
  /** Epoch ms. */
  at: number
  /** What the phone shows, in one line (as `wx-mp-svr send` prints it). */
  text: string
  card: Card
  /** A slow-reply placeholder (the answer is still being prepared). */
  placeholder?: boolean
}

/** What the page draws. */
export interface PlaygroundState {
  handlerFile: string
  settings: PlaygroundSettings
  bubbles: Bubble[]
  exchanges: ExchangeRecord[]
}

/** Options of {@link startPlayground}. */
export interface PlaygroundOptions {
  /** The handler file as the user named it (shown, and written into exported tests). */
  handlerFile: string
  /** The loaded handlers (`loadHandlers`). */
  handlers: HandlerModule
  settings: PlaygroundSettings
  /** Environment the bot reads `WX_MP_*` settings from (besides the ones the playground sets). */
  env?: Record<string, string | undefined>
  /** The bot's logger; `false` for none. */
  logger?: Logger | false
}

/** A running session; see {@link startPlayground}. */
export interface Playground {
  /** The secrets the bot and the emulator share (throwaway values, made for this session). */
  readonly secrets: { token: string; aesKey: string; appId: string; appSecret: string; fromUserName: string; toUserName: string }
  settings(): PlaygroundSettings
  state(): PlaygroundState
  /** Queues a push; resolves when it is delivered. */
  send(action: UserAction): { id: number; done: Promise<ExchangeRecord> }
  /** Queues a change of settings; resolves when the bot runs with them. */
  configure(change: Partial<PlaygroundSettings>): Promise<PlaygroundSettings>
  /** Calls `listener` after every change of the state; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
  /** Waits for the queue to be empty. */
  idle(): Promise<void>
  close(): Promise<void>
}

interface RunningBot {
  settings: PlaygroundSettings
  app: FastifyInstance
  url: string
  api: MockApi
  stopListening: () => void
}

/** The bot's callback path. */
const BOT_PATH = '/wx'

function randomAesKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
  return Array.from(randomBytes(43), (b) => alphabet[b % alphabet.length]).join('')
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/**
 * Starts a session: the mock API and the bot on free loopback ports, ready for {@link Playground.send}.
 *
 * @throws whatever `createServer` throws for the bot's options (the CLI prints it).
 */
export async function startPlayground(options: PlaygroundOptions): Promise<Playground> {
  const secrets = {
    token: randomBytes(16).toString('hex'),
    aesKey: randomAesKey(),
    appId: MOCK_APP_ID,
    appSecret: MOCK_APP_SECRET,
    fromUserName: randomOpenId(),
    toUserName: randomOriginalId(),
  }
  const crypto = new WxMpCrypto({ token: secrets.token, aesKey: secrets.aesKey, appId: secrets.appId })
  let settings: PlaygroundSettings = { ...options.settings }
  const exchanges: ExchangeRecord[] = []
  const bubbles: Bubble[] = []
  const listeners = new Set<() => void>()
  let nextBubble = 1
  /** The exchange being delivered: the handler runs that start now belong to it. */
  let active: { record: ExchangeRecord; t0: number } | undefined
  let queue: Promise<unknown> = Promise.resolve()
  let closed = false

  const changed = (): void => {
    for (const listener of listeners) {
      try {
        listener()
      } catch {
        // A listener (an SSE stream that went away) must not stop the others.
      }
    }
  }
  const addBubble = (bubble: Omit<Bubble, 'id'>): void => {
    bubbles.push({ id: nextBubble++, ...bubble })
  }

  // The bot's handlers, each run drawn under the timeline of the exchange it belongs to.
  const traced: HandlerModule = { ...options.handlers }
  for (const name of ['onMessage', 'onSubscribe', 'onEvent'] as const) {
    const handler = options.handlers[name] as ((...args: unknown[]) => unknown) | undefined
    if (!handler) continue
    ;(traced as Record<string, unknown>)[name] = (...args: unknown[]): unknown => {
      const owner = active
      const run: HandlerRun = { start: owner ? Math.round(performance.now() - owner.t0) : 0 }
      owner?.record.handlerRuns.push(run)
      const end = (err?: unknown): void => {
        if (!owner) return
        run.end = Math.round(performance.now() - owner.t0)
        if (err !== undefined) run.error = errorText(err)
        changed()
      }
      let result: unknown
      try {
        result = handler(...args)
      } catch (err) {
        end(err)
        throw err
      }
      if (!isThenable(result)) {
        end()
        return result
      }
      return Promise.resolve(result).then(
        (value) => {
          end()
          return value
        },
        (err: unknown) => {
          end(err ?? new Error('rejected'))
          throw err
        },
      )
    }
  }

  const onCustomerService = (message: MockApiMessage): void => {
    if (message.openId !== secrets.fromUserName) return
    const owner = active?.record ?? exchanges.filter((e) => e.status === 'done').at(-1)
    addBubble({ exchangeId: owner?.id ?? 0, from: 'kefu', at: message.at, text: message.text, card: cardOfCustomMessage(message.body, message.text) })
    changed()
  }

  async function startBot(next: PlaygroundSettings): Promise<RunningBot> {
    const api = await startMockApi({ preset: next.account, appId: secrets.appId, appSecret: secrets.appSecret })
    const stopListening = api.onMessage(onCustomerService)
    try {
      const app = await createServer({
        ...traced,
        token: secrets.token,
        ...(next.mode === 'plain' ? {} : { aesKey: secrets.aesKey }),
        appId: secrets.appId,
        appSecret: secrets.appSecret,
        apiBaseUrl: api.baseUrl,
        slowReply: next.strategy,
        path: BOT_PATH,
        env: options.env ?? {},
        logger: options.logger ?? false,
      })
      await app.listen({ port: 0, host: '127.0.0.1' })
      const address = app.server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      return { settings: next, app, url: `http://127.0.0.1:${port}${BOT_PATH}`, api, stopListening }
    } catch (err) {
      stopListening()
      await api.close()
      throw err
    }
  }

  /** Lets the old bot finish what runs (its late 客服 messages still show), then stops it. */
  function retire(old: RunningBot): Promise<void> {
    return old.app
      .close()
      .catch(() => undefined)
      .then(() => {
        old.stopListening()
        return old.api.close()
      })
  }

  let bot = await startBot(settings)
  const retiring = new Set<Promise<void>>()

  async function deliver(record: ExchangeRecord): Promise<ExchangeRecord> {
    const current = bot
    // The settings of the bot that receives it: a change queued before this push is in force.
    record.settings = { ...current.settings }
    record.status = 'sending'
    record.sentAt = Date.now()
    const t0 = performance.now()
    active = { record, t0 }
    changed()
    const emulator = createEmulator({
      url: current.url,
      token: secrets.token,
      mode: record.settings.mode,
      ...(record.settings.mode === 'plain' ? {} : { aesKey: secrets.aesKey, appId: secrets.appId }),
      fromUserName: secrets.fromUserName,
      toUserName: secrets.toUserName,
      mockApi: current.api,
      exchange: async (url, exchangeOptions) => {
        record.request ??= { method: exchangeOptions.method, url: url.pathname + url.search, body: exchangeOptions.body ?? '' }
        const answer = await httpExchange(url, exchangeOptions)
        if (answer.body !== '' || answer.status !== 0) record.replyBody = answer.body
        return answer
      },
    })
    let result: SendResult
    try {
      result = await emulator.send(record.input, {
        onAttempt: (attempt, number) => {
          const state: TimelineAttempt['state'] =
            attempt.error === undefined ? 'answered' : attempt.error === 'timeout' ? (number < 3 ? 'held' : 'timed-out') : 'failed'
          record.attempts.push({ number, at: attempt.at, ms: attempt.ms, status: attempt.status, state, ...(attempt.error ? { error: attempt.error } : {}) })
          changed()
        },
      })
    } catch (err) {
      // Only an input the emulator cannot build throws; the page shows it as a failed exchange.
      record.error = errorText(err)
      record.ok = false
      record.status = 'done'
      active = undefined
      changed()
      return record
    }
    active = undefined
    record.endedMs = Date.now() - record.sentAt
    record.problems = result.warnings
    record.replyXml = result.replyXml
    record.ok = result.ok
    if (record.request) {
      try {
        record.requestXml = record.settings.mode === 'plain' ? record.request.body : crypto.decrypt(crypto.readEncrypt(record.request.body))
      } catch (err) {
        record.requestXml = `(could not decrypt: ${errorText(err)})`
      }
    }
    for (const shown of result.messages) {
      if (shown.via === 'customer-service') continue // drawn as they arrive, by onCustomerService
      const at = record.sentAt + shown.at
      if (shown.via === 'notice') {
        addBubble({ exchangeId: record.id, from: 'notice', at, text: FAILURE_NOTICE, card: { kind: 'text', text: FAILURE_NOTICE } })
      } else {
        const reply = result.reply as ReplyMessage
        const placeholder = reply.msgType === 'text' && (reply.content === defaultSlowReplyTexts.placeholder || reply.content.startsWith('回答还在准备中'))
        addBubble({ exchangeId: record.id, from: 'bot', at, text: shown.text, card: cardOfReply(reply), ...(placeholder ? { placeholder } : {}) })
      }
    }
    record.status = 'done'
    changed()
    return record
  }

  function enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = queue.then(job)
    queue = run.catch(() => undefined)
    return run
  }

  return {
    secrets,
    settings: () => ({ ...settings }),
    state: () => ({ handlerFile: options.handlerFile, settings: { ...settings }, bubbles: [...bubbles], exchanges: [...exchanges] }),
    send(action) {
      if (closed) throw new PlaygroundInputError('INVALID_FIELD', 'The playground is closing.')
      const record: ExchangeRecord = {
        id: exchanges.length + 1,
        label: action.label,
        input: action.input,
        settings: { ...settings },
        sentAt: Date.now(),
        status: 'queued',
        problems: [],
        attempts: [],
        handlerRuns: [],
      }
      exchanges.push(record)
      addBubble({ exchangeId: record.id, from: 'user', at: record.sentAt, text: action.label, card: { kind: 'text', text: action.label } })
      changed()
      const done = enqueue(() => deliver(record))
      return { id: record.id, done }
    },
    configure(change) {
      const next = { ...settings, ...change }
      settings = next
      changed()
      return enqueue(async () => {
        const old = bot
        bot = await startBot(next)
        const retired = retire(old)
        retiring.add(retired)
        void retired.finally(() => retiring.delete(retired))
        changed()
        return { ...next }
      })
    },
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    idle: () => queue.then(() => undefined),
    async close() {
      closed = true
      await queue
      await Promise.all([retire(bot), ...retiring])
      listeners.clear()
    },
  }
}
