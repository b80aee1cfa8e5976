/**
 * Aliyun Function Compute 3.0 (函数计算) built-in runtimes behind an HTTP trigger. Custom
 * runtimes (web functions) need no adapter: start `npx wx-mp-svr bot.ts --host 0.0.0.0 --port 9000`.
 *
 * Official reference (the HTTP trigger's event and response):
 * https://help.aliyun.com/zh/functioncompute/fc-3-0/user-guide/http-trigger-invoking-function
 *
 * @module
 */
import type { CallbackHandler } from '../server/callback-handler.js'
import { createServerlessEndpoint, eventBody, notAnHttpEvent, queryObject, toEventResponse, type EventResponse, type ServerlessOptions } from './serverless-endpoint.js'

/** FC 3.0's HTTP-trigger event. */
export interface FcHttpEvent {
  version?: string
  rawPath?: string
  body?: string
  isBase64Encoded?: boolean
  headers?: Record<string, string>
  queryParameters?: Record<string, string>
  requestContext?: {
    http?: { method?: string; path?: string }
    /** Epoch ms, as a string. */
    timeEpoch?: string
    [key: string]: unknown
  }
}

/** An FC handler, with the endpoint underneath. FC's Node.js runtime passes the event as a Buffer of its JSON. */
export type FcHandler = ((event: FcHttpEvent | Buffer | string, context?: unknown) => Promise<EventResponse>) & { readonly endpoint: CallbackHandler }

/**
 * Creates the handler of an FC 3.0 function with an HTTP trigger (`exports.handler`). Create it
 * once, at module scope.
 *
 * @throws {WxMpError} `INVALID_CONFIG`: no shared store (set `WX_MP_REDIS_URL` or pass `store`),
 * `slowReply: 'customer-service'`, or any configuration error.
 *
 * @example
 * ```ts
 * import { createFcHandler } from 'wx-mp-svr/serverless'
 * export const handler = createFcHandler({ onMessage: (msg) => (msg.msgType === 'text' ? msg.content : undefined) })
 * ```
 */
export function createFcHandler(options: ServerlessOptions = {}): FcHandler {
  const core = createServerlessEndpoint(options, { adapter: 'createFcHandler', instancePerRequest: true })
  const handler = async (raw: FcHttpEvent | Buffer | string, _context?: unknown): Promise<EventResponse> => {
    const event = readEvent(raw)
    const method = event?.requestContext?.http?.method
    if (event === undefined || typeof method !== 'string') return notAnHttpEvent('createFcHandler')
    const timeEpoch = Number(event.requestContext?.timeEpoch)
    const response = await core.handle({
      method: method.toUpperCase(),
      path: event.requestContext?.http?.path ?? event.rawPath,
      query: queryObject(event.queryParameters),
      headers: event.headers,
      body: eventBody(event.body, event.isBase64Encoded),
      receivedAt: Number.isFinite(timeEpoch) && timeEpoch > 0 ? timeEpoch : undefined,
    })
    return toEventResponse(response)
  }
  return Object.assign(handler, { endpoint: core.endpoint })
}

function readEvent(raw: unknown): FcHttpEvent | undefined {
  try {
    const value: unknown = Buffer.isBuffer(raw) ? JSON.parse(raw.toString('utf8')) : typeof raw === 'string' ? JSON.parse(raw) : raw
    return value !== null && typeof value === 'object' ? (value as FcHttpEvent) : undefined
  } catch {
    return undefined
  }
}
