/**
 * One account's callback endpoint, assembled from options and framework-free: options →
 * {@link resolveConfig} → {@link Dispatcher} with its store → {@link Callback}. The Fastify plugin
 * and the serverless adapters are each a few lines around {@link createCallbackHandler}; this is
 * the one place that wiring lives.
 *
 * Loads no HTTP framework and no pretty-printer.
 *
 * @module
 */
import type { EncryptionMode } from '../core/callback-protocol.js'
import { Callback, type CallbackRequest, type CallbackResponse } from './callback.js'
import { systemClock, type Clock } from './clock.js'
import { resolveConfig, type EnvBackedOptions, type ResolvedConfig } from './config.js'
import { WxMpApi } from '../api/client.js'
import { StoreKeys } from '../store/keys.js'
import { MemoryStore } from '../store/memory-store.js'
import { createRedisStore } from '../store/redis-store.js'
import { StoreTokenStore } from '../store/store-token-store.js'
import type { WxMpStore } from '../store/store.js'
import { Dispatcher, type BackgroundWork, type DedupFailurePolicy } from './dispatcher.js'
import type { Handlers, LateReplyHandler, Log } from './handlers.js'
import { createLogger } from './logger.js'

/** Options of one account's endpoint: the `wxMp` plugin, `createServer` and {@link createCallbackHandler}. */
export interface WxMpOptions extends EnvBackedOptions, Handlers {
  /**
   * All shared state: dedup, attempt counts, pending answers, the quota ledger, the alarm counter
   * and the access token. Default: a {@link MemoryStore} (one process). Several instances share
   * a Redis store (`WX_MP_REDIS_URL`, or `createRedisStore()` here).
   */
  store?: WxMpStore
  /** Bound of the default in-memory store, bytes. Default 16 MiB. */
  storeMaxBytes?: number
  /**
   * How long a finished push is remembered, ms. Default: the timestamp tolerance plus a minute
   * (6 min), so that a push replayed within the tolerance is a retry, never a second run.
   */
  dedupTtlMs?: number
  /** What to do when the store fails. Default `'run'`. */
  onDedupError?: DedupFailurePolicy
  /** A handler still running after this long is given up (logged; the user is told), ms. Default 120 000. */
  jobTimeoutMs?: number
  /** Whether work may go on after a response (serverless adapters without `waitUntil` set `none`). Default `allowed`. */
  background?: BackgroundWork
  /**
   * A slow-reply strategy of your own: receives answers that finished after the deadline. Giving
   * one without `slowReply` selects `slowReply: 'success'` (answer success, then this).
   */
  lateReply?: LateReplyHandler
  /** The API client the slow replies use for 客服 messages. Default: one made from the AppID and AppSecret. */
  api?: WxMpApi
  /** The clock, injectable for tests. */
  clock?: Clock
  /** Environment to read `WX_MP_*` from. Default `process.env`. */
  env?: Record<string, string | undefined>
}

/** What an adapter gets from {@link createCallbackHandler}. */
export interface CallbackHandler {
  /**
   * Answers one request to the callback URL. Synchronous when nothing needs waiting for (URL
   * verification, refusals, a handler that answers without a promise), else a promise. Never
   * throws, never rejects; never answers 500.
   */
  handle(request: CallbackRequest): CallbackResponse | Promise<CallbackResponse>
  /**
   * Waits for handlers still running after their deadline (and late-reply deliveries), at most
   * `timeoutMs` (default: the resolved `drainTimeoutMs`). Call it on shutdown.
   */
  drain(timeoutMs?: number): Promise<void>
  /** `safe` when an EncodingAESKey is configured (compatible pushes are handled too), else `plain`. */
  readonly mode: Exclude<EncryptionMode, 'compat'>
  /** The callback path (`WX_MP_PATH`, default `/wx`). */
  readonly path: string
  /** The validated configuration (holds secrets: never log it whole). */
  readonly config: ResolvedConfig
  /** The store all shared state lives in (the one given, Redis from `WX_MP_REDIS_URL`, or memory). */
  readonly store: WxMpStore
  /**
   * Resolves when the store is ready: at once in memory; for `WX_MP_REDIS_URL`, when Redis
   * answered (rejects within about 10 s, naming the variable and the address). Await it before
   * serving.
   */
  readonly ready: Promise<void>
  /** Waits for running work (as {@link drain}) and releases the store's connections if the kit opened them. */
  close(timeoutMs?: number): Promise<void>
}

/** What the adapter provides besides the options. */
export interface CallbackHandlerRuntime {
  /** Where the endpoint logs. Default: {@link createLogger} writing JSON lines to stdout. */
  log?: Log
  /**
   * Told of every piece of work that may outlive the response it began with; serverless adapters
   * hand it to the platform's `waitUntil` or await it before answering.
   */
  onBackground?: (work: Promise<unknown>) => void
}

/**
 * Creates one account's callback endpoint from options (falling back to `WX_MP_*` in
 * `options.env`, default `process.env`). Configuration errors throw here, at once.
 *
 * @throws {WxMpError} `INVALID_CONFIG` naming the option and its `WX_MP_*` variable.
 *
 * @example
 * ```ts
 * const endpoint = createCallbackHandler({ onMessage: (msg) => (msg.msgType === 'text' ? msg.content : undefined) })
 * const response = await endpoint.handle({ method: 'POST', query, body })
 * // → { status: 200, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: '<xml>…</xml>' }
 * ```
 */
export function createCallbackHandler(options: WxMpOptions = {}, runtime: CallbackHandlerRuntime = {}): CallbackHandler {
  const config = resolveConfig(options, options.env)
  const clock = options.clock ?? systemClock
  const log = runtime.log ?? (createLogger({ pretty: false }) as unknown as Log)
  const redis = options.store === undefined && config.redis !== undefined ? createRedisStore({ url: config.redis, log }) : undefined
  const store = options.store ?? redis ?? new MemoryStore({ maxBytes: options.storeMaxBytes, now: () => clock.now() })
  const ready = redis ? redis.connect() : Promise.resolve()
  // Observed here so that an adapter that never awaits it leaves no unhandled rejection.
  ready.catch(() => undefined)
  const keys = new StoreKeys(config.redisPrefix, config.appId)
  // A lateReply of the author's own is their strategy, unless they chose one of the kit's.
  const chosen = options.slowReply !== undefined || (options.env ?? process.env)['WX_MP_SLOW_REPLY'] !== undefined
  const slowReply = !chosen && options.lateReply !== undefined ? 'success' : config.slowReply
  const api =
    options.api ??
    (config.appId !== undefined && config.appSecret !== undefined
      ? new WxMpApi({ appId: config.appId, appSecret: config.appSecret, baseUrl: config.apiBaseUrl, env: {}, tokenStore: new StoreTokenStore(store, keys) })
      : undefined)
  const dispatcher = new Dispatcher({
    handlers: {
      onMessage: options.onMessage,
      onSubscribe: options.onSubscribe,
      onEvent: options.onEvent,
      onError: options.onError,
    },
    store,
    keys,
    log,
    appId: config.appId,
    replyTimeoutMs: config.replyTimeoutMs,
    dedupTtlMs: options.dedupTtlMs ?? (config.timestampToleranceS + 60) * 1000,
    onDedupError: options.onDedupError,
    slowReply,
    texts: { placeholder: config.slowReplyPlaceholder },
    kefuApi: api,
    jobTimeoutMs: options.jobTimeoutMs,
    background: options.background,
    lateReply: options.lateReply,
    onBackground: runtime.onBackground,
    clock,
  })
  const callback = new Callback({ config, dispatcher, log, clock })
  return {
    handle: (request) => callback.handle(request),
    drain: (timeoutMs = config.drainTimeoutMs) => dispatcher.drain(timeoutMs),
    store,
    ready,
    close: async (timeoutMs = config.drainTimeoutMs) => {
      await dispatcher.drain(timeoutMs)
      await redis?.close()
    },
    mode: callback.mode,
    path: config.path,
    config,
  }
}
