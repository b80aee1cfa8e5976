/**
 * The server's logger: pino, pretty in a terminal (pino-pretty), JSON lines otherwise, level from
 * `LOG_LEVEL`. Secrets are redacted by path, so an options object or a request logged by mistake
 * does not leak them.
 *
 * @module
 */
import { createRequire } from 'node:module'
import { pino, type Logger, type LoggerOptions } from 'pino'
import { WxMpError } from '../core/errors.js'

/** pino-pretty is loaded only when a terminal wants it: servers writing JSON never pay for it. */
const require = createRequire(import.meta.url)

/**
 * Paths whose values pino replaces with `[redacted]`: the secrets' own names at the top level and
 * one level down (`{ config }`, `{ options }`, …). The kit never logs a secret itself; this guards
 * what handlers log through `ctx.log`. Explicit paths rather than `*.token` wildcards: a wildcard
 * makes every log call walk every key of the object.
 */
export const redactPaths = ['token', 'aesKey', 'appSecret', 'secret', 'access_token'].flatMap((name) => [
  name,
  `config.${name}`,
  `options.${name}`,
  `account.${name}`,
])
  .concat(['req.headers.authorization', 'req.headers.cookie'])

/** The levels LOG_LEVEL may name. */
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Log level; default `LOG_LEVEL` or `info`. */
  level?: string
  /** Human-readable output; default: when stdout is a terminal. */
  pretty?: boolean
  /** Where JSON lines go; default stdout. */
  destination?: NodeJS.WritableStream
}

/**
 * Creates the logger `createServer` and the CLI use.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const level = options.level ?? process.env['LOG_LEVEL'] ?? 'info'
  if (!logLevels.includes(level)) {
    throw new WxMpError('INVALID_CONFIG', `LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${level}". Fix it or unset it for info.`)
  }
  const config: LoggerOptions = {
    level,
    redact: { paths: redactPaths, censor: '[redacted]' },
  }
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true)
  if (pretty) {
    const pinoPretty = require('pino-pretty') as (options: Record<string, unknown>) => pino.DestinationStream
    return pino(config, pinoPretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }))
  }
  // Synchronous writes: an asynchronous destination hands every batch to libuv's thread pool,
  // which cost the benchmark about 25 µs per push (a fifth of its CPU); a write to stdout is a
  // few µs, and no line is lost if the process dies.
  return pino(config, (options.destination ?? pino.destination({ fd: 1, sync: true })) as pino.DestinationStream)
}
