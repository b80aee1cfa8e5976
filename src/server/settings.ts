/**
 * The one table of the `WX_MP_*` settings: variable, option, kind, default and what it means (in
 * Chinese and English). The config resolver reads and validates every row generically, the CLI's
 * `--help` lists them, and a test checks that the README's configuration table is
 * {@link settingsMarkdownTable}. Add a setting here and it exists everywhere.
 *
 * Official reference (the values of the first rows come from 设置与开发 → 基本配置 → 服务器配置):
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */
import { defaultSlowReplyTexts, slowReplyStrategies } from '../slow-reply/strategy.js'

/** How a setting's text is read and checked. */
export type SettingKind =
  /** A string (rows may carry a `pattern`). */
  | 'string'
  /** Comma-separated strings. */
  | 'list'
  /** A whole number (`integer` rows carry `min`/`max`). */
  | 'integer'
  /** `1`/`0`, `true`/`false`, `yes`/`no`. */
  | 'boolean'
  /** An absolute URL (rows may restrict the schemes). */
  | 'url'
  /** One of `values`. */
  | 'enum'

/** One row of the table. */
export interface Setting {
  /** The environment variable. */
  readonly variable: `WX_MP_${string}`
  /** The option of `createServer` / `wxMp` / `createCallbackHandler` that overrides it. */
  readonly option: string
  readonly kind: SettingKind
  /** A secret (or a value that may hold one, like a Redis URL with a password): never printed, logged or echoed in an error. */
  readonly secret?: boolean
  /** The value when unset; `undefined` when the setting is optional without a default. */
  readonly default?: string | number | boolean
  /** When it must be set, in words (e.g. "always", "with WX_MP_AES_KEY"). */
  readonly required?: string
  /** Allowed values of an `enum`. */
  readonly values?: readonly string[]
  /** Bounds of an `integer`. */
  readonly min?: number
  readonly max?: number
  /** Allowed URL schemes of a `url` (with the colon), e.g. `['redis:', 'rediss:']`. */
  readonly schemes?: readonly string[]
  /** A pattern a `string` must match, with its description for the error. */
  readonly pattern?: { readonly regex: RegExp; readonly description: string }
  /** How to fix a wrong value, appended to the error. */
  readonly fix?: string
  /** What it is, in Chinese. */
  readonly zh: string
  /** What it is, in English. */
  readonly en: string
}

/** The default placeholder of a slow answer (`WX_MP_SLOW_PLACEHOLDER`). */
export const DEFAULT_SLOW_PLACEHOLDER: string = defaultSlowReplyTexts.placeholder

/** Every `WX_MP_*` setting, in the order the README and `--help` show them. */
export const settings = [
  {
    variable: 'WX_MP_TOKEN',
    option: 'token',
    kind: 'string',
    secret: true,
    required: 'always',
    zh: '令牌(Token)，与公众号后台填写的完全一致',
    en: 'the Token, exactly as on the admin page',
  },
  {
    variable: 'WX_MP_AES_KEY',
    option: 'aesKey',
    kind: 'string',
    secret: true,
    pattern: { regex: /^[A-Za-z0-9]{43}$/, description: 'the EncodingAESKey (消息加解密密钥): exactly 43 letters and digits' },
    fix: 'Copy it again from 设置与开发 → 基本配置 → 服务器配置, or unset it for plain mode.',
    zh: '消息加解密密钥(EncodingAESKey)，43 位字母数字；设置后启用兼容模式与安全模式',
    en: 'the EncodingAESKey (43 letters and digits); enables compatible and safe mode',
  },
  {
    variable: 'WX_MP_PREVIOUS_AES_KEYS',
    option: 'previousAesKeys',
    kind: 'list',
    secret: true,
    fix: 'Remove the entry or fix it.',
    pattern: { regex: /^[A-Za-z0-9]{43}$/, description: 'a 43-character EncodingAESKey' },
    zh: '仍可用于解密的旧密钥（逗号分隔），更换密钥时不丢消息',
    en: 'old EncodingAESKeys still accepted for decryption (comma-separated), so rotating the key drops no message',
  },
  {
    variable: 'WX_MP_APPID',
    option: 'appId',
    kind: 'string',
    required: 'with WX_MP_AES_KEY',
    zh: '开发者ID(AppID)，wx 开头',
    en: 'the AppID (`wx…`)',
  },
  {
    variable: 'WX_MP_APPSECRET',
    option: 'appSecret',
    kind: 'string',
    secret: true,
    zh: '开发者密码(AppSecret)，调用微信接口时需要',
    en: 'the AppSecret, for the API client',
  },
  {
    variable: 'WX_MP_PATH',
    option: 'path',
    kind: 'string',
    default: '/wx',
    pattern: { regex: /^\/[^?#\s]*$/, description: 'a URL path starting with "/" (e.g. /wx)' },
    zh: '回调路径',
    en: 'the callback path',
  },
  {
    variable: 'WX_MP_REPLY_TIMEOUT_MS',
    option: 'replyTimeoutMs',
    kind: 'integer',
    default: 4500,
    min: 1,
    max: 4999,
    fix: 'WeChat gives up after 5000 ms, and the network needs some of that. The default is 4500.',
    zh: '处理函数未完成时，在此毫秒数回复 success；须小于 5000（微信 5 秒后放弃）',
    en: 'when to answer `success` if the handler is still running; below 5000 (WeChat gives up after 5 s)',
  },
  {
    variable: 'WX_MP_TIMESTAMP_TOLERANCE_S',
    option: 'timestampToleranceS',
    kind: 'integer',
    default: 300,
    min: 0,
    zh: 'timestamp 与本机时钟允许的误差（秒）；0 关闭检查',
    en: 'allowed clock difference of `timestamp`, in seconds; `0` turns the check off',
  },
  {
    variable: 'WX_MP_ALLOW_PLAIN_PUSHES',
    option: 'allowPlainPushes',
    kind: 'boolean',
    default: false,
    zh: '设置了密钥时仍接受明文推送（仅在切换模式期间打开）',
    en: 'with an AES key, also accept plain pushes (only while switching modes)',
  },
  {
    variable: 'WX_MP_DRAIN_TIMEOUT_MS',
    option: 'drainTimeoutMs',
    kind: 'integer',
    default: 60_000,
    min: 0,
    zh: '关闭时最多等待仍在运行的处理函数和连接的毫秒数',
    en: 'how long shutdown waits for running handlers and open connections, in ms',
  },
  {
    variable: 'WX_MP_SLOW_REPLY',
    option: 'slowReply',
    kind: 'enum',
    default: 'auto',
    values: slowReplyStrategies,
    zh: '超过 5 秒的回答如何送达：auto、retry-window、next-message、customer-service 或 success',
    en: 'how an answer that misses the 5 s reaches the user: auto, retry-window, next-message, customer-service or success',
  },
  {
    variable: 'WX_MP_SLOW_PLACEHOLDER',
    option: 'slowReplyPlaceholder',
    kind: 'string',
    default: DEFAULT_SLOW_PLACEHOLDER,
    zh: '回答尚未准备好时先回复的文字',
    en: 'the text sent while a slow answer is being prepared',
  },
  {
    variable: 'WX_MP_API_BASE_URL',
    option: 'apiBaseUrl',
    kind: 'url',
    default: 'https://api.weixin.qq.com',
    schemes: ['https:', 'http:'],
    zh: '微信接口的地址（测试或代理时修改）',
    en: "the WeChat API's origin (change it for tests or a proxy)",
  },
  {
    variable: 'WX_MP_REDIS_URL',
    option: 'redis',
    kind: 'url',
    secret: true,
    schemes: ['redis:', 'rediss:'],
    zh: 'Redis 地址（redis:// 或 rediss://）；设置后多个进程共享去重与待发回答',
    en: 'a Redis URL (redis:// or rediss://); when set, processes share dedup and pending answers',
  },
  {
    variable: 'WX_MP_REDIS_PREFIX',
    option: 'redisPrefix',
    kind: 'string',
    default: 'wxmp',
    pattern: { regex: /^[A-Za-z0-9_-]+$/, description: 'letters, digits, "-" and "_" only' },
    zh: 'Redis 键的前缀',
    en: 'the prefix of Redis keys',
  },
] as const satisfies readonly Setting[]

/** A variable of the table. */
export type SettingVariable = (typeof settings)[number]['variable']

/** The row of `variable`. */
export function settingOf(variable: SettingVariable): Setting {
  return settings.find((s) => s.variable === variable)!
}

function requiredText(required: string): string {
  return required === 'always' ? 'required' : `required ${required}`
}

function shownDefault(setting: Setting): string {
  if (setting.default === undefined) return setting.required ? `— (${requiredText(setting.required)})` : '—'
  if (typeof setting.default === 'boolean') return setting.default ? 'on' : 'off'
  return `\`${String(setting.default)}\``
}

/**
 * The README's configuration table (Markdown), generated from {@link settings}: a test checks the
 * README holds exactly this between its `settings` markers.
 */
export function settingsMarkdownTable(): string {
  const rows = settings.map((s: Setting) => `| \`${s.variable}\` | \`${s.option}\` | ${shownDefault(s)} | ${s.zh} | ${s.en} |`)
  return ['| variable | option | default | 说明 | meaning |', '|---|---|---|---|---|', ...rows].join('\n')
}

/** The environment section of the CLI's `--help`, generated from {@link settings}. */
export function settingsHelpText(): string {
  const width = Math.max(...settings.map((s) => s.variable.length))
  const lines = settings.map((s: Setting) => {
    const note = s.default !== undefined ? ` (default: ${String(s.default)})` : s.required ? ` (${requiredText(s.required)})` : ''
    return `  ${s.variable.padEnd(width)}  ${s.en.replace(/`/g, '')}${note}`
  })
  return ['Environment (also read from .env):', ...lines].join('\n')
}
