/**
 * {@link WxMpApi}: the client for WeChat's active Official Account APIs (客服消息, menus, media,
 * template messages, users, QR codes), built around a shared access-token manager.
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/
 *
 * @module
 */
import { WxMpError } from '../core/errors.js'
import { buildCustomMessageBody, type CustomMessage, type SendCustomMessageOptions } from './custom-message.js'
import { TOKEN_ERRCODES, isWxMpApiError } from './errors.js'
import { MediaApi } from './media.js'
import { MenuApi } from './menu.js'
import { QrCodeApi } from './qrcode.js'
import { TemplateApi } from './template.js'
import { AccessTokenManager, type AccessTokenInfo, type TokenEndpoint } from './token.js'
import { MemoryTokenStore, type TokenStore } from './token-store.js'
import { Transport, type FetchLike, type QueryParams, type TransportResponse } from './transport.js'
import { UsersApi } from './users.js'

/** WeChat's API host, the default `baseUrl`. */
export const WX_MP_API_BASE_URL = 'https://api.weixin.qq.com'

/** Options of {@link WxMpApi}. Every field is optional when the environment provides the credentials. */
export interface WxMpApiOptions {
  /** AppID (开发者ID). Default: `env.WX_MP_APPID`. */
  appId?: string
  /** AppSecret (开发者密码). Default: `env.WX_MP_APPSECRET`. Never logged, never in error messages. */
  appSecret?: string
  /** API origin (default `https://api.weixin.qq.com`); point it at an API proxy or a test server. */
  baseUrl?: string
  /** Where the token is shared (default: a new {@link MemoryTokenStore}, private to this client). */
  tokenStore?: TokenStore
  /** `stable` (default, `/cgi-bin/stable_token`) or `classic` (`/cgi-bin/token`, invalidates other holders' tokens). */
  tokenEndpoint?: TokenEndpoint
  /** `fetch` implementation (default: the global `fetch`). */
  fetch?: FetchLike
  /** Timeout of each HTTP attempt in ms (default 10 000). */
  timeoutMs?: number
  /** Extra attempts for retryable failures (default 2); see {@link WxMpApi.call} for what is retried. */
  retries?: number
  /** First retry delay in ms, doubled each retry with jitter (default 300). */
  retryDelayMs?: number
  /** Largest retry delay in ms (default 3 000). */
  retryMaxDelayMs?: number
  /** Clock in epoch ms (default `Date.now`); inject a fake clock in tests. */
  now?: () => number
  /** Waits `ms` (default: a timer); used for backoff and lock polling. */
  sleep?: (ms: number) => Promise<void>
  /** Randomness for backoff jitter, in [0, 1) (default `Math.random`). */
  random?: () => number
  /** Refresh lock lifetime in ms, if its holder dies (default 30 000). */
  lockTtlMs?: number
  /** How long to wait for another process's refresh (default 15 000 ms). */
  lockWaitMs?: number
  /** Store polling interval while another process refreshes (default 100 ms). */
  lockPollMs?: number
  /** Store key prefix (default `wx-mp-svr:token:`; the AppID is appended). */
  tokenKeyPrefix?: string
  /** Environment to read `WX_MP_APPID`/`WX_MP_APPSECRET` from (default `process.env`). */
  env?: Record<string, string | undefined>
}

/** Options of {@link WxMpApi.call}. */
export interface CallOptions {
  /** Query parameters (the `access_token` is added for you). */
  query?: QueryParams
  /** JSON body. */
  json?: unknown
  /** Multipart body. */
  form?: FormData
  /** Send the access_token (default true). */
  auth?: boolean
  /** Safe to repeat after it may have reached WeChat (default: true for GET, false for POST). */
  idempotent?: boolean
  /** Cancels the call. */
  signal?: AbortSignal
}

/** Options of {@link WxMpApi.request}. */
export interface RequestOptions extends CallOptions {
  /** `'media'` also accepts a file answer (downloads). */
  expect?: 'json' | 'media'
}

/** The shape of {@link WxMpApi.call}, as the API groups use it. */
export type CallApi = <T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, options?: CallOptions) => Promise<T>
/** The shape of {@link WxMpApi.request}, as the API groups use it. */
export type RequestApi = (method: 'GET' | 'POST', path: string, options?: RequestOptions) => Promise<TransportResponse>

function credential(
  given: string | undefined,
  env: Record<string, string | undefined>,
  variable: 'WX_MP_APPID' | 'WX_MP_APPSECRET',
  option: 'appId' | 'appSecret',
): string {
  const value = given ?? env[variable]
  if (typeof value === 'string' && value.trim() !== '') return value.trim()
  const what = variable === 'WX_MP_APPID' ? 'AppID' : 'AppSecret'
  throw new WxMpError(
    'INVALID_CONFIG',
    `wx-mp-svr: missing ${what}. Set the ${variable} environment variable (e.g. export ${variable}=…, found in the admin console under 设置与开发 → 基本配置) or pass { ${option} } to new WxMpApi().`,
  )
}

/**
 * Client for the active APIs of one Official Account.
 *
 * - The access token comes from `stable_token`, is shared through a {@link TokenStore}, refreshed
 *   ahead of expiry, fetched once for any number of concurrent callers, and renewed (once per call)
 *   when WeChat answers 40001/40014/42001.
 * - Every request has a timeout (`timeoutMs`). Network failures, timeouts, HTTP 5xx and errcode -1
 *   are retried with exponential backoff for idempotent calls only (GETs, token fetches); POSTs that
 *   change something (sending a message…) are retried only if the connection was never made.
 * - Failures reject with a {@link WxMpApiError} carrying `errcode`, `errmsg`, `path` and a `hint`.
 *
 * @example
 * ```ts
 * import { WxMpApi } from 'wx-mp-svr'
 *
 * const api = new WxMpApi() // WX_MP_APPID / WX_MP_APPSECRET from the environment
 * await api.setTyping(openId, true)
 * const answer = await slowAnswer(question)
 * await api.sendCustomMessage(openId, answer)
 * ```
 *
 * Official reference: https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export class WxMpApi {
  /** The AppID in use (not secret). */
  readonly appId: string
  /** Custom menus. */
  readonly menu: MenuApi
  /** Temporary media. */
  readonly media: MediaApi
  /** Template messages. */
  readonly template: TemplateApi
  /** Followers. */
  readonly users: UsersApi
  /** QR codes with parameters. */
  readonly qrcode: QrCodeApi
  /** The token manager (for token services and diagnostics). */
  readonly tokens: AccessTokenManager

  readonly #transport: Transport

  constructor(options: WxMpApiOptions = {}) {
    const env = options.env ?? process.env
    this.appId = credential(options.appId, env, 'WX_MP_APPID', 'appId')
    const appSecret = credential(options.appSecret, env, 'WX_MP_APPSECRET', 'appSecret')
    const timeoutMs = options.timeoutMs ?? 10_000
    if (!(timeoutMs > 0)) throw new WxMpError('INVALID_CONFIG', `wx-mp-svr: timeoutMs must be a positive number (got ${timeoutMs})`)
    const baseUrl = options.baseUrl ?? WX_MP_API_BASE_URL
    try {
      new URL(baseUrl)
    } catch {
      throw new WxMpError('INVALID_CONFIG', `wx-mp-svr: baseUrl ${JSON.stringify(baseUrl)} is not an absolute URL (e.g. https://api.weixin.qq.com)`)
    }
    const now = options.now ?? Date.now
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
    this.#transport = new Transport({
      baseUrl,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      timeoutMs,
      retries: options.retries ?? 2,
      retryDelayMs: options.retryDelayMs ?? 300,
      retryMaxDelayMs: options.retryMaxDelayMs ?? 3_000,
      sleep,
      random: options.random ?? Math.random,
    })
    this.tokens = new AccessTokenManager({
      appId: this.appId,
      appSecret,
      transport: this.#transport,
      store: options.tokenStore ?? new MemoryTokenStore({ now }),
      endpoint: options.tokenEndpoint ?? 'stable',
      keyPrefix: options.tokenKeyPrefix,
      now,
      sleep,
      lockTtlMs: options.lockTtlMs,
      lockWaitMs: options.lockWaitMs,
      lockPollMs: options.lockPollMs,
    } as ConstructorParameters<typeof AccessTokenManager>[0])
    const call: CallApi = (method, path, opts) => this.call(method, path, opts)
    const request: RequestApi = (method, path, opts) => this.request(method, path, opts)
    this.menu = new MenuApi(call)
    this.media = new MediaApi(call, request)
    this.template = new TemplateApi(call)
    this.users = new UsersApi(call)
    this.qrcode = new QrCodeApi(call)
  }

  /** The API origin in use. */
  get baseUrl(): string {
    return this.#transport.baseUrl
  }

  /**
   * A valid access token: from the store while fresh, otherwise fetched once for all concurrent
   * callers. `forceRefresh: true` asks for a newer token than the stored one (stable_token's
   * `force_refresh`: invalidates the old token everywhere and is rate-limited; for recovery only).
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
   */
  async getAccessToken(options: { forceRefresh?: boolean } = {}): Promise<string> {
    return (await this.tokens.getToken(options)).accessToken
  }

  /**
   * Like {@link WxMpApi.getAccessToken}, with the token's timing (`expiresAt`, `refreshAt`, epoch ms)
   * and whether it came from the store or was just fetched.
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
   */
  async getAccessTokenInfo(options: { forceRefresh?: boolean } = {}): Promise<AccessTokenInfo> {
    return this.tokens.getToken(options)
  }

  /**
   * Calls any API and resolves with its JSON answer; use it for endpoints without a typed method.
   *
   * The access_token is added as a query parameter. A non-zero `errcode` rejects with a
   * {@link WxMpApiError}. On 40001/40014/42001 the token is renewed and the call repeated once.
   * Network failures, timeouts, 5xx and errcode -1 are retried with backoff when `idempotent`
   * (default: GET yes, POST no).
   *
   * @example
   * ```ts
   * const tags = await api.call<{ tags: { id: number; name: string }[] }>('GET', '/cgi-bin/tags/get')
   * await api.call('POST', '/cgi-bin/tags/create', { json: { tag: { name: 'vip' } } })
   * ```
   *
   * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
   */
  async call<T = Record<string, unknown>>(method: 'GET' | 'POST', path: string, options: CallOptions = {}): Promise<T> {
    const res = await this.request(method, path, options)
    if (res.kind !== 'json') {
      // Only reachable with expect: 'media', which call() never sets.
      throw new TypeError(`wx-mp-svr: ${path} answered with a file; use request(..., { expect: 'media' })`)
    }
    return res.body as T
  }

  /**
   * Lower-level {@link WxMpApi.call}: resolves with the decoded answer, which may be a file when
   * `expect: 'media'` (downloads).
   *
   * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
   */
  async request(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<TransportResponse> {
    const base = {
      method,
      path,
      query: options.query,
      json: options.json,
      form: options.form,
      idempotent: options.idempotent ?? method === 'GET',
      expect: options.expect ?? 'json',
      signal: options.signal,
    } as const
    if (options.auth === false) return this.#transport.request(base)
    const token = await this.getAccessToken()
    try {
      return await this.#transport.request({ ...base, accessToken: token })
    } catch (err) {
      if (!isWxMpApiError(err) || err.code !== 'WECHAT_ERRCODE' || !TOKEN_ERRCODES.has(err.errcode)) throw err
      const fresh = await this.tokens.invalidate(token)
      return this.#transport.request({ ...base, accessToken: fresh.accessToken })
    }
  }

  /**
   * Sends a customer-service message (客服消息, `POST /cgi-bin/message/custom/send`). A string is
   * sent as text. Input is validated before any request. Allowed within 48 hours of the user's last
   * message (errcode 45015 otherwise); not available to unverified accounts (48001).
   *
   * Not retried after the request may have reached WeChat: a retry could deliver the message twice.
   *
   * @example
   * ```ts
   * await api.sendCustomMessage(openId, 'Your report is ready')
   * await api.sendCustomMessage(openId, { msgType: 'image', mediaId })
   * await api.sendCustomMessage(openId, {
   *   msgType: 'msgmenu',
   *   headContent: 'Was this helpful?',
   *   list: [{ id: 'yes', content: 'Yes' }, { id: 'no', content: 'No' }],
   *   tailContent: '',
   * })
   * ```
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
   */
  async sendCustomMessage(openId: string, message: string | CustomMessage, options: SendCustomMessageOptions = {}): Promise<void> {
    const json = buildCustomMessageBody(openId, message, options)
    await this.call('POST', '/cgi-bin/message/custom/send', { json })
  }

  /**
   * Shows or hides "typing…" to the user (`POST /cgi-bin/message/custom/typing`, command
   * `Typing`/`CancelTyping`). It lasts 15 s and needs an interaction with the user within the last
   * 30 s; sending a message cancels it.
   *
   * Official reference: https://developers.weixin.qq.com/doc/service/api/customer/message/api_typing
   */
  async setTyping(openId: string, on: boolean): Promise<void> {
    if (typeof openId !== 'string' || openId === '') throw new TypeError('wx-mp-svr: setTyping needs a non-empty openId')
    await this.call('POST', '/cgi-bin/message/custom/typing', {
      json: { touser: openId, command: on ? 'Typing' : 'CancelTyping' },
      idempotent: true,
    })
  }
}
