/**
 * The Fastify adapter: registers one account's callback route. Encapsulated (not wrapped in
 * fastify-plugin), so its body parser stays in its scope and registering it twice under two
 * prefixes serves two accounts in one process.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Callback, type CallbackResponse } from './callback.js'
import { systemClock, type Clock } from './clock.js'
import { resolveConfig, type EnvBackedOptions } from './config.js'
import { WxMpApi } from '../api/client.js'
import type { SlowReplyStrategy } from '../slow-reply/strategy.js'
import { StoreKeys } from '../store/keys.js'
import { MemoryStore } from '../store/memory-store.js'
import type { WxMpStore } from '../store/store.js'
import { Dispatcher, type BackgroundWork, type DedupFailurePolicy } from './dispatcher.js'
import type { Handlers, LateReplyHandler, Log } from './handlers.js'

/** The body limit of a push (WeChat's are a few KiB). */
export const BODY_LIMIT_BYTES = 64 * 1024

/** Options of the {@link wxMp} plugin (and of `createServer`). */
export interface WxMpOptions extends EnvBackedOptions, Handlers {
  /**
   * All shared state: dedup, attempt counts, pending answers, the quota ledger, the alarm counter
   * and the access token. Default: a {@link MemoryStore} (one process); share a Redis store
   * between instances.
   */
  store?: WxMpStore
  /** Bound of the default in-memory store, bytes. Default 16 MiB. */
  storeMaxBytes?: number
  /**
   * How long a finished push is remembered, ms. Default: the timestamp tolerance plus a minute
   * (6 min), so that a push replayed within the tolerance is a retry, never a second run.
   */
  dedupTtlMs?: number
  /** How an answer slower than the reply deadline reaches the user. Default `auto`; see {@link SlowReplyStrategy}. */
  slowReply?: SlowReplyStrategy
  /** The placeholder answered at the deadline under `next-message`. */
  slowReplyPlaceholder?: string
  /** A handler still running after this long is given up, ms. Default 120 000. */
  jobTimeoutMs?: number
  /** Whether work may go on after a response (serverless adapters set `none`). Default `allowed`. */
  background?: BackgroundWork
  /** Base URL of WeChat's API (a proxy, or the emulator's mock). Env `WX_MP_API_BASE_URL`. */
  apiBaseUrl?: string
  /** What to do when the dedup store fails. Default `'run'`. */
  onDedupError?: DedupFailurePolicy
  /** Receives results that finished after the deadline. Default: log "completed N ms after the deadline". */
  lateReply?: LateReplyHandler
  /** How long shutdown waits for handlers still running after their deadline, ms. Default 10 000. */
  drainTimeoutMs?: number
  /** The clock, injectable for tests. */
  clock?: Clock
  /** Environment to read `WX_MP_*` from. Default `process.env`. */
  env?: Record<string, string | undefined>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by the wxMp plugin in its own scope: this account's callback mode and path. */
    wxMp?: { mode: 'plain' | 'safe'; path: string; appId: string | undefined }
  }
}

/**
 * Registers WeChat's callback route for one account: `GET` answers URL verification, `POST`
 * handles pushes in plain, compatible and safe mode; other methods get 405.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { wxMp } from 'wx-mp-svr'
 * const app = Fastify()
 * await app.register(wxMp, { prefix: '/a', token: 'tokenA', onMessage: (m) => 'hi' })
 * await app.register(wxMp, { prefix: '/b', token: 'tokenB', aesKey, appId, onMessage })
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export const wxMp: FastifyPluginAsync<WxMpOptions> = async (app: FastifyInstance, options: WxMpOptions) => {
  const config = resolveConfig(options, options.env)
  const clock = options.clock ?? systemClock
  const log = app.log as unknown as Log
  const store = options.store ?? new MemoryStore({ maxBytes: options.storeMaxBytes, now: () => clock.now() })
  const dispatcher = new Dispatcher({
    handlers: {
      onMessage: options.onMessage,
      onSubscribe: options.onSubscribe,
      onEvent: options.onEvent,
      onError: options.onError,
    },
    store,
    keys: new StoreKeys('wxmp', config.appId),
    log,
    appId: config.appId,
    replyTimeoutMs: config.replyTimeoutMs,
    dedupTtlMs: options.dedupTtlMs ?? (config.timestampToleranceS + 60) * 1000,
    onDedupError: options.onDedupError,
    // A lateReply of the author's own is their strategy, unless they chose one of the kit's.
    slowReply: options.slowReply ?? (options.lateReply ? 'success' : undefined),
    texts: options.slowReplyPlaceholder ? { placeholder: options.slowReplyPlaceholder } : undefined,
    kefuApi:
      config.appId !== undefined && config.appSecret !== undefined
        ? new WxMpApi({ appId: config.appId, appSecret: config.appSecret, baseUrl: options.apiBaseUrl ?? options.env?.['WX_MP_API_BASE_URL'] ?? process.env['WX_MP_API_BASE_URL'] })
        : undefined,
    jobTimeoutMs: options.jobTimeoutMs,
    background: options.background,
    lateReply: options.lateReply,
    clock,
  })
  const callback = new Callback({ config, dispatcher, log, clock })
  app.decorate('wxMp', { mode: callback.mode, path: config.path, appId: config.appId })

  // WeChat posts text/xml; accept any content type as raw text in this scope only.
  app.removeAllContentTypeParsers()
  const arrivals = new WeakMap<FastifyRequest, number>()
  // A callback-style hook: an async one costs a promise and its resolution on every request.
  app.addHook('onRequest', (request, _reply, done) => {
    // The reply deadline counts from arrival, not from when the body has been read.
    arrivals.set(request, clock.now())
    // A push with an empty Content-Type (some proxies blank it) is still XML.
    if (!request.headers['content-type']) request.headers['content-type'] = 'text/xml'
    done()
  })
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => {
    done(null, body)
  })

  app.setErrorHandler((err: { statusCode?: number; code?: string }, request: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode === 413 ? 413 : 400
    request.log.warn({ outcome: 'rejected', status, reason: err.code }, 'push rejected before parsing')
    return reply.code(status).type('text/plain; charset=utf-8').send(status === 413 ? 'payload too large' : 'bad request')
  })

  const send = (reply: FastifyReply, response: CallbackResponse): FastifyReply =>
    reply.code(response.status).type(response.contentType).send(response.body)
  // Not an async function: most pushes are answered synchronously, without a promise.
  const handler = (request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> => {
    const response = callback.handle({
      method: request.method,
      query: request.query as Record<string, unknown>,
      body: typeof request.body === 'string' ? request.body : undefined,
      receivedAt: arrivals.get(request),
    })
    return response instanceof Promise ? response.then((r) => send(reply, r)) : send(reply, response)
  }
  app.route({ method: ['GET', 'POST'], url: config.path, handler, bodyLimit: BODY_LIMIT_BYTES })
  app.route({
    method: ['PUT', 'DELETE', 'PATCH', 'OPTIONS'],
    url: config.path,
    handler: async (_request, reply) => reply.code(405).header('allow', 'GET, POST').type('text/plain; charset=utf-8').send('method not allowed'),
  })

  app.addHook('onClose', async () => {
    await dispatcher.drain(options.drainTimeoutMs ?? 10_000)
  })
}
