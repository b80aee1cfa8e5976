import t from 'tap'
import type { Test } from 'tap'
import { fileURLToPath } from 'node:url'
import { loadHandlers } from '../../src/cli/load-handlers.js'
import { isWxMpError, parseMessage } from '../../src/index.js'

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

t.test('CommonJS projects ("type": "commonjs", what npm init -y writes)', async (t) => {
  const ts = await loadHandlers('cjs/bot.ts', fixtures)
  t.equal(await ts.onMessage!(text as never, ctx), 'cjs-ts:hi', '.ts with ESM syntax in a CommonJS package')
  t.equal(typeof ts.onSubscribe, 'function')
  const js = await loadHandlers('cjs/plain.js', fixtures)
  t.equal(await js.onMessage!(text as never, ctx), 'cjs-js:hi', 'module.exports object')
  const cjs = await loadHandlers('cjs/bot.cjs', fixtures)
  t.equal(await cjs.onMessage!(text as never, ctx), 'cjs-cjs:hi', 'exports.onMessage')
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
