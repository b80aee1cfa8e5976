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
import { basename, relative, resolve } from 'node:path'
import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import { WxMpError } from '../../core/errors.js'
import type { Message } from '../../core/messages.js'
import { resolveConfig, unknownVariables } from '../../server/config.js'
import { createServer, type CreateServerOptions } from '../../server/create-server.js'
import { createLogger } from '../../server/logger.js'
import { bannerJson, bannerText, slowReplyLine, type BannerFacts } from '../banner.js'
import { DEV_TOKEN_FILE, devTokenFor, type DevToken } from '../dev-token.js'
import { loadCommandEnv, withEnvFileOptions, type LoadedEnv } from '../env-file.js'
import { handlerExportNames, inspectHandlerExports, knownConfig, type HandlerExportReport } from '../handler-exports.js'
import { loadHandlers, type HandlerModule } from '../load-handlers.js'

export { SHORT_TOKEN_LENGTH } from '../banner.js'

/** Flags of the serve command. */
export interface ServeFlags {
  port?: string
  host?: string
  path?: string
  env?: string
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
  /** The banner: `text` (a terminal) or one JSON line (a service's log). Default `text`. */
  banner?: 'text' | 'json'
}

/** A running bot. */
export interface RunningBot {
  app: FastifyInstance
  url: string
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>
}

/** The callbacks a `config` export holds. */
function pickCallbacks(config: Partial<CreateServerOptions>): HandlerModule {
  const callbacks: Record<string, unknown> = {}
  for (const name of handlerExportNames) if (config[name] !== undefined) callbacks[name] = config[name]
  return callbacks as HandlerModule
}

/** Where a secret's value came from, as the banner says it (never the value, nor its length). */
function sourceOf(variable: string, loaded: LoadedEnv): string {
  return loaded.path !== undefined && loaded.names.has(variable) ? basename(loaded.path) : 'the environment'
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
 * Starts the bot in `file`: loads `.env` (or `--env`), the handlers and their `config`, and
 * listens; prints the banner (text in a terminal, one JSON line otherwise).
 *
 * @throws {WxMpError} `INVALID_CONFIG` for configuration errors (the CLI prints them and exits 1).
 */
export async function serve(file: string, flags: ServeFlags, io: ServeIo): Promise<RunningBot> {
  const { env, stdout } = io
  const fromEnvFile = loadCommandEnv(flags, io)
  const listenPort = port(flags.port, env)
  const host = flags.host ?? env['HOST'] ?? '127.0.0.1'
  const drainTimeoutMs = drainTimeout(flags.drainTimeout)

  let report: HandlerExportReport | undefined
  const exported = await loadHandlers(file, io.cwd, (mod) => {
    report = inspectHandlerExports(mod, file)
  })
  const fileConfig = knownConfig(report?.config)
  for (const name of handlerExportNames) {
    if (exported[name] !== undefined && fileConfig[name] !== undefined) {
      throw new WxMpError('INVALID_CONFIG', `${file}: ${name} is exported and also set in config: keep one of them.`)
    }
  }
  const handlers = tracePushes({ ...pickCallbacks(fileConfig), ...exported })
  // --slow-reply goes through the settings table like WX_MP_SLOW_REPLY (a wrong value is named
  // there) and wins over the file's config.
  const baseEnv = fileConfig.env ?? env
  const optionsEnv = flags.slowReply === undefined ? baseEnv : { ...baseEnv, WX_MP_SLOW_REPLY: flags.slowReply }
  if (flags.slowReply !== undefined) delete fileConfig.slowReply
  const explicitToken = fileConfig.token ?? optionsEnv['WX_MP_TOKEN']
  let devToken: DevToken | undefined
  if ((explicitToken ?? '').trim() === '' && optionsEnv['NODE_ENV'] !== 'production') {
    devToken = devTokenFor(resolve(io.cwd, file))
  }
  const options: CreateServerOptions = {
    ...fileConfig,
    ...handlers,
    token: fileConfig.token ?? devToken?.token,
    path: flags.path ?? fileConfig.path,
    drainTimeoutMs: drainTimeoutMs ?? fileConfig.drainTimeoutMs,
    env: optionsEnv,
    logger: fileConfig.logger ?? createLogger({ level: optionsEnv['LOG_LEVEL'] }),
  }
  const config = resolveConfig(options, optionsEnv)
  const app = await createServer(options)
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

  const warnings = [...(report?.warnings ?? [])]
  for (const { variable, suggestion } of unknownVariables(optionsEnv)) {
    warnings.push(`${variable} is not a setting of wx-mp-svr${suggestion ? ` (did you mean ${suggestion}?)` : ''}; it is ignored.`)
  }
  const chosen = options.slowReply !== undefined || optionsEnv['WX_MP_SLOW_REPLY'] !== undefined
  const canSendKefu = options.api !== undefined || (config.appId !== undefined && config.appSecret !== undefined)
  const facts: BannerFacts = {
    file,
    url,
    host,
    port: actualPort,
    path: config.path,
    safe: config.aesKey !== undefined,
    appId: config.appId,
    token: devToken
      ? { kind: 'dev', token: devToken.token, file: relative(io.cwd, devToken.path) || DEV_TOKEN_FILE, kept: devToken.source !== 'unsaved' }
      : { kind: 'set', from: fileConfig.token !== undefined ? `config in ${file}` : sourceOf('WX_MP_TOKEN', fromEnvFile), length: config.token.length },
    aesKeyFrom: fileConfig.aesKey !== undefined ? `config in ${file}` : sourceOf('WX_MP_AES_KEY', fromEnvFile),
    loaded: new Set(handlerExportNames.filter((name) => handlers[name] !== undefined)),
    slowReply: slowReplyLine(config.slowReply, chosen, handlers.lateReply !== undefined, canSendKefu),
    warnings,
  }
  stdout.write(io.banner === 'json' ? bannerJson(facts) : bannerText(facts))

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

/** Adds the default command: `wx-mp-svr <handler-file> [--port] [--host] [--path] [--env] [--drain-timeout]`. */
export function registerServeCommand(program: Command): void {
  const command = program
    .command('serve <handler-file>', { isDefault: true })
    .description('run a bot: the file exports onMessage / onSubscribe (optionally onEvent, onError, lateReply, and config: any createServer option)')
    .option('-p, --port <port>', 'port to listen on (default: PORT or 5001)')
    .option('--host <host>', 'interface to listen on (default: HOST or 127.0.0.1)')
    .option('--path <path>', 'callback path (default: WX_MP_PATH or /wx)')
    .option('--slow-reply <strategy>', 'how slow answers reach the user: auto, retry-window, next-message, customer-service or success (default: config.slowReply, WX_MP_SLOW_REPLY or auto)')
    .option('--drain-timeout <ms>', 'on shutdown, wait at most this long for pushes in flight (default: WX_MP_DRAIN_TIMEOUT_MS or 60000)')
  withEnvFileOptions(command).action(async (file: string, flags: ServeFlags) => {
    await serve(file, flags, { env: process.env, stdout: process.stdout, cwd: process.cwd(), banner: process.stdout.isTTY ? 'text' : 'json' })
  })
}
