/**
 * `wx-mp-svr <handler-file>`: runs a bot from one file of callbacks.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import { WxMpError } from '../../core/errors.js'
import { resolveConfig } from '../../server/config.js'
import { createServer } from '../../server/create-server.js'
import { createLogger } from '../../server/logger.js'
import { loadEnvFile } from '../env-file.js'
import { loadHandlers } from '../load-handlers.js'

/** Flags of the serve command. */
export interface ServeFlags {
  port?: string
  host?: string
  path?: string
  envFile?: string
}

/** Where the command reads and writes; injectable for tests. */
export interface ServeIo {
  env: Record<string, string | undefined>
  stdout: NodeJS.WritableStream
  cwd: string
  /** Install SIGINT/SIGTERM handlers (off in tests). Default true. */
  handleSignals?: boolean
}

/** A running bot. */
export interface RunningBot {
  app: FastifyInstance
  url: string
  /** Stops accepting, lets in-flight requests finish, then resolves. */
  close(): Promise<void>
}

function mask(secret: string): string {
  return secret.length <= 6 ? '***' : `${secret.slice(0, 2)}…${secret.slice(-2)} (${secret.length} chars)`
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
  if (existsSync(envPath)) loadEnvFile(envPath, env)
  else if (flags.envFile !== undefined) {
    throw new WxMpError('INVALID_CONFIG', `--env-file ${flags.envFile}: no such file (${envPath}).`)
  }

  const listenPort = port(flags.port, env)
  const host = flags.host ?? env['HOST'] ?? '127.0.0.1'
  let devToken: string | undefined
  if ((env['WX_MP_TOKEN'] ?? '').trim() === '' && env['NODE_ENV'] !== 'production') {
    devToken = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')
  }
  const config = resolveConfig({ token: devToken, path: flags.path }, env)
  const handlers = await loadHandlers(file, io.cwd)
  const app = await createServer({ ...handlers, token: config.token, path: config.path, env, logger: createLogger({ level: env['LOG_LEVEL'] }) })
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
      : `    令牌(Token)            the value of WX_MP_TOKEN: ${mask(config.token)}`,
    safe
      ? `    消息加解密密钥          the value of WX_MP_AES_KEY: ${mask(config.aesKey!)}   AppID ${config.appId}`
      : '    消息加解密密钥          (随机生成, then set WX_MP_AES_KEY and WX_MP_APPID to use safe mode)',
    `    消息加解密方式          ${safe ? '安全模式 (recommended) or 兼容模式' : '明文模式'}`,
    '',
    `  Try it without WeChat:  npx wx-mp-svr chat ${url}${devToken ? ` --token ${devToken}` : ''}`,
    '',
  ]
  if (devToken) {
    lines.push('  Set WX_MP_TOKEN (in the environment or .env) before connecting WeChat; with NODE_ENV=production a missing token is an error.', '')
  }
  stdout.write(lines.join('\n') + '\n')

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => (closing ??= app.close().then(() => undefined))
  if (io.handleSignals !== false) {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (closing) {
        app.log.warn(`${signal} again: exiting without waiting`)
        process.exit(1)
      }
      app.log.info(`${signal}: closing (in-flight pushes finish first)`)
      close().then(
        () => process.exit(0),
        (err: unknown) => {
          app.log.error({ err }, 'error while closing')
          process.exit(1)
        },
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
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
    .action(async (file: string, flags: ServeFlags) => {
      await serve(file, flags, { env: process.env, stdout: process.stdout, cwd: process.cwd() })
    })
}
