/**
 * Loading a bot's handler file (callbacks, and optionally `lateReply`): `.ts`, `.mts`, `.cts`, `.js`, `.mjs`, `.cjs`, in ESM and CommonJS
 * projects, with named exports (`export const onMessage = …`) or a default export object holding
 * the callbacks. The file runs in the CLI's own process, with no loader thread; errors it throws
 * point at its own lines (`bot.ts:12:5`), and ES-module syntax in a file that runs as CommonJS gets
 * a hint to rename it or set `"type": "module"`.
 *
 * @module
 */
import { existsSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { WxMpError } from '../core/errors.js'
import type { Handlers, LateReplyHandler } from '../server/handlers.js'
import { importHandlerModule } from './import-handler.js'

/** What a handler file may export: the callbacks, and optionally a `lateReply` delivery. */
export type HandlerModule = Handlers & { lateReply?: LateReplyHandler }

const handlerNames = ['onMessage', 'onSubscribe', 'onEvent', 'onError', 'lateReply'] as const
const extensions = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'])

function pickHandlers(source: unknown): HandlerModule | undefined {
  if (source === null || (typeof source !== 'object' && typeof source !== 'function')) return undefined
  const found: Record<string, unknown> = {}
  for (const name of handlerNames) {
    const value = (source as Record<string, unknown>)[name]
    if (value !== undefined) found[name] = value
  }
  return Object.keys(found).length > 0 ? (found as HandlerModule) : undefined
}

/**
 * Imports a handler file and returns its callbacks.
 *
 * @throws {WxMpError} `INVALID_CONFIG` when the file is missing, has an unsupported extension,
 * does not compile, throws while it loads, exports no callback, or exports a callback that is not
 * a function.
 */
export async function loadHandlers(
  file: string,
  cwd: string = process.cwd(),
  /** Sees the module as imported, before its callbacks are picked (the CLI checks names and `config`); may throw. */
  inspect?: (exports: Record<string, unknown>) => void,
): Promise<HandlerModule> {
  const path = resolve(cwd, file)
  const ext = extname(path)
  if (!existsSync(path)) {
    throw new WxMpError('INVALID_CONFIG', `Handler file not found: ${path}. Pass the file that exports onMessage/onSubscribe, e.g. \`npx wx-mp-svr bot.ts\`.`)
  }
  if (!extensions.has(ext)) {
    throw new WxMpError('INVALID_CONFIG', `Unsupported handler file extension "${ext}": use .ts, .mts, .cts, .js, .mjs or .cjs.`)
  }
  const mod = await importHandlerModule(path, file, cwd)
  inspect?.(mod)
  // Named exports first; then a default export object (or a CommonJS module.exports seen as default,
  // possibly itself wrapping an ES module's default).
  const defaultExport = mod['default'] as Record<string, unknown> | undefined
  const handlers =
    pickHandlers(mod) ?? pickHandlers(defaultExport) ?? pickHandlers(defaultExport?.['default'])
  if (!handlers) {
    throw new WxMpError(
      'INVALID_CONFIG',
      `${file} exports no handler: export onMessage and/or onSubscribe (optionally onEvent, onError), ` +
        'as named exports (`export function onMessage(msg) { … }`) or as a default export object.',
    )
  }
  for (const [name, value] of Object.entries(handlers)) {
    if (typeof value !== 'function') {
      throw new WxMpError('INVALID_CONFIG', `${file}: ${name} must be a function, got ${typeof value}.`)
    }
  }
  return handlers
}
