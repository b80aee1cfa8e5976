/**
 * AWS Lambda behind API Gateway (REST API payload 1.0, HTTP API payload 2.0) or a Lambda function
 * URL (payload 2.0).
 *
 * Official reference (the payload formats):
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 *
 * @module
 */
import type { CallbackHandler } from '../server/callback-handler.js'
import {
  createServerlessEndpoint,
  eventBody,
  notAnHttpEvent,
  parseQueryString,
  queryObject,
  toEventResponse,
  type EventResponse,
  type ServerlessOptions,
} from './serverless-endpoint.js'

/** API Gateway's REST-API proxy event (payload format 1.0). */
export interface LambdaV1Event {
  httpMethod: string
  path?: string
  queryStringParameters?: Record<string, string> | null
  headers?: Record<string, string> | null
  body?: string | null
  isBase64Encoded?: boolean
  requestContext?: { requestTimeEpoch?: number; [key: string]: unknown }
}

/** API Gateway's HTTP-API event and a function URL's (payload format 2.0). */
export interface LambdaV2Event {
  version: '2.0'
  rawPath?: string
  rawQueryString?: string
  headers?: Record<string, string>
  body?: string
  isBase64Encoded?: boolean
  requestContext: { http: { method: string; path?: string }; timeEpoch?: number; [key: string]: unknown }
}

/** A Lambda handler, with the endpoint underneath. */
export type LambdaHandler = ((event: LambdaV1Event | LambdaV2Event, context?: unknown) => Promise<EventResponse>) & { readonly endpoint: CallbackHandler }

/**
 * Creates the handler of a Lambda function (`export const handler`). Create it once, at module
 * scope.
 *
 * @throws {WxMpError} `INVALID_CONFIG`: no shared store (set `WX_MP_REDIS_URL` or pass `store`),
 * `slowReply: 'customer-service'`, or any configuration error.
 *
 * @example
 * ```ts
 * import { createLambdaHandler } from 'wx-mp-svr/serverless'
 * export const handler = createLambdaHandler({ onMessage: (msg) => (msg.msgType === 'text' ? msg.content : undefined) })
 * ```
 */
export function createLambdaHandler(options: ServerlessOptions = {}): LambdaHandler {
  const core = createServerlessEndpoint(options, { adapter: 'createLambdaHandler', instancePerRequest: true })
  const handler = async (event: LambdaV1Event | LambdaV2Event, _context?: unknown): Promise<EventResponse> => {
    if (event === null || typeof event !== 'object') return notAnHttpEvent('createLambdaHandler')
    const v2 = (event as LambdaV2Event).requestContext?.http
    if (v2 !== undefined && typeof v2.method === 'string') {
      const e = event as LambdaV2Event
      return toEventResponse(
        await core.handle({
          method: v2.method.toUpperCase(),
          path: e.rawPath ?? v2.path,
          query: parseQueryString(e.rawQueryString),
          headers: e.headers,
          body: eventBody(e.body, e.isBase64Encoded),
          receivedAt: e.requestContext.timeEpoch,
        }),
      )
    }
    const e = event as LambdaV1Event
    if (typeof e.httpMethod !== 'string') return notAnHttpEvent('createLambdaHandler')
    return toEventResponse(
      await core.handle({
        method: e.httpMethod.toUpperCase(),
        path: e.path,
        query: queryObject(e.queryStringParameters),
        headers: e.headers ?? undefined,
        body: eventBody(e.body, e.isBase64Encoded),
        receivedAt: e.requestContext?.requestTimeEpoch,
      }),
    )
  }
  return Object.assign(handler, { endpoint: core.endpoint })
}
