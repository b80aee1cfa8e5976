/**
 * Server configuration: explicit options first, then the `WX_MP_*` environment variables,
 * validated once at registration with errors that name the variable and the fix.
 *
 * Official reference (the values come from 设置与开发 → 基本配置 → 服务器配置):
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */
import { WxMpError } from '../core/errors.js'

/** The settings that can come from the environment, with the variable each falls back to. */
export interface EnvBackedOptions {
  /** The Token (令牌) from the admin page. Env: `WX_MP_TOKEN`. Required. */
  token?: string
  /** The EncodingAESKey; enables compatible and safe mode. Env: `WX_MP_AES_KEY`. */
  aesKey?: string
  /** Previous EncodingAESKeys still accepted for decryption (key rotation). Env: `WX_MP_PREVIOUS_AES_KEYS` (comma-separated). */
  previousAesKeys?: string[]
  /** The AppID (开发者ID). Env: `WX_MP_APPID`. Required with an AES key. */
  appId?: string
  /** The AppSecret, for the API client. Env: `WX_MP_APPSECRET`. */
  appSecret?: string
  /** The callback path. Env: `WX_MP_PATH`. Default `/wx`. */
  path?: string
  /** When to answer `success` if the handler is still running, in ms. Env: `WX_MP_REPLY_TIMEOUT_MS`. Default 4500, must be below 5000. */
  replyTimeoutMs?: number
  /** Allowed clock difference of `timestamp`, in seconds; 0 disables. Env: `WX_MP_TIMESTAMP_TOLERANCE_S`. Default 300. */
  timestampToleranceS?: number
  /**
   * With an AES key, also accept plain-mode (明文) pushes. Off by default: a plain push is
   * authenticated only by the URL `signature`, which does not cover the body and which every
   * push URL (often found in proxy logs) carries, so accepting them would let anyone who saw one
   * URL forge messages for 5 minutes. Turn it on only while switching the admin page between modes.
   * Env: `WX_MP_ALLOW_PLAIN_PUSHES=1`.
   */
  allowPlainPushes?: boolean
  /** How long shutdown waits for running handlers and open connections, ms. Env: `WX_MP_DRAIN_TIMEOUT_MS`. Default 60 000. */
  drainTimeoutMs?: number
}

/** The validated configuration. */
export interface ResolvedConfig {
  token: string
  aesKey: string | undefined
  previousAesKeys: string[]
  appId: string | undefined
  appSecret: string | undefined
  path: string
  replyTimeoutMs: number
  timestampToleranceS: number
  allowPlainPushes: boolean
  drainTimeoutMs: number
}

/** Defaults of the optional settings. */
export const defaults = {
  path: '/wx',
  replyTimeoutMs: 4500,
  timestampToleranceS: 300,
  drainTimeoutMs: 60_000,
} as const

type Env = Record<string, string | undefined>

function configError(message: string): WxMpError {
  return new WxMpError('INVALID_CONFIG', message)
}

function pick(option: string | undefined, env: Env, variable: string): string | undefined {
  if (option !== undefined) return option
  const value = env[variable]
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

function integer(option: number | undefined, env: Env, variable: string, optionName: string): number | undefined {
  if (option !== undefined) {
    if (!Number.isInteger(option)) throw configError(`${optionName} must be an integer, got ${String(option)}.`)
    return option
  }
  const text = pick(undefined, env, variable)
  if (text === undefined) return undefined
  if (!/^\d+$/.test(text)) throw configError(`${variable} must be a whole number, got "${text}". Fix the value or unset it to use the default.`)
  return Number(text)
}

/**
 * Resolves and validates server options against the environment.
 *
 * @throws {WxMpError} `INVALID_CONFIG` naming the option and its environment variable, with the fix.
 */
export function resolveConfig(options: EnvBackedOptions, env: Env = process.env): ResolvedConfig {
  const token = pick(options.token, env, 'WX_MP_TOKEN')
  if (token === undefined || token === '') {
    throw configError(
      'WX_MP_TOKEN is not set. Set it to the Token (令牌) you entered on the admin page ' +
        '(设置与开发 → 基本配置 → 服务器配置), e.g. `export WX_MP_TOKEN=...` or a line in .env; or pass { token }.',
    )
  }
  const aesKey = pick(options.aesKey, env, 'WX_MP_AES_KEY')
  if (aesKey !== undefined && !/^[A-Za-z0-9]{43}$/.test(aesKey)) {
    throw configError(
      `WX_MP_AES_KEY must be the EncodingAESKey (消息加解密密钥): exactly 43 letters and digits, got ${aesKey.length} characters. ` +
        'Copy it again from 设置与开发 → 基本配置 → 服务器配置, or unset it for plain mode.',
    )
  }
  const previousText = pick(undefined, env, 'WX_MP_PREVIOUS_AES_KEYS')
  const previousAesKeys =
    options.previousAesKeys ?? (previousText ? previousText.split(',').map((k) => k.trim()).filter(Boolean) : [])
  previousAesKeys.forEach((k, i) => {
    if (!/^[A-Za-z0-9]{43}$/.test(k)) {
      throw configError(`WX_MP_PREVIOUS_AES_KEYS entry ${i + 1} is not a 43-character EncodingAESKey. Remove it or fix it.`)
    }
  })
  const appId = pick(options.appId, env, 'WX_MP_APPID')
  if (aesKey !== undefined && (appId === undefined || appId === '')) {
    throw configError(
      'WX_MP_APPID is not set, but WX_MP_AES_KEY is: encrypted (safe/compatible) mode needs the AppID (开发者ID, "wx…") ' +
        'from 设置与开发 → 基本配置. Set WX_MP_APPID, or unset WX_MP_AES_KEY for plain mode.',
    )
  }
  const appSecret = pick(options.appSecret, env, 'WX_MP_APPSECRET')
  const path = pick(options.path, env, 'WX_MP_PATH') ?? defaults.path
  if (!path.startsWith('/') || /[?#\s]/.test(path)) {
    throw configError(`WX_MP_PATH must be a URL path starting with "/" (e.g. /wx), got "${path}".`)
  }
  const replyTimeoutMs = integer(options.replyTimeoutMs, env, 'WX_MP_REPLY_TIMEOUT_MS', 'replyTimeoutMs') ?? defaults.replyTimeoutMs
  if (replyTimeoutMs <= 0 || replyTimeoutMs >= 5000) {
    throw configError(
      `WX_MP_REPLY_TIMEOUT_MS must be between 1 and 4999 (WeChat gives up after 5000 ms, and the network needs some of that), got ${replyTimeoutMs}. The default is 4500.`,
    )
  }
  const timestampToleranceS =
    integer(options.timestampToleranceS, env, 'WX_MP_TIMESTAMP_TOLERANCE_S', 'timestampToleranceS') ?? defaults.timestampToleranceS
  if (timestampToleranceS < 0) throw configError('WX_MP_TIMESTAMP_TOLERANCE_S must be 0 (off) or a positive number of seconds.')
  const allowText = pick(undefined, env, 'WX_MP_ALLOW_PLAIN_PUSHES')
  if (allowText !== undefined && !/^(1|0|true|false|yes|no)$/i.test(allowText)) {
    throw configError(`WX_MP_ALLOW_PLAIN_PUSHES must be 1 or 0 (true or false), got "${allowText}".`)
  }
  const allowPlainPushes = options.allowPlainPushes ?? (allowText !== undefined && /^(1|true|yes)$/i.test(allowText))
  const drainTimeoutMs = integer(options.drainTimeoutMs, env, 'WX_MP_DRAIN_TIMEOUT_MS', 'drainTimeoutMs') ?? defaults.drainTimeoutMs
  return { token, aesKey, previousAesKeys, appId, appSecret, path, replyTimeoutMs, timestampToleranceS, allowPlainPushes, drainTimeoutMs }
}
