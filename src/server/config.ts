/**
 * Server configuration: explicit options first, then the `WX_MP_*` environment variables, read
 * and validated once at registration from the one settings table ({@link settings}), with errors
 * that name the variable and the fix and never echo a secret.
 *
 * @module
 */
import { WxMpError } from '../core/errors.js'
import type { SlowReplyStrategy } from '../slow-reply/strategy.js'
import { closestName } from './closest-name.js'
import { settings, type Setting } from './settings.js'

/** The settings that can come from the environment; each row of {@link settings} is one of them. */
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
  /** How an answer that misses WeChat's 5 s reaches the user. Env: `WX_MP_SLOW_REPLY`. Default `auto`. */
  slowReply?: SlowReplyStrategy
  /** The text sent while a slow answer is being prepared. Env: `WX_MP_SLOW_PLACEHOLDER`. */
  slowReplyPlaceholder?: string
  /** The WeChat API's origin. Env: `WX_MP_API_BASE_URL`. Default `https://api.weixin.qq.com`. */
  apiBaseUrl?: string
  /** A Redis URL (`redis://` or `rediss://`) shared by several processes. Env: `WX_MP_REDIS_URL`. */
  redis?: string
  /** The prefix of Redis keys (letters, digits, `-`, `_`). Env: `WX_MP_REDIS_PREFIX`. Default `wxmp`. */
  redisPrefix?: string
}

/** The validated configuration: every row of {@link settings}, with its default applied. */
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
  slowReply: SlowReplyStrategy
  slowReplyPlaceholder: string
  apiBaseUrl: string
  redis: string | undefined
  redisPrefix: string
}

type Row = (typeof settings)[number]
type Widen<T> = T extends string ? string : T extends number ? number : T extends boolean ? boolean : never
/** The default of every setting that has one, keyed by option. */
export type SettingDefaults = { [R in Row as R extends { default: unknown } ? R['option'] : never]: R extends { default: infer D } ? Widen<D> : never }

/** Defaults of the optional settings, from the table. */
export const defaults = Object.freeze(
  Object.fromEntries(settings.flatMap((s: Setting) => (s.default === undefined ? [] : [[s.option, s.default]]))),
) as SettingDefaults

type Env = Record<string, string | undefined>

function configError(message: string): WxMpError {
  return new WxMpError('INVALID_CONFIG', message)
}

/** How an error names the setting: the option when it came from one, else the variable. */
function nameOf(setting: Setting, fromOption: boolean): string {
  return fromOption ? `${setting.option} (${setting.variable})` : setting.variable
}

/** The value as an error may show it: never a secret's characters. */
function shown(setting: Setting, value: unknown): string {
  if (setting.secret) return typeof value === 'string' ? `a value of ${value.length} characters` : `a ${typeof value}`
  return JSON.stringify(value)
}

function invalid(setting: Setting, fromOption: boolean, expected: string, value: unknown): WxMpError {
  const fix = setting.fix ?? (fromOption ? 'Fix the option.' : 'Fix the value, or unset it to use the default.')
  return configError(`${nameOf(setting, fromOption)} must be ${expected}, got ${shown(setting, value)}. ${fix}`)
}

function checkString(setting: Setting, fromOption: boolean, value: string): string {
  if (setting.pattern && !setting.pattern.regex.test(value)) throw invalid(setting, fromOption, setting.pattern.description, value)
  return value
}

function checkInteger(setting: Setting, fromOption: boolean, value: number, text: unknown): number {
  const { min, max } = setting
  const range = max !== undefined ? ` between ${min ?? 0} and ${max}` : min !== undefined ? ` of at least ${min}` : ''
  if (!Number.isSafeInteger(value) || (min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw invalid(setting, fromOption, `a whole number${range}`, text)
  }
  return value
}

function checkUrl(setting: Setting, fromOption: boolean, value: string): string {
  const schemes = setting.schemes ?? []
  const expected = `an absolute URL${schemes.length ? ` (${schemes.map((s) => `${s}//`).join(' or ')})` : ''}`
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid(setting, fromOption, expected, value)
  }
  if (schemes.length && !schemes.includes(url.protocol)) throw invalid(setting, fromOption, expected, value)
  return value
}

/** Checks a value given as an option (already typed, so no parsing). */
function fromOption(setting: Setting, value: unknown): unknown {
  switch (setting.kind) {
    case 'string':
      if (typeof value !== 'string') throw invalid(setting, true, 'a string', value)
      return checkString(setting, true, value)
    case 'list':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw invalid(setting, true, 'an array of strings', value)
      return value.map((v: string, i) => checkListEntry(setting, true, v, i))
    case 'integer':
      if (typeof value !== 'number') throw invalid(setting, true, 'a whole number', value)
      return checkInteger(setting, true, value, value)
    case 'boolean':
      if (typeof value !== 'boolean') throw invalid(setting, true, 'true or false', value)
      return value
    case 'url':
      if (typeof value !== 'string') throw invalid(setting, true, 'a URL string', value)
      return checkUrl(setting, true, value)
    case 'enum':
      if (typeof value !== 'string' || !setting.values!.includes(value)) throw invalid(setting, true, `one of ${setting.values!.join(', ')}`, value)
      return value
  }
}

function checkListEntry(setting: Setting, fromOption: boolean, value: string, index: number): string {
  if (setting.pattern && !setting.pattern.regex.test(value)) {
    throw configError(`${nameOf(setting, fromOption)} entry ${index + 1} must be ${setting.pattern.description}. ${setting.fix ?? ''}`.trim())
  }
  return value
}

/** Parses and checks the text of an environment variable (trimmed, not blank). */
function fromText(setting: Setting, text: string): unknown {
  switch (setting.kind) {
    case 'string':
      return checkString(setting, false, text)
    case 'list':
      return text
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean)
        .map((v, i) => checkListEntry(setting, false, v, i))
    case 'integer':
      if (!/^-?\d+$/.test(text)) throw invalid(setting, false, 'a whole number', text)
      return checkInteger(setting, false, Number(text), text)
    case 'boolean':
      if (/^(1|true|yes)$/i.test(text)) return true
      if (/^(0|false|no)$/i.test(text)) return false
      throw invalid(setting, false, '1 or 0 (true or false)', text)
    case 'url':
      return checkUrl(setting, false, text)
    case 'enum':
      if (!setting.values!.includes(text)) throw invalid(setting, false, `one of ${setting.values!.join(', ')}`, text)
      return text
  }
}

/** One setting's value: the option, else the environment, else the default (a list's is `[]`). */
function readSetting(setting: Setting, option: unknown, env: Env): unknown {
  if (option !== undefined) return fromOption(setting, option)
  const text = env[setting.variable]?.trim()
  if (text !== undefined && text !== '') return fromText(setting, text)
  return setting.default ?? (setting.kind === 'list' ? [] : undefined)
}

/**
 * Resolves and validates server options against the environment, row by row of {@link settings}.
 *
 * @throws {WxMpError} `INVALID_CONFIG` naming the option and its environment variable, with the fix.
 */
export function resolveConfig(options: EnvBackedOptions, env: Env = process.env): ResolvedConfig {
  const values: Record<string, unknown> = {}
  const given = options as Record<string, unknown>
  for (const setting of settings as readonly Setting[]) {
    values[setting.option] = readSetting(setting, given[setting.option], env)
  }
  const config = values as unknown as ResolvedConfig
  if (config.token === undefined || config.token === '') {
    throw configError(
      'WX_MP_TOKEN is not set. Set it to the Token (令牌) you entered on the admin page ' +
        '(设置与开发 → 基本配置 → 服务器配置), e.g. `export WX_MP_TOKEN=...` or a line in .env; or pass { token }.',
    )
  }
  if (config.aesKey !== undefined && (config.appId === undefined || config.appId === '')) {
    throw configError(
      'WX_MP_APPID is not set, but WX_MP_AES_KEY is: encrypted (safe/compatible) mode needs the AppID (开发者ID, "wx…") ' +
        'from 设置与开发 → 基本配置. Set WX_MP_APPID, or unset WX_MP_AES_KEY for plain mode.',
    )
  }
  return config
}

/**
 * The `WX_MP_*` variables in `env` that are not settings of wx-mp-svr (usually a typo), each with
 * the nearest setting's name when one is close.
 */
export function unknownVariables(env: Env): Array<{ variable: string; suggestion: string | undefined }> {
  const known = new Set<string>(settings.map((s) => s.variable))
  return Object.keys(env)
    .filter((name) => name.startsWith('WX_MP_') && !known.has(name))
    .map((variable) => ({ variable, suggestion: closestName(variable, known, 3) }))
}
