/**
 * Errors of the active WeChat API client ({@link WxMpApi}).
 *
 * One class, {@link WxMpApiError}, covers everything that can go wrong once a request is on its way:
 * WeChat answered with a non-zero `errcode`, the network failed, the request timed out, or the answer
 * was not something WeChat sends. Bad input is rejected *before* any request, with a `TypeError`,
 * `RangeError` or a core `WxMpError` (`INVALID_REPLY` for custom messages, `INVALID_CONFIG` for a
 * missing AppID/AppSecret).
 *
 * Secrets never appear in these errors: URLs are passed through {@link redactUrl} first.
 *
 * Official reference (global return codes):
 * https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 *
 * @module
 */

/**
 * What kind of failure a {@link WxMpApiError} reports.
 *
 * - `WECHAT_ERRCODE`: WeChat answered with a JSON body whose `errcode` is not 0 ({@link WxMpApiError.errcode} is WeChat's).
 * - `NETWORK`: the request failed before an answer arrived (DNS, refused, reset…); `cause` holds the original error.
 * - `TIMEOUT`: no answer within `timeoutMs`.
 * - `HTTP_STATUS`: a non-2xx HTTP status without a WeChat error body (typically a proxy in front of WeChat).
 * - `BAD_RESPONSE`: a 2xx answer that is not the JSON (or file) the endpoint documents.
 */
export type WxMpApiErrorCode = 'WECHAT_ERRCODE' | 'NETWORK' | 'TIMEOUT' | 'HTTP_STATUS' | 'BAD_RESPONSE'

/**
 * Hints for the return codes people hit most, written as "what to do".
 * Keys are WeChat's numeric `errcode`.
 *
 * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
export const WX_MP_API_HINTS: Readonly<Record<number, string>> = Object.freeze({
  [-1]: 'WeChat is busy (system error). Idempotent calls are retried automatically; retry later.',
  40001:
    'The access_token is invalid or not the latest: another process probably fetched its own token with /cgi-bin/token (which invalidates the previous one), or the AppSecret is wrong. Share one token through a TokenStore and prefer the stable_token endpoint.',
  40013: 'Invalid AppID: check WX_MP_APPID (it starts with "wx").',
  40125: 'Invalid AppSecret: check WX_MP_APPSECRET (reset it in the admin console if unsure).',
  40164:
    "The caller's IP address is not on the account's API IP whitelist. Add this server's public IP under 设置与开发 → 基本配置 → IP白名单 in the admin console.",
  42001: 'The access_token expired. The client refreshes and retries once automatically; if you see this, the refresh failed too.',
  40014: 'The access_token is not valid (malformed or from another account). The client refreshes and retries once automatically.',
  41001: 'The access_token is missing from the request.',
  45009: 'The daily call quota of this API is exhausted. Wait until it resets at midnight (UTC+8) or clear it with /cgi-bin/clear_quota (limited uses per month).',
  45015:
    'Outside the 48-hour window: a customer-service message can only be sent within 48 hours of the user’s last message to the account (and at most 5 messages per user message).',
  45047: 'Too many customer-service messages for this user since their last message (limit: 5 per user message). Wait for the user to write again.',
  45008: 'Too many articles: customer-service and passive news messages accept exactly 1 article.',
  46003: 'No custom menu exists yet: create one first (wx-mp-svr menu push menu.json).',
  48001:
    'API not authorized for this account: unverified accounts (e.g. personal subscription accounts, 个人订阅号) cannot use customer-service messages, menus by API, templates and other active APIs. Verify the account (微信认证) or answer through passive replies within 5 s.',
  50002: 'The account is restricted (user limited): check notices in the admin console.',
})

/** The hint for a WeChat `errcode`, if {@link WX_MP_API_HINTS} has one. */
export function hintFor(errcode: number): string | undefined {
  return WX_MP_API_HINTS[errcode]
}

/**
 * Removes secrets (`access_token`, `secret`, `appsecret`) from a URL so that it can go into an error
 * message or a log line.
 *
 * @example
 * ```ts
 * redactUrl('https://api.weixin.qq.com/cgi-bin/menu/get?access_token=abc')
 * // 'https://api.weixin.qq.com/cgi-bin/menu/get?access_token=REDACTED'
 * ```
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_token|secret|appsecret)=)[^&#]*/gi, '$1REDACTED')
}

/** Fields of a {@link WxMpApiError}. */
export interface WxMpApiErrorInit {
  code: WxMpApiErrorCode
  /** WeChat's `errcode`; -1 for failures that never got a WeChat answer (network, timeout, HTTP status). */
  errcode: number
  errmsg: string
  /** The API path, e.g. `/cgi-bin/message/custom/send` (never with the query string). */
  path: string
  /** HTTP method used. */
  method?: string
  /** HTTP status, when an answer arrived. */
  status?: number
  /** How many attempts were made (1 when not retried). */
  attempts?: number
  cause?: unknown
}

/**
 * A failed call to the WeChat API.
 *
 * `errcode` and `errmsg` are WeChat's own (for example `45015`, `"response out of time limit or
 * subscription is canceled"`); `hint` says what to do for the common ones (40164 IP whitelist, 45015
 * 48-hour window, 48001 unverified account, 45009 quota, 40001 token). `path` names the API.
 * Network failures and timeouts carry `errcode: -1`, a `code` of `NETWORK`/`TIMEOUT`, and the
 * original error as `cause`.
 *
 * The message never contains the access_token or the AppSecret.
 *
 * @example
 * ```ts
 * try {
 *   await api.sendCustomMessage(openId, 'done!')
 * } catch (err) {
 *   if (isWxMpApiError(err) && err.errcode === 45015) {
 *     // the user has not written for 48 hours: fall back to a template message
 *   }
 * }
 * ```
 *
 * Official reference: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
export class WxMpApiError extends Error {
  override readonly name = 'WxMpApiError' as const
  /** Kind of failure; see {@link WxMpApiErrorCode}. */
  readonly code: WxMpApiErrorCode
  /** WeChat's numeric return code (-1 when WeChat never answered). */
  readonly errcode: number
  /** WeChat's message, or a description of the network failure. */
  readonly errmsg: string
  /** API path, without query string. */
  readonly path: string
  /** HTTP method. */
  readonly method: string | undefined
  /** HTTP status, when an answer arrived. */
  readonly status: number | undefined
  /** Number of attempts made. */
  readonly attempts: number
  /** What to do about it, for well-known codes. */
  readonly hint: string | undefined

  constructor(init: WxMpApiErrorInit) {
    const hint = init.code === 'WECHAT_ERRCODE' ? hintFor(init.errcode) : networkHint(init.code)
    const where = `${init.method ?? ''} ${init.path}`.trim()
    const what =
      init.code === 'WECHAT_ERRCODE'
        ? `errcode ${init.errcode}: ${init.errmsg}`
        : `${init.code.toLowerCase().replace('_', ' ')}: ${init.errmsg}`
    const tries = (init.attempts ?? 1) > 1 ? ` (after ${init.attempts} attempts)` : ''
    super(`WeChat API ${where} failed with ${redactUrl(what)}${tries}${hint ? `. Hint: ${hint}` : ''}`, {
      cause: init.cause,
    })
    this.code = init.code
    this.errcode = init.errcode
    this.errmsg = redactUrl(init.errmsg)
    this.path = init.path
    this.method = init.method
    this.status = init.status
    this.attempts = init.attempts ?? 1
    this.hint = hint
  }
}

function networkHint(code: WxMpApiErrorCode): string | undefined {
  switch (code) {
    case 'NETWORK':
      return 'Check network access to the API host (or the baseUrl you configured).'
    case 'TIMEOUT':
      return 'No answer in time: check network access to the API host, or raise timeoutMs.'
    case 'HTTP_STATUS':
      return 'The answer did not come from WeChat as expected; check baseUrl and any proxy in between.'
    default:
      return undefined
  }
}

/**
 * Type guard for {@link WxMpApiError}; also recognises errors from another copy of the package, by shape.
 */
export function isWxMpApiError(value: unknown): value is WxMpApiError {
  return (
    value instanceof WxMpApiError ||
    (value instanceof Error &&
      value.name === 'WxMpApiError' &&
      typeof (value as { errcode?: unknown }).errcode === 'number')
  )
}

/** WeChat errcodes meaning "this access_token is no good": 40001 invalid/not latest, 40014 invalid, 42001 expired. */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001])
