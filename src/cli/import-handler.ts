/**
 * Importing a handler file in the running process, with no loader thread and no helper process
 * left behind: `.js`/`.mjs`/`.cjs` by Node itself; TypeScript by a one-shot compile with esbuild
 * (see `compile-handler.ts`).
 *
 * Node's own type stripping (22.18+, 23.6+) is the fallback, not the default: measured on Node 22
 * and 24 it leaves the process 3–14 MB larger than the compile (its compiler stays loaded) at no
 * gain in start-up time, and it cannot run enums, namespaces, parameter properties, `./x.js`
 * imports meaning `./x.ts`, or TypeScript in a CommonJS project. It is used when esbuild cannot
 * run on the machine (its platform package left out of the install) and the file is an ES module.
 *
 * Node's reference: https://nodejs.org/api/typescript.html#type-stripping
 *
 * @module
 */
import { pathToFileURL } from 'node:url'
import { WxMpError } from '../core/errors.js'
import { importCompiledHandler } from './compile-handler.js'
import { moduleSystemOf } from './module-system.js'

const typescript = new Set(['.ts', '.mts', '.cts'])

/** Whether this Node runs `.ts` files by itself (22.18+, 23.6+, unless started with type stripping off). */
export function nodeStripsTypes(): boolean {
  const features = process.features as { typescript?: unknown }
  return features.typescript === 'strip' || features.typescript === 'transform'
}

/**
 * Imports the handler file at `path` (absolute; `file` is the name the user gave, relative to `cwd`)
 * and returns its module namespace. Errors thrown while the module runs are passed through.
 *
 * @throws {WxMpError} `INVALID_CONFIG` when a TypeScript file does not compile, or cannot be run
 * on this machine.
 */
export async function importHandlerModule(path: string, file: string, cwd: string): Promise<Record<string, unknown>> {
  const ext = path.slice(path.lastIndexOf('.'))
  if (!typescript.has(ext)) return (await import(pathToFileURL(path).href)) as Record<string, unknown>
  const system = moduleSystemOf(path)
  const compiled = await importCompiledHandler(path, file, system, cwd)
  if (compiled.module) return compiled.module
  if (system === 'module' && nodeStripsTypes()) return (await import(pathToFileURL(path).href)) as Record<string, unknown>
  throw new WxMpError(
    'INVALID_CONFIG',
    `Cannot run the TypeScript file ${file}: the esbuild compiler does not run here (${compiled.compilerMissing.message.split('\n', 1)[0]}). ` +
      'Reinstall without leaving out optional dependencies (`npm ci`, not `--omit=optional`), or compile the handler to .js/.mjs.',
    { cause: compiled.compilerMissing },
  )
}
