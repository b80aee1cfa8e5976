/**
 * Which module system Node runs a handler file in, and what to tell a user who wrote ES-module
 * syntax in a file that runs as CommonJS. Node decides from the extension (`.mjs`/`.mts` are ES
 * modules, `.cjs`/`.cts` CommonJS) and otherwise from the `"type"` of the nearest package.json, which
 * `npm init -y` sets to `"commonjs"`.
 *
 * Node's reference: https://nodejs.org/api/packages.html#determining-module-system
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import { basename, dirname, extname, join } from 'node:path'

/**
 * How Node runs a file: `'module'` (ES module), `'commonjs'`, or `'detect'`: no package.json above
 * it sets `"type"`, so Node runs it as CommonJS unless it needs ES-module syntax.
 */
export type ModuleSystem = 'module' | 'commonjs' | 'detect'

/** What a file may use only as an ES module. */
export type EsmOnlySyntax = 'top-level await' | 'import.meta' | 'import/export'

/**
 * The `"type"` field that governs `file`: `'module'`, `'commonjs'`, or `undefined` when the nearest
 * package.json does not set it (or none is found, or it cannot be read). Like Node, the search
 * stops at a `node_modules` folder.
 */
export function packageTypeOf(file: string): 'module' | 'commonjs' | undefined {
  let dir = dirname(file)
  for (;;) {
    if (basename(dir) === 'node_modules') return undefined
    let text: string | undefined
    try {
      text = readFileSync(join(dir, 'package.json'), 'utf8')
    } catch {
      text = undefined
    }
    if (text !== undefined) {
      try {
        const type = (JSON.parse(text) as { type?: unknown }).type
        return type === 'module' || type === 'commonjs' ? type : undefined
      } catch {
        return undefined
      }
    }
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}

/** How Node runs `file` (an absolute path), from its extension and its package's `"type"`. */
export function moduleSystemOf(file: string): ModuleSystem {
  const ext = extname(file)
  if (ext === '.mjs' || ext === '.mts') return 'module'
  if (ext === '.cjs' || ext === '.cts') return 'commonjs'
  return packageTypeOf(file) ?? 'detect'
}

/**
 * The fix for ES-module syntax in a file that runs as CommonJS: the ES-module extension, or (for a
 * `.ts`/`.js` file) `"type": "module"` in package.json.
 *
 * @example
 * ```ts
 * esmSyntaxHint('bot.ts', 'top-level await')
 * // 'bot.ts runs as CommonJS (package.json does not say "type": "module"), where top-level await is not allowed: rename it to bot.mts, or add "type": "module" to package.json.'
 * ```
 */
export function esmSyntaxHint(file: string, syntax: EsmOnlySyntax): string {
  const ext = extname(file)
  const stem = file.slice(0, file.length - ext.length)
  const esmExt = ext === '.ts' || ext === '.cts' ? '.mts' : '.mjs'
  const fixedByType = ext === '.ts' || ext === '.js'
  const why = fixedByType ? ' (package.json does not say "type": "module")' : ''
  const rename = `rename it to ${stem}${esmExt}`
  return (
    `${file} runs as CommonJS${why}, where ${syntax === 'import/export' ? 'import and export are' : `${syntax} is`} not allowed: ` +
    (fixedByType ? `${rename}, or add "type": "module" to package.json.` : `${rename}.`)
  )
}
