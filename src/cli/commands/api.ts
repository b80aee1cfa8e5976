/**
 * CLI commands for the active API: `wx-mp-svr menu push <file>`, `wx-mp-svr menu show`,
 * `wx-mp-svr token [--show]`.
 *
 * Credentials come from `WX_MP_APPID` / `WX_MP_APPSECRET` (or `--appid` / `--secret`), the API origin
 * from `WX_MP_API_BASE_URL` (or `--base-url`, default https://api.weixin.qq.com). The actions are plain
 * functions over injectable IO ({@link ApiCliIo}) returning an exit code: 0 success, 1 configuration or
 * input error, 2 WeChat or network error. The commander wiring in {@link registerApiCommands} is thin.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/service/api/custommenu/api_createcustommenu
 * - https://developers.weixin.qq.com/doc/service/api/custommenu/api_getmenu
 * - https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { WxMpError, isWxMpError } from '../../core/errors.js'
import { loadCommandEnv, withEnvFileOptions, type EnvFileFlags } from '../env-file.js'
import { printCliError } from '../error-printer.js'
import { WxMpApi } from '../../api/client.js'
import { isWxMpApiError } from '../../api/errors.js'
import { normalizeMenu } from '../../api/menu.js'
import type { FetchLike } from '../../api/transport.js'
import { settingOf } from '../../server/settings.js'
import { StoreKeys } from '../../store/keys.js'
import { createRedisStore } from '../../store/redis-store.js'
import { StoreTokenStore } from '../../store/store-token-store.js'

/** Where the commands read configuration and write output. */
export interface ApiCliIo {
  env: Record<string, string | undefined>
  stdout: { write(chunk: string): unknown }
  stderr: { write(chunk: string): unknown }
  /** `fetch` override (tests). */
  fetch?: FetchLike
  /** Clock override (tests). */
  now?: () => number
}

/** Options shared by the API commands. */
export interface ApiCliOptions extends EnvFileFlags {
  /** Overrides `WX_MP_APPID`. */
  appid?: string
  /** Overrides `WX_MP_APPSECRET` (prefer the environment: command lines show up in `ps`). */
  secret?: string
  /** Overrides `WX_MP_API_BASE_URL`. */
  baseUrl?: string
}

/** Options of {@link runToken}. */
export interface TokenCliOptions extends ApiCliOptions {
  /** Print the token itself (it is a secret). */
  show?: boolean
  /** Ask WeChat for a new token (stable_token `force_refresh`): invalidates the current one everywhere. */
  forceRefresh?: boolean
}

/** Exit codes of the API commands. */
export const API_CLI_EXIT = { ok: 0, config: 1, api: 2 } as const

function defaultIo(): ApiCliIo {
  return { env: process.env, stdout: process.stdout, stderr: process.stderr }
}

/** An API client, and what to close when the command is done (the Redis connection, if any). */
interface OpenedApi {
  api: WxMpApi
  close(): Promise<void>
}

/**
 * The client of the command. With `WX_MP_REDIS_URL` set, its access token is the one the bot's
 * instances share in Redis (same key, same refresh lock), so a command never fetches a token of
 * its own that would replace theirs.
 */
async function openApi(opts: ApiCliOptions, io: ApiCliIo): Promise<OpenedApi> {
  const baseUrl = opts.baseUrl ?? (io.env['WX_MP_API_BASE_URL'] || undefined)
  const options = {
    appId: opts.appid,
    appSecret: opts.secret,
    baseUrl,
    env: io.env,
    ...(io.fetch ? { fetch: io.fetch } : {}),
    ...(io.now ? { now: io.now } : {}),
  }
  const url = io.env['WX_MP_REDIS_URL']?.trim()
  if (!url) return { api: new WxMpApi(options), close: async () => undefined }
  const prefix = io.env['WX_MP_REDIS_PREFIX']?.trim() || 'wxmp'
  const pattern = settingOf('WX_MP_REDIS_PREFIX').pattern!
  if (!pattern.regex.test(prefix)) throw new WxMpError('INVALID_CONFIG', `WX_MP_REDIS_PREFIX must be ${pattern.description}, got ${JSON.stringify(prefix)}.`)
  // Credentials are checked before Redis is tried.
  const probe = new WxMpApi(options)
  const store = createRedisStore({ url, log: { warn: (m) => void io.stderr.write(`wx-mp-svr: ${m}\n`), info: () => undefined } })
  await store.connect()
  const api = new WxMpApi({ ...options, appId: probe.appId, tokenStore: new StoreTokenStore(store, new StoreKeys(prefix, probe.appId), { now: io.now }) })
  return { api, close: () => store.close() }
}

function report(err: unknown, io: ApiCliIo): number {
  // The commands' own input errors (an unreadable file, bad JSON) are plain Errors whose message
  // is the whole report: no stack trace for a mistake the user can fix.
  const inputError = err instanceof Error && !isWxMpApiError(err) && !isWxMpError(err)
  printCliError(inputError ? new WxMpError('INVALID_CONFIG', err.message) : err, io.stderr)
  if (isWxMpApiError(err)) return API_CLI_EXIT.api
  const aboutRedis = isWxMpError(err) && (err.message.includes('WX_MP_REDIS_URL') || err.message.includes('WX_MP_REDIS_PREFIX'))
  if (isWxMpError(err) && err.code === 'INVALID_CONFIG' && !aboutRedis) {
    io.stderr.write('  Set WX_MP_APPID and WX_MP_APPSECRET (or pass --appid/--secret), then run the command again.\n')
  }
  return API_CLI_EXIT.config
}

/**
 * `wx-mp-svr menu push <file>`: reads a menu JSON file (`{ "button": [...] }`, or the output of
 * `menu show`), validates it, and creates it with `POST /cgi-bin/menu/create`.
 */
export async function runMenuPush(file: string, opts: ApiCliOptions = {}, io: ApiCliIo = defaultIo()): Promise<number> {
  let opened: OpenedApi | undefined
  try {
    opened = await openApi(opts, io)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (cause) {
      throw new Error(`cannot read menu file ${file}: ${(cause as Error).message}`, { cause })
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (cause) {
      throw new Error(`menu file ${file} is not valid JSON: ${(cause as Error).message}`, { cause })
    }
    const menu = normalizeMenu(parsed)
    await opened.api.menu.create(menu)
    const subs = menu.button.reduce((n, b) => n + (b.sub_button?.length ?? 0), 0)
    io.stdout.write(`menu pushed: ${menu.button.length} top-level button(s), ${subs} sub-button(s)\n`)
    return API_CLI_EXIT.ok
  } catch (err) {
    return report(err, io)
  } finally {
    await opened?.close()
  }
}

/**
 * `wx-mp-svr menu show`: prints the current menu (`GET /cgi-bin/menu/get`) as JSON, in a form
 * `menu push` accepts.
 */
export async function runMenuShow(opts: ApiCliOptions = {}, io: ApiCliIo = defaultIo()): Promise<number> {
  let opened: OpenedApi | undefined
  try {
    opened = await openApi(opts, io)
    const menu = await opened.api.menu.get()
    io.stdout.write(JSON.stringify(menu, null, 2) + '\n')
    return API_CLI_EXIT.ok
  } catch (err) {
    return report(err, io)
  } finally {
    await opened?.close()
  }
}

/**
 * `wx-mp-svr token [--show]`: fetches the access token through stable_token (which does not
 * invalidate the token your servers use) and prints its status and expiry; the token itself only
 * with `--show`.
 */
export async function runToken(opts: TokenCliOptions = {}, io: ApiCliIo = defaultIo()): Promise<number> {
  let opened: OpenedApi | undefined
  try {
    opened = await openApi(opts, io)
    const api = opened.api
    const info = await api.getAccessTokenInfo({ forceRefresh: opts.forceRefresh === true })
    const now = (io.now ?? Date.now)()
    const seconds = Math.max(0, Math.round((info.expiresAt - now) / 1000))
    const lines = [
      `access_token: OK (appid ${api.appId}, ${api.tokens.endpoint === 'stable' ? 'stable_token' : 'token'} endpoint, ${api.baseUrl})`,
      `expires in:   ${seconds} s (at ${new Date(info.expiresAt).toISOString()})`,
      opts.show ? `token:        ${info.accessToken}` : 'token:        (hidden; pass --show to print it)',
    ]
    io.stdout.write(lines.join('\n') + '\n')
    return API_CLI_EXIT.ok
  } catch (err) {
    return report(err, io)
  } finally {
    await opened?.close()
  }
}

function withApiOptions(cmd: Command): Command {
  return withEnvFileOptions(cmd)
    .option('--appid <appid>', 'AppID (default: $WX_MP_APPID)')
    .option('--secret <secret>', 'AppSecret (default: $WX_MP_APPSECRET; prefer the environment)')
    .option('--base-url <url>', 'API origin (default: $WX_MP_API_BASE_URL or https://api.weixin.qq.com)')
}

/**
 * Adds `menu push <file>`, `menu show` and `token [--show]` to `program` (commander v14). The
 * actions set `process.exitCode`. Pass `io` to redirect configuration and output (tests).
 */
export function registerApiCommands(program: Command, io?: Partial<ApiCliIo>): void {
  // The variables file is read into the IO's environment by the server's rule: `--env`, else `.env`.
  const resolveIo = (flags: EnvFileFlags): ApiCliIo => {
    const resolved = { ...defaultIo(), ...io }
    loadCommandEnv(flags, { env: resolved.env, cwd: process.cwd() })
    return resolved
  }
  const menu = program.command('menu').description('manage the custom menu (自定义菜单) through the WeChat API')
  withApiOptions(menu.command('push').argument('<file>', 'menu JSON file: { "button": [...] }').description('create the menu from a JSON file')).action(
    async (file: string, opts: ApiCliOptions) => {
      process.exitCode = await runMenuPush(file, opts, resolveIo(opts))
    },
  )
  withApiOptions(menu.command('show').description('print the current menu as JSON')).action(async (opts: ApiCliOptions) => {
    process.exitCode = await runMenuShow(opts, resolveIo(opts))
  })
  withApiOptions(
    program
      .command('token')
      .description('check the access token: status and expiry (the token itself only with --show)')
      .option('--show', 'print the token (a secret)')
      .option('--force-refresh', 'ask WeChat for a new token; invalidates the current one everywhere'),
  ).action(async (opts: TokenCliOptions) => {
    process.exitCode = await runToken(opts, resolveIo(opts))
  })
}
