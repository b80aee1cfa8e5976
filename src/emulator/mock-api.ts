/**
 * The emulator's mock WeChat API: a small HTTP server on 127.0.0.1 that answers the calls a bot
 * makes to deliver slow answers — `GET /cgi-bin/token`, `POST /cgi-bin/stable_token`,
 * `POST /cgi-bin/message/custom/send`, `POST /cgi-bin/message/custom/typing` — with WeChat's
 * rules for one of three account kinds (see {@link MockAccount}). Point a bot at it with
 * `WX_MP_API_BASE_URL=<baseUrl>`; every customer-service message it delivers is recorded, so the
 * emulator shows the user what arrived, and when.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MockAccount, type MockAccountOptions } from './mock-api-account.js'

/** Request bodies larger than this are refused (WeChat's own API bodies are far smaller). */
const MAX_BODY_BYTES = 1024 * 1024

/**
 * Options of {@link startMockApi}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export interface MockApiOptions extends MockAccountOptions {
  /** Port on 127.0.0.1; default 0 (any free port: read {@link MockApi.baseUrl}). */
  port?: number
  /** Default `127.0.0.1`. */
  host?: string
}

/**
 * A running mock WeChat API: the account model ({@link MockAccount}: `preset`, `messages`,
 * `calls`, `history`, `interact`, `invalidateTokens`, `onMessage`) and its HTTP server.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export interface MockApi extends MockAccount {
  /** The base URL to give the bot, e.g. `http://127.0.0.1:43121` (`WX_MP_API_BASE_URL`). */
  readonly baseUrl: string
  /** Stops the server (open connections are closed). */
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, json: Record<string, unknown>): void {
  const body = JSON.stringify(json)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/**
 * Starts the mock WeChat API on 127.0.0.1. Rejects with the listen error (e.g. `EADDRINUSE`)
 * when the port is taken.
 *
 * @example
 * ```ts
 * const api = await startMockApi({ preset: 'verified' })
 * // start the bot with WX_MP_API_BASE_URL=api.baseUrl, WX_MP_APPID=api.appId, WX_MP_APPSECRET=api.appSecret
 * const wechat = createEmulator({ url, token, mockApi: api })
 * await wechat.send('hello', { waitMs: 20_000 })
 * api.messages // the customer-service messages the bot sent
 * await api.close()
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export async function startMockApi(options: MockApiOptions = {}): Promise<MockApi> {
  const account = new MockAccount(options)
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('error', () => res.destroy())
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        send(res, 413, { errcode: 44002, errmsg: `request body over ${MAX_BODY_BYTES} bytes` })
        return
      }
      let url: URL
      try {
        url = new URL(req.url ?? '/', 'http://127.0.0.1')
      } catch {
        send(res, 400, { errcode: -1, errmsg: 'the request target is not a URL path' })
        return
      }
      const answer = account.handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body: Buffer.concat(chunks).toString('utf8') })
      send(res, answer.status, answer.json)
    })
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  const close = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return Object.assign(account, { baseUrl, close }) as MockApi
}
