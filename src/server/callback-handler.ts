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
import { MemoryDedupStore, type DedupStore } from './dedup-store.js'
import { Dispatcher, type DedupFailurePolicy } from './dispatcher.js'
import type { Handlers, LateReplyHandler, Log } from './handlers.js'
import { createLogger } from './logger.js'

/** Options of one account's endpoint: the `wxMp` plugin, `createServer` and {@link createCallbackHandler}. */
export interface WxMpOptions extends EnvBackedOptions, Handlers {
  /** Where pushes are remembered for dedup. Default: a {@link MemoryDedupStore} of `dedupMaxEntries`. */
  dedupStore?: DedupStore
  /** Bound of the default in-memory dedup store. Default 10 000. */
  dedupMaxEntries?: number
  /** How long a push is remembered, ms. Default 60 000. */
  dedupTtlMs?: number
  /** What to do when the dedup store fails. Default `'run'`. */
  onDedupError?: DedupFailurePolicy
  /** Receives results that finished after the deadline. Default: log "completed N ms after the deadline". */
  lateReply?: LateReplyHandler
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
}

/** What the adapter provides besides the options. */
export interface CallbackHandlerRuntime {
  /** Where the endpoint logs. Default: {@link createLogger} writing JSON lines to stdout. */
  log?: Log
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
  const dispatcher = new Dispatcher({
    handlers: {
      onMessage: options.onMessage,
      onSubscribe: options.onSubscribe,
      onEvent: options.onEvent,
      onError: options.onError,
    },
    store: options.dedupStore ?? new MemoryDedupStore({ maxEntries: options.dedupMaxEntries, now: () => clock.now() }),
    log,
    appId: config.appId,
    replyTimeoutMs: config.replyTimeoutMs,
    dedupTtlMs: options.dedupTtlMs,
    onDedupError: options.onDedupError,
    lateReply: options.lateReply,
    clock,
  })
  const callback = new Callback({ config, dispatcher, log, clock })
  return {
    handle: (request) => callback.handle(request),
    drain: (timeoutMs = config.drainTimeoutMs) => dispatcher.drain(timeoutMs),
    mode: callback.mode,
    path: config.path,
    config,
  }
}
