/**
 * What the bot prints when it starts: where it listens, what to paste on the admin page, which
 * callbacks it loaded, how slow answers will reach users, and what looks wrong. In a terminal a
 * block of text; otherwise (a service's journal, a container's log) ONE JSON line, so log
 * collectors never see a human banner mixed into the JSON lines.
 *
 * @module
 */
import type { SlowReplyStrategy } from '../slow-reply/strategy.js'
import { handlerExportNames } from './handler-exports.js'

/** Below this length the banner warns that the Token could be guessed from one signed URL. */
export const SHORT_TOKEN_LENGTH = 16

/** Everything the banner says. */
export interface BannerFacts {
  /** The handler file as the user named it. */
  file: string
  /** The callback URL on this machine. */
  url: string
  /** Where it listens, as given (`127.0.0.1`, `0.0.0.0`). */
  host: string
  port: number
  path: string
  safe: boolean
  appId: string | undefined
  /** Where WX_MP_TOKEN came from, or the temporary token of this development run. */
  token: { kind: 'set'; from: string; length: number } | { kind: 'dev'; token: string; file: string; kept: boolean }
  /** Where WX_MP_AES_KEY came from (safe mode). */
  aesKeyFrom: string | undefined
  /** The callbacks the file provides (exported or in `config`). */
  loaded: ReadonlySet<string>
  /** How slow answers reach the user, decided (see {@link slowReplyLine}). */
  slowReply: string
  /** Problems that do not stop the bot. */
  warnings: string[]
}

/**
 * The strategy slow answers will actually use, in words: `auto` decided from the AppSecret, and a
 * `lateReply` of the author's own (without a chosen strategy) meaning `success`.
 */
export function slowReplyLine(configured: SlowReplyStrategy, chosen: boolean, hasLateReply: boolean, canSendKefu: boolean): string {
  if (!chosen && hasLateReply) return 'success (then your lateReply)'
  if (configured === 'auto') {
    return canSendKefu ? 'customer-service (auto: AppSecret set; retry-window if the account has no 客服 permission)' : 'retry-window (auto: no AppSecret)'
  }
  return configured
}

/** `onMessage ✓  onSubscribe ✓  onEvent —  …` */
function loadedLine(loaded: ReadonlySet<string>): string {
  return handlerExportNames.map((name) => `${name} ${loaded.has(name) ? '✓' : '—'}`).join('  ')
}

function tryIt(facts: BannerFacts): string {
  return `npx wx-mp-svr chat ${facts.url}${facts.token.kind === 'dev' ? ` --token ${facts.token.token}` : ''}`
}

/** The human banner, for a terminal. */
export function bannerText(facts: BannerFacts): string {
  const { file, url, host, port, path, safe, token } = facts
  const lines = [
    '',
    `wx-mp-svr  ${file} is listening on ${url}  (${safe ? 'safe mode: 安全模式 or 兼容模式' : 'plain mode: 明文模式'})`,
    '',
    `  Loaded:  ${loadedLine(facts.loaded)}   slow replies: ${facts.slowReply}`,
    '',
    '  On the admin page (mp.weixin.qq.com → 设置与开发 → 基本配置 → 服务器配置 → 修改配置):',
    `    服务器地址(URL)        https://<your domain>${path}   (WeChat calls ports 80/443 only: proxy them to ${host}:${port}, see README)`,
    token.kind === 'dev'
      ? `    令牌(Token)            not set! This run uses a temporary token for local tests only: ${token.token}` +
        (token.kept ? `  (kept in ${token.file} for the next run)` : '')
      : `    令牌(Token)            the value of WX_MP_TOKEN (set, from ${token.from})`,
    safe
      ? `    消息加解密密钥          the value of WX_MP_AES_KEY (set, from ${facts.aesKeyFrom})   AppID ${facts.appId}`
      : '    消息加解密密钥          (随机生成, then set WX_MP_AES_KEY and WX_MP_APPID to use safe mode)',
    `    消息加解密方式          ${safe ? '安全模式 (recommended) or 兼容模式' : '明文模式'}`,
    '',
    `  Try it without WeChat:  ${tryIt(facts)}`,
    '',
  ]
  if (token.kind === 'dev') {
    lines.push('  Set WX_MP_TOKEN (in the environment or .env) before connecting WeChat; with NODE_ENV=production a missing token is an error.', '')
  } else if (token.length < SHORT_TOKEN_LENGTH) {
    lines.push(
      `  Warning: WX_MP_TOKEN is shorter than ${SHORT_TOKEN_LENGTH} characters. Anyone who sees one signed URL (a proxy log is enough)`,
      '  can guess a short Token offline. Use 32 random letters and digits (the page allows 3–32) on the page and in WX_MP_TOKEN.',
      '',
    )
  }
  for (const warning of facts.warnings) lines.push(`  Warning: ${warning}`, '')
  return lines.join('\n') + '\n'
}

/** The production banner: one JSON line in pino's shape (level 40 when something is warned about). */
export function bannerJson(facts: BannerFacts, now: number = Date.now()): string {
  const warnings = [...facts.warnings]
  if (facts.token.kind === 'set' && facts.token.length < SHORT_TOKEN_LENGTH) {
    warnings.push(`WX_MP_TOKEN is shorter than ${SHORT_TOKEN_LENGTH} characters: anyone who sees one signed URL can guess it offline; use 32 random letters and digits.`)
  }
  if (facts.token.kind === 'dev') warnings.push('WX_MP_TOKEN is not set: this run uses a temporary token for local tests only.')
  const line = {
    level: warnings.length > 0 ? 40 : 30,
    time: now,
    msg: `wx-mp-svr: ${facts.file} is listening on ${facts.url} (${facts.safe ? 'safe' : 'plain'} mode)`,
    url: facts.url,
    mode: facts.safe ? 'safe' : 'plain',
    handlers: Object.fromEntries(handlerExportNames.map((name) => [name, facts.loaded.has(name)])),
    slowReply: facts.slowReply,
    token: facts.token.kind === 'dev' ? { temporary: facts.token.token, keptIn: facts.token.kept ? facts.token.file : null } : `set, from ${facts.token.from}`,
    ...(facts.safe ? { aesKey: `set, from ${facts.aesKeyFrom}`, appId: facts.appId } : {}),
    tryIt: tryIt(facts),
    warnings,
  }
  return JSON.stringify(line) + '\n'
}
