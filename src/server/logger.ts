/**
 * The server's logger: pino, pretty in a terminal (pino-pretty), JSON lines otherwise, level from
 * `LOG_LEVEL`. Secrets are redacted by path, so an options object or a request logged by mistake
 * does not leak them.
 *
 * @module
 */
import { pino, type Logger, type LoggerOptions } from 'pino'
import pinoPretty from 'pino-pretty'

/** Paths whose values pino replaces with `[redacted]`. */
export const redactPaths = [
  'token',
  'aesKey',
  'appSecret',
  'secret',
  'access_token',
  '*.token',
  '*.aesKey',
  '*.appSecret',
  '*.secret',
  '*.access_token',
  'req.headers.authorization',
  'req.headers.cookie',
]

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
  const config: LoggerOptions = {
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    redact: { paths: redactPaths, censor: '[redacted]' },
  }
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true)
  if (pretty) {
    return pino(config, pinoPretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }))
  }
  return pino(config, (options.destination ?? pino.destination({ fd: 1, sync: false })) as pino.DestinationStream)
}
