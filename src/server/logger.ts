/**
 * The server's logger: pino, pretty in a terminal (pino-pretty, one line per push), JSON lines
 * otherwise, level from `LOG_LEVEL`. Secrets are redacted by key name at any depth, so an options
 * object, an environment or a request logged by mistake does not leak them.
 *
 * @module
 */
import { createRequire } from 'node:module'
import { pino, type Logger, type LoggerOptions } from 'pino'
import { WxMpError } from '../core/errors.js'

/** pino-pretty is loaded only when a terminal wants it: servers writing JSON never pay for it. */
const require = createRequire(import.meta.url)

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]'

/**
 * Key names whose values are never written, at any depth: every name containing `token`,
 * `secret`, `key`, `password`, `authorization` or `cookie` (any case: `apiKey`, `aesKey`,
 * `access_token`, `X-Api-Key`, `Set-Cookie`, …), and `env` (a whole environment).
 */
const secretKeyPattern = /token|secret|key|passw|authorization|cookie|^env$/i

/** Names the pattern matches that are WeChat's own, public fields (a menu button's key). */
const publicKeys = new Set(['eventKey', 'EventKey'])

/** Whether values under `name` are redacted in logs. */
export function isSecretKey(name: string): boolean {
  return secretKeyPattern.test(name) && !publicKeys.has(name)
}

/**
 * The key names the logger redacts, as patterns (documentation; {@link isSecretKey} decides).
 * Kept for the earlier exact-path list's users.
 */
export const redactPaths: readonly string[] = Object.freeze(['*token*', '*secret*', '*key*', '*passw*', 'authorization', 'cookie', 'env'])

/** How deep a logged object is searched for secrets; deeper values are replaced whole. */
const MAX_DEPTH = 8

/**
 * Plain objects, arrays and errors are searched; instances of other classes (a raw request, a
 * socket, a Map) are left to pino's serializers, so a stray object never costs a walk of its graph.
 */
function isPlainish(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null || Array.isArray(value) || value instanceof Error
}

/**
 * `value` with every secret key's value replaced by {@link REDACTED}, at any depth. Returns the
 * same object when nothing needs hiding (the usual case: a push line is eight flat fields), so
 * the hot path allocates nothing; a copy otherwise, never touching the caller's object.
 */
export function redactSecrets<T>(value: T, depth = 0, seen: WeakSet<object> = new WeakSet()): T {
  if (!isPlainish(value)) return value
  if (seen.has(value)) return value
  if (depth >= MAX_DEPTH) return REDACTED as T
  seen.add(value)
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      const hidden = redactSecrets(item, depth + 1, seen)
      if (hidden !== item) (copy ??= [...value])[i] = hidden
    }
    return (copy ?? value) as T
  }
  let copy: Record<string, unknown> | undefined
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue
    const item = value[key]
    const hidden = item !== undefined && isSecretKey(key) ? REDACTED : redactSecrets(item, depth + 1, seen)
    if (hidden !== item) (copy ??= cloneShell(value))[key] = hidden
  }
  return (copy ?? value) as T
}

/** A shallow copy that stays an Error (pino's serializer needs its message, stack and type) when it was one. */
function cloneShell(value: Record<string, unknown>): Record<string, unknown> {
  if (value instanceof Error) {
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>
    for (const name of ['name', 'message', 'stack', 'cause'] as const) {
      const own = Object.getOwnPropertyDescriptor(value, name)
      // Read through the original: on newer V8 `stack` is an accessor that only works on it.
      if (own) Object.defineProperty(copy, name, { value: value[name], writable: true, configurable: true, enumerable: own.enumerable ?? false })
    }
    return Object.assign(copy, value)
  }
  return { ...value }
}

/** The levels LOG_LEVEL may name. */
const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Log level; default `LOG_LEVEL` or `info`. At `debug`, each push's line carries the message text. */
  level?: string
  /** Human-readable output, one line per entry; default: when stdout is a terminal. */
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
    // A formatter rather than pino's `redact` paths: paths cannot say "any key containing token at
    // any depth", and wildcards make every call walk every key anyway. This walk allocates only
    // when it hides something.
    formatters: {
      log: (object) => redactSecrets(object),
      bindings: (bindings) => redactSecrets(bindings),
    },
    // A raw request logged as `{ req }` is a class instance the walk leaves alone: its credentials by path.
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: REDACTED },
  }
  return redactingChildren(build(options, config))
}

/**
 * pino serializes a child's bindings once, without the formatters: they are redacted here, for
 * children of children too.
 */
function redactingChildren(logger: Logger): Logger {
  const child = logger.child.bind(logger)
  logger.child = ((bindings: pino.Bindings, options?: pino.ChildLoggerOptions) =>
    redactingChildren(child(redactSecrets(bindings), options) as Logger)) as unknown as Logger['child']
  return logger
}

function build(options: CreateLoggerOptions, config: LoggerOptions): Logger {
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true)
  if (pretty) {
    const pinoPretty = require('pino-pretty') as (options: Record<string, unknown>) => pino.DestinationStream
    return pino(
      config,
      pinoPretty({
        destination: options.destination ?? 1,
        colorize: options.destination === undefined,
        translateTime: 'HH:MM:ss.l',
        ignore: 'pid,hostname',
        // One line per push: its fields after the message, not one per line.
        singleLine: true,
        sync: true,
      }),
    )
  }
  // Synchronous writes: an asynchronous destination hands every batch to libuv's thread pool,
  // which cost the benchmark about 25 µs per push (a fifth of its CPU); a write to stdout is a
  // few µs, and no line is lost if the process dies.
  return pino(config, (options.destination ?? pino.destination({ fd: 1, sync: true })) as pino.DestinationStream)
}
