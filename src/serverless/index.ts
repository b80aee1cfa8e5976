/**
 * `wx-mp-svr/serverless`: the callback endpoint as a cloud function. Loads neither Fastify nor
 * pino-pretty.
 *
 * - {@link createFetchHandler}: `(Request) => Promise<Response>` (Vercel, Cloudflare Workers, Deno, Bun, Hono).
 * - {@link createScfHandler}: Tencent SCF event functions (function URL, API Gateway).
 * - {@link createFcHandler}: Aliyun FC 3.0 HTTP triggers.
 * - {@link createLambdaHandler}: AWS Lambda (API Gateway v1/v2, function URLs).
 *
 * Web functions (SCF web functions, FC custom runtimes) need no adapter: run the CLI,
 * `npx wx-mp-svr bot.ts --host 0.0.0.0 --port 9000`.
 *
 * @module
 */
export { createFetchHandler, type FetchHandler, type FetchContext } from './fetch.js'
export { createScfHandler, type ScfHandler, type ScfHttpEvent } from './scf.js'
export { createFcHandler, type FcHandler, type FcHttpEvent } from './fc.js'
export { createLambdaHandler, type LambdaHandler, type LambdaV1Event, type LambdaV2Event } from './lambda.js'
export { SERVERLESS_REPLY_TIMEOUT_MS, type ServerlessOptions, type EventResponse } from './serverless-endpoint.js'
// What a bot module needs besides the adapter, without loading the package entry (and Fastify).
export { createRedisStore, type RedisStoreOptions } from '../store/redis-store.js'
export { MemoryStore } from '../store/memory-store.js'
export type { WxMpStore } from '../store/store.js'
export type { Handlers, HandlerContext, OnMessage, OnSubscribe, OnEvent, OnError, LateReply, LateReplyHandler, Log } from '../server/handlers.js'
export type { Reply, ReplyMessage } from '../core/reply.js'
export type { Message, NormalMessage, SubscribeEvent } from '../core/messages.js'
export { WxMpError, isWxMpError } from '../core/errors.js'
