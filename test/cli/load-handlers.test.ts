import t from 'tap'
import type { Test } from 'tap'
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { loadHandlers } from '../../src/cli/load-handlers.js'
import { isWxMpError, parseMessage } from '../../src/index.js'
import { userNode } from './user-node.js'

const run = promisify(execFile)
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const text = parseMessage(
  '<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>',
)
const ctx = {} as never

t.test('a TypeScript file with named exports (ESM project)', async (t) => {
  const h = await loadHandlers('esm/named.ts', fixtures)
  t.equal(await h.onMessage!(text as never, ctx), 'named:hi')
  t.equal(h.onSubscribe, undefined)
})

t.test('a default export object in an .mjs file', async (t) => {
  const h = await loadHandlers('esm/default-object.mjs', fixtures)
  t.equal(await h.onMessage!(text as never, ctx), 'default:hi')
  t.equal(typeof h.onSubscribe, 'function')
})

t.test('CommonJS projects ("type": "commonjs", what npm init -y writes), loaded as the CLI does', async (t) => {
  // In a child process without this test runner's hooks, from a fresh copy of the fixture:
  // what a user's first `npx wx-mp-svr bot.ts` meets.
  const project = mkdtempSync(join(tmpdir(), 'wx-cjs-'))
  cpSync(join(fixtures, 'cjs'), project, { recursive: true })
  const loader = new URL('../../dist/cli/load-handlers.js', import.meta.url).href
  const script = [
    `import { loadHandlers } from ${JSON.stringify(loader)}`,
    "const msg = { msgType: 'text', content: 'hi' }",
    "for (const file of ['bot.ts', 'plain.js', 'bot.cjs']) {",
    `  const h = await loadHandlers(file, ${JSON.stringify(project)})`,
    "  console.log(file, await h.onMessage(msg, {}), typeof h.onSubscribe)",
    '}',
  ].join('\n')
  const { stdout } = await run(...userNode(['--input-type=module', '-e', script]), { cwd: project })
  t.equal(
    stdout,
    ['bot.ts cjs-ts:hi function', 'plain.js cjs-js:hi undefined', 'bot.cjs cjs-cjs:hi undefined', ''].join('\n'),
    '.ts with ESM syntax, a module.exports object, and exports.onMessage',
  )
})

async function rejectsConfig(t: Test, file: string, pattern: RegExp): Promise<void> {
  const err = await loadHandlers(file, fixtures).then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(isWxMpError(err), `${file}: a WxMpError`)
  t.equal((err as { code?: string }).code, 'INVALID_CONFIG')
  t.match((err as Error).message, pattern)
}

t.test('bad handler files get a clear INVALID_CONFIG error', async (t) => {
  await rejectsConfig(t, 'esm/missing.ts', /Handler file not found/)
  await rejectsConfig(t, 'cjs/package.json', /Unsupported handler file extension/)
  await rejectsConfig(t, 'esm/nothing.ts', /exports no handler: export onMessage/)
  await rejectsConfig(t, 'esm/not-a-function.mjs', /onMessage must be a function/)
  await rejectsConfig(t, 'esm/broken.ts', /Could not load the handler file[\s\S]*throws at load time/)
})
