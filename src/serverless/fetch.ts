/**
 * The callback endpoint as a fetch handler, `(request: Request) => Promise<Response>`: Vercel
 * functions, Cloudflare Workers (with `nodejs_compat`), Deno, Bun, Hono, Aliyun ESA functions.
 *
 * Long-running runtimes (Deno, Bun, Node) may keep the in-memory store; on platforms that stop
 * working after the response, pass their `waitUntil` or a shared store.
 *
 * @module
 */
import { BODY_LIMIT_BYTES } from '../server/callback.js'
import type { CallbackHandler } from '../server/callback-handler.js'
import { createServerlessEndpoint, TOO_LARGE, type ServerlessOptions } from './serverless-endpoint.js'

/** What a platform passes next to the request: Vercel's `context`, a Worker's `ctx`. */
export interface FetchContext {
  waitUntil?(work: Promise<unknown>): void
}

/**
 * A fetch handler, with the endpoint underneath (its `close()` releases a Redis connection the kit
 * opened). The context is read only with the option `waitUntil: 'context'`.
 */
export type FetchHandler = ((request: Request, context?: FetchContext) => Promise<Response>) & { readonly endpoint: CallbackHandler }

/**
 * Creates the fetch handler of one account. Create it once, at module scope.
 *
 * @throws {WxMpError} `INVALID_CONFIG` (see `ServerlessOptions`).
 *
 * @example
 * ```ts
 * // Vercel: api/wx.ts — Vercel passes { waitUntil } as the context of a web handler
 * import { createFetchHandler } from 'wx-mp-svr/serverless'
 * const handle = createFetchHandler({ waitUntil: 'context', onMessage: (msg) => (msg.msgType === 'text' ? msg.content : undefined) })
 * export default { fetch: handle }
 * // Cloudflare Workers: export default { fetch: (request, env, ctx) => handle(request, ctx) }
 * ```
 */
export function createFetchHandler(options: ServerlessOptions = {}): FetchHandler {
  const core = createServerlessEndpoint(options, { adapter: 'createFetchHandler', instancePerRequest: false })
  const handler = async (request: Request, context?: FetchContext): Promise<Response> => {
    const url = new URL(request.url)
    const method = request.method.toUpperCase()
    const response = await core.handle({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(request.headers),
      body: method === 'POST' ? await readBody(request) : undefined,
      waitUntil: typeof context?.waitUntil === 'function' ? (work) => context.waitUntil!(work) : undefined,
    })
    return new Response(method === 'HEAD' ? null : response.body, { status: response.status, headers: response.headers })
  }
  return Object.assign(handler, { endpoint: core.endpoint })
}

/** The body as text, or {@link TOO_LARGE} as soon as it passes the limit (a lying or absent Content-Length included). */
async function readBody(request: Request): Promise<string | undefined | typeof TOO_LARGE> {
  const declared = Number(request.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > BODY_LIMIT_BYTES) return TOO_LARGE
  if (request.body === null) return undefined
  const reader = request.body.getReader()
  const decoder = new TextDecoder()
  let text = ''
  let bytes = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      bytes += value.byteLength
      if (bytes > BODY_LIMIT_BYTES) {
        await reader.cancel().catch(() => undefined)
        return TOO_LARGE
      }
      text += decoder.decode(value, { stream: true })
    }
  } catch {
    // The client went away mid-body: what arrived is refused as a malformed push.
    return text
  }
  return text + decoder.decode()
}
