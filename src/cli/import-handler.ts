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
import { compileHandler } from './compile-handler.js'
import { esmSyntaxHint, moduleSystemOf } from './module-system.js'

const typescript = new Set(['.ts', '.mts', '.cts'])

/** Whether this Node runs `.ts` files by itself (22.18+, 23.6+, unless started with type stripping off). */
export function nodeStripsTypes(): boolean {
  const features = process.features as { typescript?: unknown }
  return features.typescript === 'strip' || features.typescript === 'transform'
}

/**
 * Whether `err` is Node refusing `import`/`export` in the handler file itself because it runs as
 * CommonJS (a `.js` file in a `"type": "commonjs"` project, or a `.cjs` file).
 */
function usesEsmSyntaxInCommonJs(err: unknown, path: string): boolean {
  if (!(err instanceof SyntaxError) || moduleSystemOf(path) !== 'commonjs') return false
  const where = (err.stack ?? '').split('\n', 1)[0] ?? ''
  const inHandler = where.startsWith(`${path}:`) || where.startsWith(`${pathToFileURL(path).href}:`)
  return inHandler && /Unexpected token 'export'|Cannot use import statement outside a module/.test(err.message)
}

/** Imports (and so runs) a module; what it throws becomes a load error with its stack and a hint. */
async function run(url: string, path: string, file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (cause) {
    const detail = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)
    const hint = usesEsmSyntaxInCommonJs(cause, path) ? `\n${esmSyntaxHint(file, 'import/export')}` : ''
    throw new WxMpError('INVALID_CONFIG', `Could not load the handler file ${file}:\n${detail}${hint}`, { cause })
  }
}

/**
 * Imports the handler file at `path` (absolute; `file` is the name the user gave, relative to `cwd`)
 * and returns its module namespace.
 *
 * @throws {WxMpError} `INVALID_CONFIG` when the file does not compile, cannot be run on this
 * machine, or throws while it loads (the message holds its stack, at the file's own positions).
 */
export async function importHandlerModule(path: string, file: string, cwd: string): Promise<Record<string, unknown>> {
  const ext = path.slice(path.lastIndexOf('.'))
  if (!typescript.has(ext)) return run(pathToFileURL(path).href, path, file)
  const system = moduleSystemOf(path)
  const compiled = await compileHandler(path, file, system, cwd)
  if (compiled.url !== undefined) {
    try {
      return await run(compiled.url, path, file)
    } finally {
      compiled.remove()
    }
  }
  if (system === 'module' && nodeStripsTypes()) return run(pathToFileURL(path).href, path, file)
  throw new WxMpError(
    'INVALID_CONFIG',
    `Cannot run the TypeScript file ${file}: the esbuild compiler does not run here (${compiled.compilerMissing.message.split('\n', 1)[0]}). ` +
      'Reinstall without leaving out optional dependencies (`npm ci`, not `--omit=optional`), compile the handler to .js/.mjs, ' +
      'or on Node 22.18 or newer make it an ES module (.mts, or "type": "module" in package.json), which Node runs itself.',
    { cause: compiled.compilerMissing },
  )
}
