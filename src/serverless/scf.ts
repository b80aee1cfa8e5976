/**
 * Tencent Cloud SCF (云函数) event functions: the function-URL event and the API-Gateway event
 * (API-Gateway triggers are being retired from 2026-10-30; use a function URL). Web functions
 * need no adapter: run `npx wx-mp-svr bot.ts --host 0.0.0.0 --port 9000` from `scf_bootstrap`.
 *
 * Official reference (function URL event and response):
 * https://cloud.tencent.com/document/product/583/96099
 *
 * @module
 */
import type { CallbackHandler } from '../server/callback-handler.js'
import { createServerlessEndpoint, eventBody, notAnHttpEvent, queryObject, toEventResponse, type EventResponse, type ServerlessOptions } from './serverless-endpoint.js'

/**
 * The event of an SCF event function behind a function URL (`{ httpMethod, path, queryString,
 * headers, body }`) or behind the legacy API Gateway, whose `queryString` holds every parameter
 * and `queryStringParameters` only those declared on the API.
 */
export interface ScfHttpEvent {
  httpMethod: string
  path?: string
  queryString?: Record<string, string | string[]>
  queryStringParameters?: Record<string, string>
  headers?: Record<string, string>
  body?: string
  isBase64Encoded?: boolean
  requestContext?: Record<string, unknown>
}

/** An SCF event function's handler, with the endpoint underneath. */
export type ScfHandler = ((event: ScfHttpEvent, context?: unknown) => Promise<EventResponse>) & { readonly endpoint: CallbackHandler }

/**
 * Creates the handler of an SCF event function (`exports.main_handler`). Create it once, at module
 * scope. It returns `{ statusCode, headers, body }` with an explicit `content-type` (SCF sends an
 * object without `statusCode` as JSON, which WeChat reads as a failure).
 *
 * @throws {WxMpError} `INVALID_CONFIG`: no shared store (set `WX_MP_REDIS_URL` or pass `store`),
 * `slowReply: 'customer-service'`, or any configuration error.
 *
 * @example
 * ```ts
 * import { createScfHandler } from 'wx-mp-svr/serverless'
 * export const main_handler = createScfHandler({ onMessage: (msg) => (msg.msgType === 'text' ? msg.content : undefined) })
 * ```
 */
export function createScfHandler(options: ServerlessOptions = {}): ScfHandler {
  const core = createServerlessEndpoint(options, { adapter: 'createScfHandler', instancePerRequest: true })
  const handler = async (event: ScfHttpEvent, _context?: unknown): Promise<EventResponse> => {
    if (event === null || typeof event !== 'object' || typeof event.httpMethod !== 'string') return notAnHttpEvent('createScfHandler')
    const response = await core.handle({
      method: event.httpMethod.toUpperCase(),
      path: event.path,
      query: queryObject(event.queryString ?? event.queryStringParameters),
      headers: event.headers,
      body: eventBody(event.body, event.isBase64Encoded),
    })
    return toEventResponse(response)
  }
  return Object.assign(handler, { endpoint: core.endpoint })
}
