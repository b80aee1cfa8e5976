/**
 * The callback endpoint with the rules of cloud functions, shared by every serverless adapter:
 * background work is explicit (`waitUntil`, or nothing runs after the response), frozen platforms
 * refuse the in-memory store, the reply deadline defaults to 4000 ms (cold starts eat into
 * WeChat's 5 s), the shared store is ready before the first request, and the function answers on
 * any path unless one is configured. The adapters (`fetch.ts`, `scf.ts`, `fc.ts`, `lambda.ts`)
 * only translate their platform's request and response around it.
 *
 * Loads no HTTP framework and no pretty-printer.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { WxMpError } from '../core/errors.js'
import { BODY_LIMIT_BYTES, refusalResponse, type CallbackResponse } from '../server/callback.js'
import { createCallbackHandler, type CallbackHandler, type WxMpOptions } from '../server/callback-handler.js'
import { systemClock } from '../server/clock.js'
import { resolveConfig } from '../server/config.js'
import type { Log } from '../server/handlers.js'
import { createLogger } from '../server/logger.js'
import { MemoryStore } from '../store/memory-store.js'

/** The reply deadline on serverless unless `replyTimeoutMs` / `WX_MP_REPLY_TIMEOUT_MS` says otherwise, ms. */
export const SERVERLESS_REPLY_TIMEOUT_MS = 4000

/**
 * Options of every serverless adapter: those of `createServer` (handlers, token, aesKey, appId,
 * slowReply, store, …, with the `WX_MP_*` fallbacks), without `background`, which follows from
 * `waitUntil`.
 */
export interface ServerlessOptions extends Omit<WxMpOptions, 'background'> {
  /**
   * The platform's way to keep work going after the response: a function (`waitUntil` from
   * `@vercel/functions` or from `cloudflare:workers`), or `'context'` for the fetch handler to take
   * it from each request's context argument (Vercel's `fetch(request, context)`, a Worker's
   * `ctx`). With it, a slow handler goes on after WeChat was answered and the adapter hands that
   * work to it. Without it nothing runs after the response: the attempt that runs the handler
   * holds its own request until the handler is done (`retry-window` and `next-message` still
   * deliver), and `slowReply: 'customer-service'` is refused.
   */
  waitUntil?: ((work: Promise<unknown>) => void) | 'context'
  /**
   * Allow the in-memory store on a platform that freezes or replaces instances (SCF, FC, Lambda):
   * for local tests only — there, dedup and waiting answers would not survive one invocation.
   */
  dev?: boolean
  /** Where the endpoint logs. Default: JSON lines on stdout (the platforms' log collectors read them). */
  log?: Log
}

/** A platform's request, translated. */
export interface ServerlessRequest {
  /** The HTTP method, upper case. */
  method: string
  /** The request path (used only when a `path` is configured). */
  path: string | undefined
  /** The parsed query string. */
  query: Readonly<Record<string, unknown>>
  headers?: Readonly<Record<string, string | string[] | undefined>>
  /** The body as text, or {@link TOO_LARGE} when the adapter saw it is over the limit before decoding it. */
  body: string | undefined | typeof TOO_LARGE
  /** When the platform received the request (epoch ms), if it says; the reply deadline counts from it. */
  receivedAt?: number | undefined
  /** This request's `waitUntil` (with the `'context'` option). */
  waitUntil?: ((work: Promise<unknown>) => void) | undefined
}

/** Marks a body the adapter refused to decode because it is over {@link BODY_LIMIT_BYTES}. */
export const TOO_LARGE: unique symbol = Symbol('body over the limit')

/** What kind of platform an adapter serves. */
export interface PlatformTraits {
  /** The adapter's name, for errors (`createScfHandler`). */
  adapter: string
  /**
   * Instances are frozen after the response and each request may reach a fresh one (SCF event
   * functions, FC, Lambda): the in-memory store is refused unless `dev: true`.
   */
  instancePerRequest: boolean
}

/** The shared core of the adapters. */
export interface ServerlessEndpoint {
  /** Answers one request; never rejects. */
  handle(request: ServerlessRequest): Promise<CallbackResponse>
  /** The callback endpoint underneath (config, store, `close()` for tests). */
  readonly endpoint: CallbackHandler
}

const TEXT = Object.freeze({ 'content-type': 'text/plain; charset=utf-8' })
const NOT_FOUND: CallbackResponse = Object.freeze({ status: 404, headers: TEXT, body: 'not found: not the callback path' })
const noop = (): void => undefined

function configError(message: string): WxMpError {
  return new WxMpError('INVALID_CONFIG', message)
}

/**
 * Checks the options against the platform and creates the endpoint, once per instance (call it
 * at module scope, never per request).
 *
 * @throws {WxMpError} `INVALID_CONFIG`: the in-memory store on a platform that replaces instances
 * (name: `store`, `WX_MP_REDIS_URL`), `slowReply: 'customer-service'` without `waitUntil`, or any
 * configuration error of `createCallbackHandler`.
 */
export function createServerlessEndpoint(options: ServerlessOptions, platform: PlatformTraits): ServerlessEndpoint {
  const { waitUntil, dev = false, log, ...rest } = options
  const env = options.env ?? process.env
  const given = (value: unknown, variable: string): boolean => value !== undefined || (env[variable]?.trim() ?? '') !== ''
  const settings: WxMpOptions = {
    ...rest,
    replyTimeoutMs: given(rest.replyTimeoutMs, 'WX_MP_REPLY_TIMEOUT_MS') ? rest.replyTimeoutMs : SERVERLESS_REPLY_TIMEOUT_MS,
    background: waitUntil ? 'allowed' : 'none',
  }
  if (waitUntil !== undefined && typeof waitUntil !== 'function' && (waitUntil !== 'context' || platform.instancePerRequest)) {
    throw configError(
      `${platform.adapter}: waitUntil must be a function (work: Promise) => void` +
        (platform.instancePerRequest ? '.' : `, or 'context' to take it from each request's context argument (Vercel, Cloudflare Workers).`),
    )
  }
  // Checked before anything is opened: a refused configuration leaves no Redis connection behind.
  const config = resolveConfig(settings, env)
  if (config.slowReply === 'customer-service' && !waitUntil) {
    throw configError(
      `${platform.adapter}: slowReply "customer-service" answers WeChat success at the deadline and sends the answer afterwards ` +
        'with the customer-service API, but without waitUntil nothing runs after the response (the function is frozen), so the ' +
        'answer would never be sent. Use slowReply "retry-window" (or "auto", which holds WeChat\'s attempts while the handler runs ' +
        'and falls back to the next message), or pass waitUntil where the platform has one (Vercel, Cloudflare Workers).',
    )
  }
  const inMemory = rest.store === undefined ? config.redis === undefined : rest.store instanceof MemoryStore
  if (platform.instancePerRequest && inMemory && !dev) {
    throw configError(
      `${platform.adapter}: the in-memory store does not work in a cloud function: each of WeChat's attempts may reach a new ` +
        'instance and nothing survives between them, so retries would run the handler again and slow answers would be lost. ' +
        'Set WX_MP_REDIS_URL (redis:// or rediss://) or pass the store option (store: createRedisStore({ url })); ' +
        'pass dev: true only for local tests.',
    )
  }

  // The work each request started: handed to its waitUntil, or awaited before it is answered.
  const requestWork = new AsyncLocalStorage<{ work: Set<Promise<unknown>>; waitUntil: ((work: Promise<unknown>) => void) | undefined }>()
  const onBackground = (work: Promise<unknown>): void => {
    const request = requestWork.getStore()
    const handOver = typeof waitUntil === 'function' ? waitUntil : request?.waitUntil
    if (handOver) handOver(work.then(noop, noop))
    else request?.work.add(work)
  }
  let warnedNoContext = false
  const logTo = log ?? (createLogger({ pretty: false }) as unknown as Log)
  const endpoint = createCallbackHandler(settings, { log: logTo, onBackground })
  const clock = settings.clock ?? systemClock
  let storeFailure: unknown
  // A store of the author's with a connect() (createRedisStore) is connected here too: a function
  // has no start-up phase of its own to await it in. connect() is shared, so connecting it first is fine.
  const authorStore = rest.store as { connect?: () => Promise<void> } | undefined
  const connecting = typeof authorStore?.connect === 'function' ? authorStore.connect() : undefined
  const ready = Promise.all([endpoint.ready, connecting]).then(noop, (err: unknown) => {
    storeFailure = err
  })
  const pathGiven = given(rest.path, 'WX_MP_PATH')

  return {
    endpoint,
    async handle(request) {
      const now = clock.now()
      // A platform's receive time counts (a cold start eats into WeChat's 5 s), within reason.
      const receivedAt = request.receivedAt !== undefined && Number.isFinite(request.receivedAt) ? Math.min(now, Math.max(now - 5000, request.receivedAt)) : now
      if (pathGiven && !samePath(request.path, endpoint.path)) return NOT_FOUND
      if (request.body === TOO_LARGE) return refusalResponse('PAYLOAD_TOO_LARGE')
      await ready
      if (storeFailure !== undefined) {
        // Answered anyway: the dispatcher's onDedupError policy decides what a push without the store gets.
        logTo.error({ err: storeFailure }, 'shared store not ready (WX_MP_REDIS_URL); answering under the onDedupError policy')
      }
      const work = new Set<Promise<unknown>>()
      const perRequest = waitUntil === 'context' && typeof request.waitUntil === 'function' ? request.waitUntil : undefined
      if (waitUntil === 'context' && perRequest === undefined && !warnedNoContext) {
        warnedNoContext = true
        logTo.warn(`${platform.adapter}: waitUntil is 'context' but a request came without a context having waitUntil; its work is awaited before answering`)
      }
      const response = await requestWork.run({ work, waitUntil: perRequest }, () =>
        endpoint.handle({ method: request.method, query: request.query, headers: request.headers, body: request.body as string | undefined, receivedAt }),
      )
      await settleAll(work)
      return response
    },
  }
}

/** Waits until every piece of work, including work those started meanwhile, has settled. */
async function settleAll(work: Set<Promise<unknown>>): Promise<void> {
  for (let seen = -1; seen !== work.size; ) {
    seen = work.size
    await Promise.allSettled([...work])
  }
}

function samePath(requestPath: string | undefined, path: string): boolean {
  if (requestPath === undefined) return false
  const trim = (p: string): string => (p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p)
  return trim(requestPath) === trim(path)
}

/**
 * A function event's body as text: base64 decoded when the platform says so, {@link TOO_LARGE}
 * when it is over {@link BODY_LIMIT_BYTES} (checked before decoding).
 */
export function eventBody(body: unknown, isBase64Encoded: unknown): string | undefined | typeof TOO_LARGE {
  if (body === undefined || body === null) return undefined
  if (typeof body !== 'string') return undefined
  if (isBase64Encoded === true || isBase64Encoded === 'true') {
    if (Math.floor((body.length * 3) / 4) > BODY_LIMIT_BYTES + 2) return TOO_LARGE
    return Buffer.from(body, 'base64').toString('utf8')
  }
  return body
}

/** The response object of an event function: an explicit status, never an object a platform could send as JSON. */
export interface EventResponse {
  statusCode: number
  headers: Record<string, string>
  body: string
  isBase64Encoded: false
}

/** A {@link CallbackResponse} as an event function returns it. */
export function toEventResponse(response: CallbackResponse): EventResponse {
  return { statusCode: response.status, headers: { ...response.headers }, body: response.body, isBase64Encoded: false }
}

/** The query of a raw query string (`a=1&b=2`); a repeated parameter keeps its last value. */
export function parseQueryString(raw: string | undefined | null): Record<string, string> {
  return raw ? Object.fromEntries(new URLSearchParams(raw)) : {}
}

/** A query object as a platform gives it: only string values (a repeated parameter's array is dropped, and refused). */
export function queryObject(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : {}
}

/** A platform's refusal of an event it cannot read (not an HTTP event at all). */
export function notAnHttpEvent(adapter: string): EventResponse {
  return { statusCode: 400, headers: { ...TEXT }, body: `bad request: ${adapter} received an event that is not an HTTP request`, isBase64Encoded: false }
}
