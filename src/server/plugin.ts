/**
 * The Fastify adapter: registers one account's callback route around
 * {@link createCallbackHandler}. Encapsulated (not wrapped in fastify-plugin), so its body parser
 * stays in its scope and registering it twice under two prefixes serves two accounts in one
 * process.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */
import { METHODS } from 'node:http'
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { BODY_LIMIT_BYTES, refusalResponse, type CallbackResponse } from './callback.js'
import { createCallbackHandler, type WxMpOptions } from './callback-handler.js'
import { systemClock } from './clock.js'
import type { Log } from './handlers.js'

/**
 * Registers WeChat's callback route for one account: `GET` answers URL verification, `POST`
 * handles pushes in plain, compatible and safe mode; every other method gets 405 with
 * `Allow: GET, POST`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { wxMp } from 'wx-mp-svr'
 * const app = Fastify()
 * await app.register(wxMp, { prefix: '/a', token: 'tokenA', onMessage: (m) => 'hi' })
 * await app.register(wxMp, { prefix: '/b', token: 'tokenB', aesKey, appId, onMessage })
 * ```
 */
export const wxMp: FastifyPluginAsync<WxMpOptions> = async (app: FastifyInstance, options: WxMpOptions) => {
  const endpoint = createCallbackHandler(options, { log: app.log as unknown as Log })
  const clock = options.clock ?? systemClock
  // A shared store (WX_MP_REDIS_URL) must answer before the first push: a start-up error names it.
  await endpoint.ready

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

  // Set when the app starts closing: from then on every answer closes its connection, so a
  // keep-alive client does not hold the shutdown (idle connections are closed by the server).
  let closingSince: number | undefined
  const send = (reply: FastifyReply, response: CallbackResponse): FastifyReply => {
    reply.code(response.status).headers(response.headers)
    if (closingSince !== undefined) reply.header('connection', 'close')
    return reply.send(response.body)
  }

  // Refusals Fastify detects itself (a body over the limit, a body that cannot be read).
  app.setErrorHandler((err: { statusCode?: number; code?: string }, request: FastifyRequest, reply: FastifyReply) => {
    const response = refusalResponse(err.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'MALFORMED_XML')
    request.log.warn({ outcome: 'rejected', status: response.status, reason: err.code }, 'push rejected before parsing')
    return send(reply, response)
  })

  // Not an async function: most pushes are answered synchronously, without a promise.
  const handler = (request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> => {
    const response = endpoint.handle({
      method: request.method,
      query: request.query as Record<string, unknown>,
      headers: request.headers,
      body: typeof request.body === 'string' ? request.body : undefined,
      receivedAt: arrivals.get(request),
    })
    return response instanceof Promise ? response.then((r) => send(reply, r)) : send(reply, response)
  }
  // Every method reaches the one handler, which answers 405 for all but GET, HEAD and POST:
  // Fastify's own list (the '*' shorthand) misses WebDAV methods such as PROPFIND and LOCK.
  app.route({ method: callbackMethods(app), url: endpoint.path, handler, bodyLimit: BODY_LIMIT_BYTES })

  // Shutdown is bounded by the drain timeout as a whole: waiting for the answers in flight
  // (before onClose) counts against the time left for handlers running past their deadline.
  app.addHook('preClose', (done) => {
    closingSince = clock.now()
    done()
  })
  app.addHook('onClose', async () => {
    const spent = closingSince === undefined ? 0 : clock.now() - closingSince
    await endpoint.close(Math.max(0, endpoint.config.drainTimeoutMs - spent))
  })
}

/**
 * Every method Node parses, made routable (Fastify knows only the common ones and answers 404 to
 * PROPFIND, MKCOL, LOCK, …), except HEAD (served by GET's route) and CONNECT (Node hands it to
 * the server's `connect` event, never to a route).
 */
function callbackMethods(app: FastifyInstance): string[] {
  for (const method of METHODS) {
    if (method === 'CONNECT' || app.supportedMethods.includes(method)) continue
    app.addHttpMethod(method, { hasBody: true })
  }
  return app.supportedMethods.filter((m) => m !== 'HEAD' && m !== 'CONNECT')
}
