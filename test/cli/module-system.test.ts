import t from 'tap'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { esmSyntaxHint, moduleSystemOf, packageTypeOf } from '../../src/cli/module-system.js'

function project(packageJson: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'wx-modsys-'))
  if (packageJson !== undefined) writeFileSync(join(dir, 'package.json'), packageJson)
  mkdirSync(join(dir, 'src'))
  return dir
}

t.test('the "type" of the nearest package.json decides .ts and .js', async (t) => {
  const esm = project('{ "type": "module" }')
  const cjs = project('{ "name": "x", "type": "commonjs" }')
  const untyped = project('{ "name": "x" }')
  t.equal(moduleSystemOf(join(esm, 'src', 'bot.ts')), 'module', 'found above the file')
  t.equal(moduleSystemOf(join(esm, 'bot.js')), 'module')
  t.equal(moduleSystemOf(join(cjs, 'bot.ts')), 'commonjs', 'what npm init -y writes')
  t.equal(moduleSystemOf(join(untyped, 'bot.ts')), 'detect', 'no "type": Node detects')
  t.equal(packageTypeOf(join(untyped, 'bot.ts')), undefined)
})

t.test('the extension wins over the package', async (t) => {
  const esm = project('{ "type": "module" }')
  const cjs = project('{ "type": "commonjs" }')
  t.equal(moduleSystemOf(join(cjs, 'bot.mts')), 'module')
  t.equal(moduleSystemOf(join(cjs, 'bot.mjs')), 'module')
  t.equal(moduleSystemOf(join(esm, 'bot.cts')), 'commonjs')
  t.equal(moduleSystemOf(join(esm, 'bot.cjs')), 'commonjs')
})

t.test('like Node, the search stops at node_modules and ignores an unreadable package.json', async (t) => {
  const esm = project('{ "type": "module" }')
  mkdirSync(join(esm, 'node_modules', 'dep'), { recursive: true })
  t.equal(packageTypeOf(join(esm, 'node_modules', 'dep', 'index.js')), undefined, 'a package without package.json is not the project')
  const broken = project('{ "type": "module", ')
  t.equal(packageTypeOf(join(broken, 'bot.ts')), undefined)
})

t.test('the hint names the file, the ES-module extension and "type": "module" where it helps', async (t) => {
  t.equal(
    esmSyntaxHint('bot.ts', 'top-level await'),
    'bot.ts runs as CommonJS (package.json does not say "type": "module"), where top-level await is not allowed: ' +
      'rename it to bot.mts, or add "type": "module" to package.json.',
  )
  t.equal(
    esmSyntaxHint('src/bot.js', 'import/export'),
    'src/bot.js runs as CommonJS (package.json does not say "type": "module"), where import and export are not allowed: ' +
      'rename it to src/bot.mjs, or add "type": "module" to package.json.',
  )
  t.equal(esmSyntaxHint('bot.cts', 'import.meta'), 'bot.cts runs as CommonJS, where import.meta is not allowed: rename it to bot.mts.')
  t.equal(esmSyntaxHint('bot.cjs', 'import/export'), 'bot.cjs runs as CommonJS, where import and export are not allowed: rename it to bot.mjs.')
})
