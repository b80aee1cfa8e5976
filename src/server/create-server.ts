/**
 * `createServer`: a ready Fastify app with one account's callback route and `/healthz`, with
 * HTTP limits that fit WeChat (it sends a whole push at once and gives up after 5 s) and a
 * shutdown bounded by the drain timeout.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { BODY_LIMIT_BYTES } from './callback.js'
import type { WxMpOptions } from './callback-handler.js'
import { resolveConfig } from './config.js'
import { createLogger } from './logger.js'
import { wxMp } from './plugin.js'

/**
 * Limits on connections and requests. WeChat opens a connection, sends the whole push at once and
 * gives up after 5 s, so a client that takes longer than a few seconds to send a request is not
 * WeChat; these limits cut it off instead of letting it hold a connection.
 */
export interface HttpLimits {
  /** Time to receive a request's headers, ms. */
  headersTimeoutMs: number
  /** Time to receive a whole request (headers and body), ms. */
  requestTimeoutMs: number
  /** How often Node checks the two timeouts above, ms (Node's own default is 30 000). */
  connectionsCheckingIntervalMs: number
  /** A connection with no traffic at all is closed after this, ms. */
  idleTimeoutMs: number
  /** An idle keep-alive connection is closed after this, ms. */
  keepAliveTimeoutMs: number
  /** Requests served on one keep-alive connection before it is closed. */
  maxRequestsPerSocket: number
  /** Open connections at most; more are refused at once. */
  maxConnections: number
}

/** The default {@link HttpLimits}: a trickling client is cut off within 11 s. */
export const defaultHttpLimits: Readonly<HttpLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  connectionsCheckingIntervalMs: 1_000,
  idleTimeoutMs: 30_000,
  keepAliveTimeoutMs: 10_000,
  maxRequestsPerSocket: 1_000,
  maxConnections: 1_024,
})

/** Options of {@link createServer}: the plugin's, plus the logger and the HTTP limits. */
export interface CreateServerOptions extends WxMpOptions {
  /** A pino logger, or `false` to log nothing. Default: {@link createLogger}. */
  logger?: Logger | false
  /** Connection and request limits; each unset field keeps its {@link defaultHttpLimits} value. */
  httpLimits?: Partial<HttpLimits>
}

/**
 * Creates the Fastify app for one account (not listening: call `app.listen()`), with the callback
 * route at `path` (default `/wx`) and `GET /healthz`. Configuration errors throw here, at once,
 * naming the option and its `WX_MP_*` variable.
 *
 * `app.close()` stops accepting, closes idle keep-alive connections at once, answers the requests
 * in flight with `Connection: close`, waits for handlers still running after their deadline, and
 * gives up on all of it after `drainTimeoutMs` (`WX_MP_DRAIN_TIMEOUT_MS`, default 60 s).
 *
 * @example
 * ```ts
 * import { createServer } from 'wx-mp-svr'
 * const app = await createServer({ onMessage: (msg) => msg.msgType === 'text' ? msg.content : undefined })
 * await app.listen({ port: 5001 })
 * ```
 */
export async function createServer(options: CreateServerOptions = {}): Promise<FastifyInstance> {
  const { logger, httpLimits, ...pluginOptions } = options
  // Fail before a server exists; the plugin resolves the same options again when it registers.
  const { drainTimeoutMs } = resolveConfig(pluginOptions, pluginOptions.env)
  const limits = { ...defaultHttpLimits, ...httpLimits }
  const app = Fastify({
    loggerInstance: logger === false ? createLogger({ level: 'silent' }) : (logger ?? createLogger()),
    // One line per push comes from the callback itself; Fastify's two lines per request would double the cost.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: each push's own line carries its identifiers, and a pino child
    // per request costs more than the rest of the request's logging.
    childLoggerFactory: (logger) => logger,
    bodyLimit: BODY_LIMIT_BYTES,
    // The callback plugin waits up to 5 s for WX_MP_REDIS_URL and then fails with the error that
    // names it; Fastify's own 10 s limit would cut in first on a loaded machine.
    pluginTimeout: 30_000,
    // While closing, requests on connections already open are still answered (with
    // `Connection: close`): a 503 would make WeChat retry against a process that is going away.
    return503OnClosing: false,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxRequestsPerSocket: limits.maxRequestsPerSocket,
    http: { connectionsCheckingInterval: limits.connectionsCheckingIntervalMs, headersTimeout: limits.headersTimeoutMs },
  }) as unknown as FastifyInstance
  app.server.maxConnections = limits.maxConnections

  let closing = false
  let forceClose: NodeJS.Timeout | undefined
  app.addHook('preClose', (done) => {
    closing = true
    // The connections idle now are closed; the rest after their answer, which says
    // `Connection: close` (the plugin and /healthz add it while closing). Whatever is still open
    // when the drain timeout passes is cut.
    app.server.closeIdleConnections()
    forceClose = setTimeout(() => app.server.closeAllConnections(), drainTimeoutMs)
    forceClose.unref()
    done()
  })
  app.addHook('onClose', (_instance, done) => {
    clearTimeout(forceClose)
    done()
  })

  app.get('/healthz', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
    return reply.type('text/plain; charset=utf-8').send('ok')
  })
  await app.register(wxMp, pluginOptions)
  return app
}
