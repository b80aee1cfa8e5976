/**
 * `createServer`: a ready Fastify app with one account's callback route and `/healthz`.
 *
 * @module
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { createLogger } from './logger.js'
import { BODY_LIMIT_BYTES } from './callback.js'
import type { WxMpOptions } from './callback-handler.js'
import { wxMp } from './plugin.js'

/** Options of {@link createServer}: the plugin's, plus the logger. */
export interface CreateServerOptions extends WxMpOptions {
  /** A pino logger, or `false` to log nothing. Default: {@link createLogger}. */
  logger?: Logger | false
}

/**
 * Creates the Fastify app for one account (not listening: call `app.listen()`), with the callback
 * route at `path` (default `/wx`) and `GET /healthz`. Configuration errors throw here, at once,
 * naming the option and its `WX_MP_*` variable.
 *
 * @example
 * ```ts
 * import { createServer } from 'wx-mp-svr'
 * const app = await createServer({ onMessage: (msg) => msg.msgType === 'text' ? msg.content : undefined })
 * await app.listen({ port: 5001 })
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export async function createServer(options: CreateServerOptions = {}): Promise<FastifyInstance> {
  const { logger, ...pluginOptions } = options
  const app = Fastify({
    loggerInstance: logger === false ? createLogger({ level: 'silent' }) : (logger ?? createLogger()),
    // One line per push comes from the callback itself; Fastify's two lines per request would double the cost.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger: each push's own line carries its identifiers, and a pino child
    // per request costs more than the rest of the request's logging.
    childLoggerFactory: (logger) => logger,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
  }) as unknown as FastifyInstance
  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'))
  await app.register(wxMp, pluginOptions)
  return app
}
