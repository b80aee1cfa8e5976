/**
 * `wx-mp-svr <handler-file>`: runs a bot from one file of callbacks.
 *
 * The process, not the library, decides what a crash in handler code does: an unhandled
 * rejection is logged with the push that caused it and the bot keeps serving; an uncaught
 * exception is logged, the server stops accepting, answers what is in flight and the process
 * exits 1 (a supervisor restarts it).
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import { WxMpError } from '../../core/errors.js'
import type { Message } from '../../core/messages.js'
import { resolveConfig, unknownVariables } from '../../server/config.js'
import { createServer } from '../../server/create-server.js'
import { createLogger } from '../../server/logger.js'
import { loadEnvFile } from '../env-file.js'
import { loadHandlers, type HandlerModule } from '../load-handlers.js'

/** Flags of the serve command. */
export interface ServeFlags {
  port?: string
  host?: string
  path?: string
  envFile?: string
  drainTimeout?: string
  slowReply?: string
}

/** Where the command reads and writes; injectable for tests. */
export interface ServeIo {
  env: Record<string, string | undefined>
  stdout: NodeJS.WritableStream
  cwd: string
  /**
   * Install the process handlers: SIGINT/SIGTERM (close gracefully), unhandled rejections (log,
   * keep serving) and uncaught exceptions (log, close, exit 1). Off in tests. Default true.
   */
  handleSignals?: boolean
}

/** A running bot. */
export interface RunningBot {
  app: FastifyInstance
  url: string
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>
}

/** Below this length the banner warns that the Token could be guessed from one signed URL. */
export const SHORT_TOKEN_LENGTH = 16

/** Where a secret's value came from, as the banner says it (never the value, nor its length). */
function sourceOf(variable: string, fromEnvFile: ReadonlySet<string>): string {
  return fromEnvFile.has(variable) ? '.env' : 'the environment'
}

/** What is known of the push whose handler code is running: logged with a crash it causes. */
const pushInFlight = new AsyncLocalStorage<Record<string, unknown>>()

function describePush(msg: Message): Record<string, unknown> {
  const push: Record<string, unknown> = { msgType: msg.msgType, from: msg.fromUserName, createTime: msg.createTime }
  if (msg.msgType === 'event') push['event'] = msg.event
  const msgId = (msg as { msgId?: unknown }).msgId
  if (msgId !== undefined) push['msgId'] = msgId
  return push
}

/**
 * The handlers, each run inside the push's async context, so an error their code leaves behind
 * (a rejection nobody handles, a throw in a timer) can be logged with the push that caused it.
 */
function tracePushes(handlers: HandlerModule): HandlerModule {
  const traced: HandlerModule = { ...handlers }
  const { onMessage, onSubscribe, onEvent, onError } = handlers
  if (onMessage) traced.onMessage = (msg, ctx) => pushInFlight.run(describePush(msg), () => onMessage(msg, ctx))
  if (onSubscribe) traced.onSubscribe = (msg, ctx) => pushInFlight.run(describePush(msg), () => onSubscribe(msg, ctx))
  if (onEvent) traced.onEvent = (msg, ctx) => pushInFlight.run(describePush(msg), () => onEvent(msg, ctx))
  if (onError) traced.onError = (err, msg) => pushInFlight.run(describePush(msg), () => onError(err, msg))
  return traced
}

function drainTimeout(flag: string | undefined): number | undefined {
  if (flag === undefined) return undefined
  if (!/^\d+$/.test(flag)) {
    throw new WxMpError('INVALID_CONFIG', `--drain-timeout must be a whole number of milliseconds, got "${flag}" (or set WX_MP_DRAIN_TIMEOUT_MS).`)
  }
  return Number(flag)
}

function port(flag: string | undefined, env: ServeIo['env']): number {
  const text = flag ?? env['PORT'] ?? '5001'
  const value = Number(text)
  if (!/^\d+$/.test(text) || value > 65535) {
    throw new WxMpError('INVALID_CONFIG', `${flag !== undefined ? '--port' : 'PORT'} must be a port number (0–65535), got "${text}".`)
  }
  return value
}

/**
 * Starts the bot in `file`: loads `.env` (or `--env-file`), the handlers, and listens.
 *
 * @throws {WxMpError} `INVALID_CONFIG` for configuration errors (the CLI prints them and exits 1).
 */
export async function serve(file: string, flags: ServeFlags, io: ServeIo): Promise<RunningBot> {
  const { env, stdout } = io
  const envFile = flags.envFile ?? '.env'
  const envPath = resolve(io.cwd, envFile)
  const fromEnvFile = new Set<string>()
  if (existsSync(envPath)) for (const name of loadEnvFile(envPath, env)) fromEnvFile.add(name)
  else if (flags.envFile !== undefined) {
    throw new WxMpError('INVALID_CONFIG', `--env-file ${flags.envFile}: no such file (${envPath}).`)
  }

  const listenPort = port(flags.port, env)
  const host = flags.host ?? env['HOST'] ?? '127.0.0.1'
  let devToken: string | undefined
  if ((env['WX_MP_TOKEN'] ?? '').trim() === '' && env['NODE_ENV'] !== 'production') {
    devToken = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')
  }
  const drainTimeoutMs = drainTimeout(flags.drainTimeout)
  // The flag goes through the settings table like WX_MP_SLOW_REPLY: a wrong value is named there.
  const slowEnv = flags.slowReply === undefined ? env : { ...env, WX_MP_SLOW_REPLY: flags.slowReply }
  const config = resolveConfig({ token: devToken, path: flags.path, drainTimeoutMs }, slowEnv)
  const handlers = tracePushes(await loadHandlers(file, io.cwd))
  const app = await createServer({
    ...handlers,
    token: config.token,
    path: config.path,
    drainTimeoutMs: config.drainTimeoutMs,
    env: slowEnv,
    logger: createLogger({ level: env['LOG_LEVEL'] }),
  })
  try {
    await app.listen({ port: listenPort, host })
  } catch (cause) {
    await app.close()
    const code = (cause as { code?: string }).code
    if (code === 'EADDRINUSE') {
      throw new WxMpError('INVALID_CONFIG', `Port ${listenPort} is already in use: stop the other process, or choose another with --port or PORT.`, { cause })
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw new WxMpError('INVALID_CONFIG', `Cannot listen on host "${host}": use an address of this machine with --host or HOST (127.0.0.1, or 0.0.0.0 for all).`, { cause })
    }
    if (code === 'EACCES') {
      throw new WxMpError('INVALID_CONFIG', `Not allowed to listen on port ${listenPort} (ports below 1024 need root): use a port such as 5001 behind nginx, with --port or PORT.`, { cause })
    }
    throw cause
  }
  const address = app.server.address()
  const actualPort = typeof address === 'object' && address ? address.port : listenPort
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
  const url = `http://${shownHost}:${actualPort}${config.path}`
  const safe = config.aesKey !== undefined

  const lines = [
    '',
    `wx-mp-svr  ${file} is listening on ${url}  (${safe ? 'safe mode: 安全模式 or 兼容模式' : 'plain mode: 明文模式'})`,
    '',
    '  On the admin page (mp.weixin.qq.com → 设置与开发 → 基本配置 → 服务器配置 → 修改配置):',
    `    服务器地址(URL)        https://<your domain>${config.path}   (WeChat calls ports 80/443 only: proxy them to ${host}:${actualPort}, see README)`,
    devToken
      ? `    令牌(Token)            not set! This run uses a temporary token for local tests only: ${devToken}`
      : `    令牌(Token)            the value of WX_MP_TOKEN (set, from ${sourceOf('WX_MP_TOKEN', fromEnvFile)})`,
    safe
      ? `    消息加解密密钥          the value of WX_MP_AES_KEY (set, from ${sourceOf('WX_MP_AES_KEY', fromEnvFile)})   AppID ${config.appId}`
      : '    消息加解密密钥          (随机生成, then set WX_MP_AES_KEY and WX_MP_APPID to use safe mode)',
    `    消息加解密方式          ${safe ? '安全模式 (recommended) or 兼容模式' : '明文模式'}`,
    '',
    `  Try it without WeChat:  npx wx-mp-svr chat ${url}${devToken ? ` --token ${devToken}` : ''}`,
    '',
  ]
  if (devToken) {
    lines.push('  Set WX_MP_TOKEN (in the environment or .env) before connecting WeChat; with NODE_ENV=production a missing token is an error.', '')
  } else if (config.token.length < SHORT_TOKEN_LENGTH) {
    lines.push(
      `  Warning: WX_MP_TOKEN is shorter than ${SHORT_TOKEN_LENGTH} characters. Anyone who sees one signed URL (a proxy log is enough)`,
      '  can guess a short Token offline. Use 32 random letters and digits (the page allows 3–32) on the page and in WX_MP_TOKEN.',
      '',
    )
  }
  for (const { variable, suggestion } of unknownVariables(env)) {
    lines.push(`  Warning: ${variable} is not a setting of wx-mp-svr${suggestion ? ` (did you mean ${suggestion}?)` : ''}; it is ignored.`, '')
  }
  stdout.write(lines.join('\n') + '\n')

  let closing: Promise<void> | undefined
  const removeProcessHandlers: Array<() => void> = []
  const close = (): Promise<void> =>
    (closing ??= app.close().then(() => {
      for (const remove of removeProcessHandlers) remove()
    }))
  /** Closes (bounded by the drain timeout inside `app.close`) and exits with `code`. */
  const exitAfterClose = (code: number): void => {
    close().then(
      () => process.exit(code),
      (err: unknown) => {
        app.log.error({ err }, 'error while closing')
        process.exit(1)
      },
    )
  }
  if (io.handleSignals !== false) {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (closing) {
        app.log.warn(`${signal} again: exiting without waiting`)
        process.exit(1)
      }
      app.log.info(`${signal}: closing (in-flight pushes finish first, at most ${config.drainTimeoutMs} ms)`)
      exitAfterClose(0)
    }
    const onRejection = (reason: unknown): void => {
      app.log.error(
        { err: reason, push: pushInFlight.getStore() },
        'unhandled rejection in handler code (a promise nobody awaited or caught); the bot keeps serving. Await it or add .catch()',
      )
    }
    const onException = (err: Error): void => {
      if (closing) {
        app.log.fatal({ err, push: pushInFlight.getStore() }, 'uncaught exception while closing; exiting now')
        process.exit(1)
      }
      app.log.fatal(
        { err, push: pushInFlight.getStore() },
        'uncaught exception in handler code: no longer accepting; answering the pushes in flight, then exiting 1 for the supervisor to restart',
      )
      process.exitCode = 1
      exitAfterClose(1)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    process.on('unhandledRejection', onRejection)
    process.on('uncaughtException', onException)
    removeProcessHandlers.push(() => {
      process.off('unhandledRejection', onRejection)
      process.off('uncaughtException', onException)
    })
  }
  return { app, url, close }
}

/** Adds the default command: `wx-mp-svr <handler-file> [--port] [--host] [--path] [--env-file]`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve <handler-file>', { isDefault: true })
    .description('run a bot: the file exports onMessage / onSubscribe (and optionally onEvent, onError)')
    .option('-p, --port <port>', 'port to listen on (default: PORT or 5001)')
    .option('--host <host>', 'interface to listen on (default: HOST or 127.0.0.1)')
    .option('--path <path>', 'callback path (default: WX_MP_PATH or /wx)')
    .option('--env-file <file>', 'load variables from this file (default: .env when present)')
    .option('--slow-reply <strategy>', 'how slow answers reach the user: auto, retry-window, next-message, customer-service or success (default: WX_MP_SLOW_REPLY or auto)')
    .option('--drain-timeout <ms>', 'on shutdown, wait at most this long for pushes in flight (default: WX_MP_DRAIN_TIMEOUT_MS or 60000)')
    .action(async (file: string, flags: ServeFlags) => {
      await serve(file, flags, { env: process.env, stdout: process.stdout, cwd: process.cwd() })
    })
}
