/**
 * One HTTP exchange with the WeChat API: URL building, timeout, retry with backoff, and turning the
 * answer (JSON with `errcode`, or a file) into a value or a {@link WxMpApiError}.
 *
 * Retry policy (the reasons are in {@link TransportOptions.retries}):
 * - idempotent requests (GETs, token fetches) are retried on network errors, timeouts, HTTP 5xx and
 *   `errcode: -1` (system busy), with exponential backoff and jitter;
 * - non-idempotent POSTs (sending a message, creating a QR code…) are retried only when the
 *   connection was never established (`ECONNREFUSED`, DNS failures): once bytes may have reached
 *   WeChat, a retry could deliver the message twice, so the error is surfaced instead.
 *
 * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 *
 * @module
 */
import { WxMpApiError, type WxMpApiErrorCode } from './errors.js'

/** The `fetch` signature the client needs (the global `fetch` of Node 20 fits). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>

/** Query parameters; `undefined` values are left out. */
export type QueryParams = Record<string, string | number | boolean | undefined>

/** Options of {@link Transport}. */
export interface TransportOptions {
  /** API origin, e.g. `https://api.weixin.qq.com` or your API proxy. */
  baseUrl: string
  fetch: FetchLike
  /** Per-attempt timeout in milliseconds. */
  timeoutMs: number
  /**
   * Extra attempts for retryable failures (default 2, so 3 attempts in all). Only idempotent
   * requests are retried after the request may have reached WeChat; see the module notes.
   */
  retries: number
  /** First backoff delay in ms (doubles each retry, with ±50 % jitter). */
  retryDelayMs: number
  /** Largest backoff delay in ms. */
  retryMaxDelayMs: number
  /** Waits `ms` milliseconds; injectable for tests. */
  sleep: (ms: number) => Promise<void>
  /** Source of randomness for jitter, in [0, 1). */
  random: () => number
}

/** One request, as the client describes it. */
export interface TransportRequest {
  method: 'GET' | 'POST'
  /** Path under `baseUrl`, e.g. `/cgi-bin/menu/get`. */
  path: string
  query?: QueryParams | undefined
  /** JSON body (POST). */
  json?: unknown
  /** Multipart body (POST). */
  form?: FormData | undefined
  /** Added as the `access_token` query parameter. */
  accessToken?: string | undefined
  /** Safe to repeat: retried on network errors, timeouts, 5xx and errcode -1. */
  idempotent: boolean
  /** `'media'` accepts a file answer as well as JSON. */
  expect?: 'json' | 'media'
  /** Cancels the request (not retried). */
  signal?: AbortSignal | undefined
}

/** The decoded answer of a successful request. */
export type TransportResponse =
  | { kind: 'json'; status: number; body: Record<string, unknown> }
  | { kind: 'file'; status: number; data: Buffer; contentType: string; filename: string | undefined }

const CONNECT_ERROR_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * Sends requests to the WeChat API. Created by {@link WxMpApi}; exported for custom token services
 * and tests.
 */
export class Transport {
  readonly #options: TransportOptions

  constructor(options: TransportOptions) {
    this.#options = options
  }

  /** The base URL, without a trailing slash. */
  get baseUrl(): string {
    return this.#options.baseUrl.replace(/\/+$/, '')
  }

  /**
   * Sends `req`, retrying as the module notes describe. Resolves with the decoded answer; rejects with
   * a {@link WxMpApiError} (including non-zero `errcode`s), or with the caller's abort reason.
   */
  async request(req: TransportRequest): Promise<TransportResponse> {
    const maxAttempts = 1 + Math.max(0, this.#options.retries)
    for (let attempt = 1; ; attempt++) {
      let failure: WxMpApiError
      let retryable: boolean
      try {
        const res = await this.#once(req, attempt)
        if (res.kind === 'json') {
          const errcode = res.body['errcode']
          if (typeof errcode === 'number' && errcode !== 0) {
            failure = new WxMpApiError({
              code: 'WECHAT_ERRCODE',
              errcode,
              errmsg: String(res.body['errmsg'] ?? ''),
              path: req.path,
              method: req.method,
              status: res.status,
              attempts: attempt,
            })
            retryable = errcode === -1 && req.idempotent
          } else {
            return res
          }
        } else {
          return res
        }
      } catch (err) {
        if (!(err instanceof AttemptError)) throw err
        failure = err.error
        retryable = err.retryable(req.idempotent)
      }
      if (!retryable || attempt >= maxAttempts) throw failure
      await this.#options.sleep(this.#backoff(attempt))
    }
  }

  #backoff(attempt: number): number {
    const { retryDelayMs, retryMaxDelayMs, random } = this.#options
    const base = Math.min(retryMaxDelayMs, retryDelayMs * 2 ** (attempt - 1))
    return Math.round(base * (0.5 + 0.5 * random()))
  }

  /** Builds the URL for `req` (with the token); never put this in an error or a log line. */
  url(req: Pick<TransportRequest, 'path' | 'query' | 'accessToken'>): string {
    const url = new URL(this.baseUrl + (req.path.startsWith('/') ? req.path : `/${req.path}`))
    for (const [k, v] of Object.entries(req.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v))
    }
    if (req.accessToken !== undefined) url.searchParams.set('access_token', req.accessToken)
    return url.toString()
  }

  async #once(req: TransportRequest, attempt: number): Promise<TransportResponse> {
    const timeout = AbortSignal.timeout(this.#options.timeoutMs)
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout
    const init: RequestInit = { method: req.method, signal }
    if (req.form !== undefined) {
      init.body = req.form
    } else if (req.json !== undefined) {
      init.body = JSON.stringify(req.json)
      init.headers = { 'content-type': 'application/json; charset=utf-8' }
    }
    const fail = (code: WxMpApiErrorCode, errmsg: string, extra: { status?: number; cause?: unknown }, retryable: Retryable) =>
      new AttemptError(
        new WxMpApiError({ code, errcode: -1, errmsg, path: req.path, method: req.method, attempts: attempt, ...extra }),
        retryable,
      )

    let res: Response
    let bytes: Buffer
    try {
      res = await this.#options.fetch(this.url(req), init)
      bytes = Buffer.from(await res.arrayBuffer())
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason
      if (timeout.aborted) {
        throw fail('TIMEOUT', `no answer within ${this.#options.timeoutMs} ms`, { cause: err }, 'idempotent')
      }
      const connect = isConnectError(err)
      throw fail('NETWORK', describeNetworkError(err), { cause: err }, connect ? 'always' : 'idempotent')
    }

    const contentType = res.headers.get('content-type') ?? ''
    const looksJson = /json|text\/plain/i.test(contentType) || bytes.subarray(0, 1).toString() === '{'
    if (req.expect === 'media' && res.ok && !looksJson) {
      return {
        kind: 'file',
        status: res.status,
        data: bytes,
        contentType: contentType || 'application/octet-stream',
        filename: filenameOf(res.headers.get('content-disposition')),
      }
    }
    const text = bytes.toString('utf8')
    let body: unknown
    try {
      body = parseWeChatJson(text)
    } catch (cause) {
      if (!res.ok) {
        throw fail('HTTP_STATUS', `HTTP ${res.status} ${res.statusText}`.trim(), { status: res.status, cause }, res.status >= 500 ? 'idempotent' : 'never')
      }
      throw fail('BAD_RESPONSE', `answer is not JSON (content-type ${contentType || 'none'})`, { status: res.status, cause }, 'never')
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw fail('BAD_RESPONSE', 'answer is not a JSON object', { status: res.status }, 'never')
    }
    const record = body as Record<string, unknown>
    if (!res.ok && typeof record['errcode'] !== 'number') {
      throw fail('HTTP_STATUS', `HTTP ${res.status} ${res.statusText}`.trim(), { status: res.status }, res.status >= 500 ? 'idempotent' : 'never')
    }
    return { kind: 'json', status: res.status, body: record }
  }
}

type Retryable = 'always' | 'idempotent' | 'never'

class AttemptError extends Error {
  constructor(
    readonly error: WxMpApiError,
    readonly when: Retryable,
  ) {
    super(error.message)
  }

  retryable(idempotent: boolean): boolean {
    return this.when === 'always' || (this.when === 'idempotent' && idempotent)
  }
}

/**
 * Parses a WeChat JSON answer, keeping 64-bit ids (`msgid`, `msg_id`) as strings: a JS number would
 * lose their last digits.
 */
export function parseWeChatJson(text: string): unknown {
  return JSON.parse(text.replace(/("(?:msgid|msg_id|msgId)"\s*:\s*)(-?\d+)/g, '$1"$2"'))
}

function causeCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

function isConnectError(err: unknown): boolean {
  const code = causeCode(err)
  return code !== undefined && CONNECT_ERROR_CODES.has(code)
}

function describeNetworkError(err: unknown): string {
  const code = causeCode(err)
  const message = err instanceof Error ? err.message : String(err)
  return code ? `${message} (${code})` : message
}

function filenameOf(disposition: string | null): string | undefined {
  if (!disposition) return undefined
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition)
  return m?.[1] ? decodeURIComponent(m[1]) : undefined
}
