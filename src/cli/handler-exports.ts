/**
 * What a handler file exports besides its callbacks, checked before the bot starts: near-miss
 * names (`onSubcribe`, `latereply`, `handleMessage`) that would otherwise be ignored silently, a
 * default-exported function, and `export const config = { … }` holding any `createServer` option.
 *
 * @module
 */
import { WxMpError } from '../core/errors.js'
import type { CreateServerOptions } from '../server/create-server.js'
import { closestName } from '../server/closest-name.js'

/** The exports the CLI uses. */
export const handlerExportNames = ['onMessage', 'onSubscribe', 'onEvent', 'onError', 'lateReply'] as const

/** Every option of `createServer`, the keys `export const config` may hold. */
const serverOptions = {
  token: true,
  aesKey: true,
  previousAesKeys: true,
  appId: true,
  appSecret: true,
  path: true,
  replyTimeoutMs: true,
  timestampToleranceS: true,
  allowPlainPushes: true,
  drainTimeoutMs: true,
  slowReply: true,
  slowReplyPlaceholder: true,
  apiBaseUrl: true,
  redis: true,
  redisPrefix: true,
  store: true,
  storeMaxBytes: true,
  dedupTtlMs: true,
  onDedupError: true,
  jobTimeoutMs: true,
  background: true,
  lateReply: true,
  api: true,
  clock: true,
  env: true,
  onMessage: true,
  onSubscribe: true,
  onEvent: true,
  onError: true,
  logger: true,
  httpLimits: true,
} as const satisfies Record<keyof CreateServerOptions, true>

/** The keys `export const config` may hold: every option of `createServer`. */
export const configOptionNames: readonly string[] = Object.keys(serverOptions)

/** Other spellings people use for the callbacks. */
const aliases: Record<string, (typeof handlerExportNames)[number]> = {
  handleMessage: 'onMessage',
  handler: 'onMessage',
  onText: 'onMessage',
  onMsg: 'onMessage',
  handleSubscribe: 'onSubscribe',
  onFollow: 'onSubscribe',
  handleEvent: 'onEvent',
  handleError: 'onError',
  onLateReply: 'lateReply',
  onLate: 'lateReply',
}

/** What {@link inspectHandlerExports} found. */
export interface HandlerExportReport {
  /** One line per problem that does not stop the bot (near-miss names, unknown config keys). */
  warnings: string[]
  /** The `config` export, when there is one. */
  config: Partial<CreateServerOptions> | undefined
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/** The names a module exports: its own, and those of a default export object (CommonJS's module.exports). */
function exportedNames(mod: Record<string, unknown>): Map<string, unknown> {
  const names = new Map<string, unknown>()
  const sources = [mod, mod['default'], isObject(mod['default']) ? mod['default']['default'] : undefined]
  for (const source of sources) {
    if (!isObject(source) && typeof source !== 'function') continue
    for (const name of Object.keys(source as object)) {
      if (name !== 'default' && name !== '__esModule' && !names.has(name)) names.set(name, (source as Record<string, unknown>)[name])
    }
  }
  return names
}

function defaultFunction(mod: Record<string, unknown>): boolean {
  const d = mod['default']
  return typeof d === 'function' || (isObject(d) && typeof d['default'] === 'function')
}

/**
 * Checks a handler file's exports (the module as imported) before its callbacks are picked.
 *
 * @throws {WxMpError} `INVALID_CONFIG` when the file exports no callback but a default function
 * or near-miss names (each with what to write instead), or a `config` that is not an object.
 */
export function inspectHandlerExports(mod: Record<string, unknown>, file: string): HandlerExportReport {
  const names = exportedNames(mod)
  const known = new Set<string>([...handlerExportNames, 'config'])
  const found = handlerExportNames.filter((name) => typeof names.get(name) === 'function')
  const nearMisses: string[] = []
  for (const name of names.keys()) {
    if (known.has(name)) continue
    const meant = aliases[name] ?? closestName(name, known)
    if (meant !== undefined) nearMisses.push(`${file} exports "${name}": did you mean ${meant}? It is ignored.`)
  }
  if (found.length === 0) {
    if (defaultFunction(mod)) {
      throw new WxMpError(
        'INVALID_CONFIG',
        `${file} default-exports a function: the kit cannot tell which callback it is. Name it instead: ` +
          '`export const onMessage: OnMessage = (msg) => …` (and onSubscribe, onEvent, onError as needed), ' +
          'or default-export an object: `export default { onMessage }`.',
      )
    }
    if (nearMisses.length > 0) throw new WxMpError('INVALID_CONFIG', `${file} exports no handler under its exact name:\n  ${nearMisses.join('\n  ')}`)
  }
  const warnings = [...nearMisses]
  if (found.length > 0 && defaultFunction(mod)) warnings.push(`${file} default-exports a function besides its named callbacks: it is ignored.`)
  const config = names.get('config')
  if (config !== undefined && (!isObject(config) || Array.isArray(config))) {
    throw new WxMpError('INVALID_CONFIG', `${file}: config must be an object of createServer options (e.g. export const config = { slowReply: 'next-message' }), got ${Array.isArray(config) ? 'an array' : typeof config}.`)
  }
  if (config !== undefined) {
    for (const key of Object.keys(config)) {
      if (key in serverOptions) continue
      const meant = closestName(key, configOptionNames, 3)
      warnings.push(`${file}: config.${key} is not an option of createServer${meant ? ` (did you mean ${meant}?)` : ''}; it is ignored.`)
    }
  }
  return { warnings, config: config as Partial<CreateServerOptions> | undefined }
}

/** The known keys of a `config` export (unknown ones dropped: they were warned about). */
export function knownConfig(config: Partial<CreateServerOptions> | undefined): Partial<CreateServerOptions> {
  if (config === undefined) return {}
  return Object.fromEntries(Object.entries(config).filter(([key]) => key in serverOptions)) as Partial<CreateServerOptions>
}
