/**
 * `wx-mp-svr play <handler-file>`: a local WeChat in the browser. One process runs the bot (loaded
 * by the same loader and served by the same `createServer` as `wx-mp-svr <handler-file>`), the
 * mock WeChat API, the emulator playing WeChat against the bot, and a page on 127.0.0.1 showing
 * the conversation as the phone would, with the inspector and the timeline beside it.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { relative, resolve, sep } from 'node:path'
import type { Command } from 'commander'
import type { FastifyInstance } from 'fastify'
import { WxMpError } from '../../core/errors.js'
import { emulatorModes, type EmulatorMode } from '../../emulator/envelope.js'
import { describePreset, mockApiPresets, type MockApiPreset } from '../../emulator/mock-api-account.js'
import { createLogger } from '../../server/logger.js'
import { createPageServer, createPageToken } from '../../playground/page-server.js'
import { startPlayground, type Playground } from '../../playground/session.js'
import { loadEnvFile } from '../env-file.js'
import { loadHandlers } from '../load-handlers.js'

/** Flags of `play`. */
export interface PlayFlags {
  port?: string
  mode?: string
  account?: string
  open?: boolean
}

/** Where `play` reads and writes; injectable for tests. */
export interface PlayIo {
  env: Record<string, string | undefined>
  stdout: NodeJS.WritableStream
  cwd: string
  /** Install SIGINT/SIGTERM (close) and unhandled-rejection (log, keep going) handlers. Default true. */
  handleSignals?: boolean
  /** Opens the page for `--open`; default: the system's browser opener. */
  openUrl?: (url: string) => void
}

/** A running playground. */
export interface RunningPlay {
  /** The page's URL, with its token. */
  url: string
  token: string
  playground: Playground
  page: FastifyInstance
  close(): Promise<void>
}

/** The page's default port: after the bot's 5001 and the mock API's 5002. */
export const DEFAULT_PLAY_PORT = 5003

function config(message: string): WxMpError {
  return new WxMpError('INVALID_CONFIG', message)
}

function choice<T extends string>(values: readonly T[], value: string | undefined, flag: string, fallback: T): T {
  if (value === undefined) return fallback
  if (!(values as readonly string[]).includes(value)) throw config(`${flag} must be ${values.join(', ')} (got ${JSON.stringify(value)}).`)
  return value as T
}

function portOf(flag: string | undefined): number {
  const text = flag ?? String(DEFAULT_PLAY_PORT)
  const value = Number(text)
  if (!/^\d+$/.test(text) || value > 65535) throw config(`--port must be a port number (0–65535), got "${text}".`)
  return value
}

/** Opens `url` in the system's browser; a failure only prints the URL again. */
function openInBrowser(url: string, stdout: NodeJS.WritableStream): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]] : ['xdg-open', [url]]
  try {
    const child = spawn(command as string, args as string[], { stdio: 'ignore', detached: true })
    child.on('error', () => stdout.write(`  Could not start a browser (${String(command)}): open the URL above yourself.\n`))
    child.unref()
  } catch {
    stdout.write('  Could not start a browser: open the URL above yourself.\n')
  }
}

/**
 * Starts the playground for `file`.
 *
 * @throws {WxMpError} `INVALID_CONFIG` for a bad flag, a handler file that does not load, or a
 * port in use (the CLI prints the message and exits 1).
 */
export async function play(file: string, flags: PlayFlags, io: PlayIo): Promise<RunningPlay> {
  const port = portOf(flags.port)
  const mode = choice<EmulatorMode>(emulatorModes, flags.mode, '--mode', 'safe')
  const account = choice<MockApiPreset>(mockApiPresets, flags.account, '--account', 'test')
  // The bot's own variables (an LLM key…) come from .env as with `wx-mp-svr <handler-file>`; the
  // kit's WX_MP_* settings are the playground's own, so that it never reaches a real account.
  const envPath = resolve(io.cwd, '.env')
  if (existsSync(envPath)) loadEnvFile(envPath, io.env)
  const botEnv = Object.fromEntries(Object.entries(io.env).filter(([name]) => !name.startsWith('WX_MP_')))
  const handlers = await loadHandlers(file, io.cwd)
  const handlerFile = relative(io.cwd, resolve(io.cwd, file)).split(sep).join('/')
  const playground = await startPlayground({
    handlerFile,
    handlers,
    settings: { mode, account, strategy: 'auto' },
    env: botEnv,
    logger: createLogger({ level: io.env['LOG_LEVEL'] ?? 'warn' }),
  })
  const token = createPageToken()
  const { secrets } = playground
  const page = await createPageServer({
    playground,
    token,
    exportContext: { handlerFile, ...secrets },
  })
  try {
    await page.listen({ port, host: '127.0.0.1' })
  } catch (cause) {
    await page.close()
    await playground.close()
    if ((cause as { code?: string }).code === 'EADDRINUSE') {
      throw new WxMpError('INVALID_CONFIG', `Port ${port} is already in use: stop the other process, or choose another with --port (0 picks a free one).`, { cause })
    }
    throw cause
  }
  const address = page.server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  const url = `http://127.0.0.1:${actualPort}/?token=${token}`
  io.stdout.write(
    [
      '',
      `wx-mp-svr play  ${handlerFile}: a local WeChat in the browser`,
      '',
      `  Open  ${url}`,
      '',
      `  ${mode} mode · ${describePreset(account)} · slow replies: auto (change them on the page)`,
      '  The URL carries a random token: only this machine (127.0.0.1) and whoever has the URL can use the page.',
      '  Ctrl-C stops the bot, the mock WeChat API and the page.',
      '',
    ].join('\n') + '\n',
  )
  if (flags.open) (io.openUrl ?? ((target: string) => openInBrowser(target, io.stdout)))(url)

  const cleanups: Array<() => void> = []
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await page.close()
      await playground.close()
      for (const cleanup of cleanups) cleanup()
    })())
  if (io.handleSignals !== false) {
    const onSignal = (): void => {
      if (closing) process.exit(1)
      io.stdout.write('Closing (Ctrl-C again to exit at once)…\n')
      close().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    }
    const onRejection = (reason: unknown): void => {
      io.stdout.write(`Unhandled rejection in the bot's code (a promise nobody awaited or caught); the playground keeps running: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    process.on('unhandledRejection', onRejection)
    cleanups.push(() => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      process.off('unhandledRejection', onRejection)
    })
  }
  return { url, token, playground, page, close }
}

/** Adds `play <handler-file> [--port N] [--mode plain|compat|safe] [--account test|personal|verified] [--open]`. */
export function registerPlayCommand(program: Command): void {
  program
    .command('play <handler-file>')
    .description('a local WeChat in the browser: chat with your bot, see every request, reply and retry (no account needed)')
    .option('-p, --port <port>', `port of the page on 127.0.0.1 (default ${DEFAULT_PLAY_PORT}; 0 picks a free one)`)
    .option('--mode <mode>', 'encryption mode: plain, compat or safe (default safe)')
    .option('--account <kind>', 'account the mock WeChat API plays: test (测试号), personal (个人订阅号) or verified (认证服务号) (default test)')
    .option('--open', 'open the page in the browser')
    .action(async (file: string, flags: PlayFlags) => {
      await play(file, flags, { env: process.env, stdout: process.stdout, cwd: process.cwd() })
    })
}
