/**
 * Running a TypeScript handler file without a resident loader: esbuild compiles it once, together
 * with the local files it imports (packages stay imports, resolved by Node as usual), into a
 * temporary file next to it with an inline source map, to be imported and deleted. Stack
 * traces then point at `bot.ts:LINE:COL`, never at a `data:` URL, and no loader thread or compiler
 * process stays behind.
 *
 * esbuild's reference: https://esbuild.github.io/api/#build
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import nodeModule, { createRequire, isBuiltin } from 'node:module'
import { basename, dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Message, Plugin } from 'esbuild'
import { WxMpError } from '../core/errors.js'
import { esmSyntaxHint, type EsmOnlySyntax, type ModuleSystem } from './module-system.js'

/** The output format: ES module, or CommonJS for a file that runs as CommonJS. */
type Format = 'esm' | 'cjs'

type BuildOutcome =
  | { code: string; problems?: undefined; compilerMissing?: undefined }
  | { code?: undefined; problems: Message[]; compilerMissing?: undefined }
  | { code?: undefined; problems?: undefined; compilerMissing: Error }

/** The compiled handler file to import (then remove), or why esbuild cannot run on this machine. */
export type CompiledHandler =
  | { url: string; remove: () => void; compilerMissing?: undefined }
  | { url?: undefined; remove?: undefined; compilerMissing: Error }

/**
 * Bare imports stay imports when Node itself resolves them, even where a tsconfig `paths` entry maps
 * the same name to a local file: the handler then shares its packages (`wx-mp-svr` above all) with
 * the CLI instead of carrying a second copy. Names Node cannot resolve are left to esbuild (tsconfig
 * `paths` aliases get bundled; anything else stays an import through `packages: 'external'`).
 */
const packagesStayImports: Plugin = {
  name: 'wx-mp-svr:packages-stay-imports',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, ({ path, importer, kind }) => {
      if (kind === 'entry-point' || importer === '') return undefined
      if (isBuiltin(path)) return { path, external: true }
      try {
        createRequire(importer).resolve(path)
        return { path, external: true }
      } catch (err) {
        // The package is there but exports nothing to require(): an ES-module-only package.
        if ((err as { code?: string }).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') return { path, external: true }
        return undefined
      }
    })
  },
}

/** Compiles in progress in this process: they share esbuild's one child process. */
let building = 0

async function build(path: string, format: Format, cwd: string): Promise<BuildOutcome> {
  let esbuild: typeof import('esbuild')
  try {
    esbuild = await import('esbuild')
  } catch (cause) {
    return { compilerMissing: cause as Error }
  }
  building += 1
  try {
    const result = await esbuild.build({
      entryPoints: [path],
      absWorkingDir: resolve(cwd),
      bundle: true,
      packages: 'external',
      plugins: [packagesStayImports],
      platform: 'node',
      target: `node${process.versions.node}`,
      format,
      outfile: join(dirname(path), `${basename(path)}.${format === 'esm' ? 'mjs' : 'cjs'}`),
      sourcemap: 'inline',
      sourcesContent: false,
      write: false,
      logLevel: 'silent',
    })
    // In CommonJS output esbuild replaces import.meta with an empty object and only warns: Node
    // would refuse the file, so this is a failure too.
    const importMeta = result.warnings.filter((w) => w.text.includes('"import.meta" is not available'))
    if (importMeta.length > 0) return { problems: importMeta }
    return { code: result.outputFiles[0]!.text }
  } catch (err) {
    const errors = (err as { errors?: Message[] }).errors
    if (Array.isArray(errors) && errors.length > 0) return { problems: errors }
    // Not a problem in the file: esbuild itself cannot start (its platform package is missing).
    return { compilerMissing: err as Error }
  } finally {
    // The compiler runs as a child process between build() and stop(): none stays behind once the
    // last compile in progress is done.
    if (--building === 0) await esbuild.stop()
  }
}

/**
 * Turns on Node's source-map support for modules loaded from now on, where Node allows it for the
 * user's files only (22.14+): installed packages keep their own positions (and save the memory).
 */
function enableSourceMaps(): void {
  const { setSourceMapsSupport } = nodeModule as { setSourceMapsSupport?: (enabled: boolean, options: { nodeModules: boolean }) => void }
  if (setSourceMapsSupport) setSourceMapsSupport(true, { nodeModules: false })
  else process.setSourceMapsEnabled(true)
}

function esmOnlySyntax(problems: Message[]): EsmOnlySyntax | undefined {
  if (problems.some((p) => p.text.startsWith('Top-level await'))) return 'top-level await'
  if (problems.some((p) => p.text.includes('"import.meta"'))) return 'import.meta'
  return undefined
}

function describe(problems: Message[]): string {
  return problems
    .map((p) => (p.location ? `${p.location.file}:${p.location.line}:${p.location.column + 1}: ${p.text}` : p.text))
    .join('\n')
}

/**
 * Compiles the TypeScript handler at `path` (absolute) as Node would run it under `system`: an ES
 * module; CommonJS (where top-level await and `import.meta` are refused with a hint to use `.mts`
 * or `"type": "module"`); or, for `'detect'`, CommonJS unless the file needs ES-module syntax.
 * Writes the result next to the source and turns on Node's source-map support, so that errors the
 * handler throws carry its own positions. `file` is the name the user gave, for messages; `cwd` is
 * what it is relative to.
 *
 * @returns the URL to import and a function that deletes the file (call it once imported), or
 * `compilerMissing` when esbuild cannot run on this machine.
 * @throws {WxMpError} `INVALID_CONFIG` when the file does not compile, or the compiled file cannot be
 * written next to it.
 */
export async function compileHandler(path: string, file: string, system: ModuleSystem, cwd: string): Promise<CompiledHandler> {
  let format: Format = system === 'module' ? 'esm' : 'cjs'
  let outcome = await build(path, format, cwd)
  const esmOnly = outcome.problems && esmOnlySyntax(outcome.problems)
  if (esmOnly && system === 'detect') {
    format = 'esm'
    outcome = await build(path, format, cwd)
  }
  if (outcome.compilerMissing) return { compilerMissing: outcome.compilerMissing }
  if (outcome.problems) {
    const hint = esmOnly && system === 'commonjs' ? `\n${esmSyntaxHint(file, esmOnly)}` : ''
    throw new WxMpError('INVALID_CONFIG', `Could not compile the handler file ${file}:\n${describe(outcome.problems)}${hint}`)
  }
  const compiled = join(dirname(path), `.${basename(path)}.wx-mp-svr-${process.pid}-${randomBytes(4).toString('hex')}.${format === 'esm' ? 'mjs' : 'cjs'}`)
  try {
    writeFileSync(compiled, outcome.code, { flag: 'wx' })
  } catch (cause) {
    throw new WxMpError(
      'INVALID_CONFIG',
      `Could not write the compiled handler next to ${file} (${(cause as Error).message}): run the bot as a user who may write to ${dirname(path)}, ` +
        'or compile the handler to .js/.mjs yourself.',
      { cause },
    )
  }
  enableSourceMaps()
  return { url: pathToFileURL(compiled).href, remove: () => rmSync(compiled, { force: true }) }
}
