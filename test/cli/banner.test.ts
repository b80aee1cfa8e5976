/**
 * #15 point 6 and 7: the banner lists what the handler file provides and how slow answers will
 * be delivered; near-miss export names, a default-exported function and unknown `config` keys
 * get their own messages; `export const config` reaches createServer; in production the banner
 * is one JSON line; the temporary token survives a restart.
 */
import t, { type Test } from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { serve } from '../../src/cli/commands/serve.js'
import { computeSignature } from '../../src/index.js'

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = []
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk))
      done()
    },
  })
  return { stream, text: () => chunks.join('') }
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'wx-banner-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

async function start(t: Test, dir: string, file: string, env: Record<string, string | undefined> = {}, banner?: 'text' | 'json') {
  const out = sink()
  const bot = await serve(file, { port: '0' }, { env: { LOG_LEVEL: 'silent', ...env }, stdout: out.stream, cwd: dir, handleSignals: false, banner })
  t.teardown(() => bot.close())
  return { bot, banner: out.text() }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: Error) => err,
  )
}

t.test('lists the callbacks found and the effective slow-reply strategy', async (t) => {
  const dir = project({
    'bot.ts': [
      "import type { OnMessage, OnSubscribe } from 'wx-mp-svr'",
      "export const onMessage: OnMessage = (msg) => (msg.msgType === 'text' ? msg.content : undefined)",
      "export const onSubscribe: OnSubscribe = () => '欢迎'",
      '',
    ].join('\n'),
  })
  const { banner } = await start(t, dir, 'bot.ts', { WX_MP_TOKEN: 'a'.repeat(32) })
  t.match(banner, /Loaded: +onMessage ✓ +onSubscribe ✓ +onEvent — +onError — +lateReply — +slow replies: retry-window \(auto: no AppSecret\)/)
  t.notMatch(banner, /Warning/, 'nothing to warn about')

  const withSecret = await start(t, dir, 'bot.ts', { WX_MP_TOKEN: 'a'.repeat(32), WX_MP_APPID: 'wxabc', WX_MP_APPSECRET: 's'.repeat(32) })
  t.match(withSecret.banner, /slow replies: customer-service \(auto: AppSecret set/, 'auto with an AppSecret: customer-service')
  const chosen = await start(t, dir, 'bot.ts', { WX_MP_TOKEN: 'a'.repeat(32), WX_MP_SLOW_REPLY: 'next-message' })
  t.match(chosen.banner, /slow replies: next-message/)
})

t.test('near-miss export names are warned about with the name meant', async (t) => {
  const dir = project({
    'bot.mjs': [
      "export const onMessage = () => 'hi'",
      "export const onSubcribe = () => 'welcome'",
      'export const latereply = () => {}',
      'export const handleMessage = () => {}',
      'export const sleep = () => {}',
      '',
    ].join('\n'),
  })
  const { banner } = await start(t, dir, 'bot.mjs', { WX_MP_TOKEN: 'a'.repeat(32) })
  t.match(banner, /Warning: bot\.mjs exports "onSubcribe": did you mean onSubscribe\? It is ignored\./)
  t.match(banner, /"latereply": did you mean lateReply\?/)
  t.match(banner, /"handleMessage": did you mean onMessage\?/)
  t.notMatch(banner, /"sleep"/, 'an unrelated export is not warned about')
  t.match(banner, /onMessage ✓ +onSubscribe — /, 'onSubscribe is not loaded')
})

t.test('a file with only near misses, or a default-exported function, gets its own error', async (t) => {
  const dir = project({
    'lower.mjs': 'export const onmessage = () => "hi"\n',
    'fn.mjs': 'export default function (msg) { return "hi" }\n',
    'fn.cjs': 'module.exports = function (msg) { return "hi" }\n',
  })
  const lower = await rejection(start(t, dir, 'lower.mjs', { WX_MP_TOKEN: 't'.repeat(32) }))
  t.match(lower.message, /lower\.mjs exports no handler under its exact name:\n +lower\.mjs exports "onmessage": did you mean onMessage\?/)
  for (const file of ['fn.mjs', 'fn.cjs']) {
    const err = await rejection(start(t, dir, file, { WX_MP_TOKEN: 't'.repeat(32) }))
    t.match(err.message, new RegExp(`${file.replace('.', '\\.')} default-exports a function: the kit cannot tell which callback it is\\. Name it instead`), file)
  }
})

t.test('export const config reaches createServer; unknown keys are warned about with a suggestion', async (t) => {
  const dir = project({
    'bot.mjs': [
      "export const onMessage = (msg) => 'hi'",
      'const seen = []',
      'export const config = {',
      "  path: '/hook',",
      "  slowReply: 'next-message',",
      "  slowReplyPlaceholder: 'wait',",
      '  dedupStore: {},',
      '  replyTimeout: 3000,',
      '}',
      '',
    ].join('\n'),
  })
  const { bot, banner } = await start(t, dir, 'bot.mjs', { WX_MP_TOKEN: 'cfgtoken'.repeat(4) })
  t.match(bot.url, /\/hook$/, 'config.path is used')
  t.match(banner, /slow replies: next-message/, 'config.slowReply is used')
  t.match(banner, /Warning: bot\.mjs: config\.dedupStore is not an option of createServer \(did you mean store\?\)|config\.dedupStore is not an option of createServer/)
  t.match(banner, /config\.replyTimeout is not an option of createServer \(did you mean replyTimeoutMs\?\)/)

  const ts = String(Math.floor(Date.now() / 1000))
  const res = await fetch(`${bot.url}?signature=${computeSignature('cfgtoken'.repeat(4), ts, '1')}&timestamp=${ts}&nonce=1`, {
    method: 'POST',
    body: `<xml><ToUserName>gh_x</ToUserName><FromUserName>oU</FromUserName><CreateTime>${ts}</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>`,
  })
  t.match(await res.text(), /<Content><!\[CDATA\[hi\]\]><\/Content>/, 'the bot answers on the configured path')

  const twice = project({ 'bot.mjs': "export const onMessage = () => 'a'\nexport const config = { onMessage: () => 'b' }\n" })
  const err = await rejection(start(t, twice, 'bot.mjs', { WX_MP_TOKEN: 't'.repeat(32) }))
  t.match(err.message, /onMessage is exported and also set in config: keep one of them/)
  const notObject = project({ 'bot.mjs': "export const onMessage = () => 'a'\nexport const config = 'x'\n" })
  t.match((await rejection(start(t, notObject, 'bot.mjs', { WX_MP_TOKEN: 't'.repeat(32) }))).message, /config must be an object of createServer options/)
})

t.test('a lateReply (exported or in config) shows, and selects success when no strategy is chosen', async (t) => {
  const dir = project({ 'bot.mjs': "export const onMessage = () => 'a'\nexport const config = { lateReply: () => {} }\n" })
  const { banner } = await start(t, dir, 'bot.mjs', { WX_MP_TOKEN: 't'.repeat(32) })
  t.match(banner, /lateReply ✓ +slow replies: success \(then your lateReply\)/)
})

t.test('in production (not a terminal) the banner is one JSON line, warnings included', async (t) => {
  const dir = project({ 'bot.mjs': "export const onMessage = () => 'a'\nexport const onSubcribe = () => 'b'\n" })
  const { banner, bot } = await start(t, dir, 'bot.mjs', { WX_MP_TOKEN: 'prodtoken'.repeat(3), NODE_ENV: 'production' }, 'json')
  const lines = banner.split('\n').filter((l) => l !== '')
  t.equal(lines.length, 1, 'one line')
  const line = JSON.parse(lines[0]!) as Record<string, unknown>
  t.match(line, {
    level: 40,
    url: bot.url,
    mode: 'plain',
    handlers: { onMessage: true, onSubscribe: false, onEvent: false, onError: false, lateReply: false },
    slowReply: 'retry-window (auto: no AppSecret)',
    token: 'set, from the environment',
    warnings: [/"onSubcribe": did you mean onSubscribe\?/],
  })
  t.match(String(line['msg']), /listening on http:\/\/127\.0\.0\.1:\d+\/wx \(plain mode\)/)
  t.notMatch(banner, /prodtoken/, 'no secret')
})

t.test('the temporary token is kept next to the handler across restarts, and printed', async (t) => {
  const dir = project({ 'bot.mjs': "export const onMessage = () => 'a'\n" })
  const first = await start(t, dir, 'bot.mjs')
  await first.bot.close()
  const token = /local tests only: (\w+)/.exec(first.banner)?.[1]
  t.ok(token, 'printed')
  t.match(first.banner, /kept in \.wx-mp-svr-dev-token for the next run/)
  t.equal(readFileSync(join(dir, '.wx-mp-svr-dev-token'), 'utf8').trim(), token, 'saved next to the handler')
  const second = await start(t, dir, 'bot.mjs')
  t.match(second.banner, new RegExp(`local tests only: ${token}`), 'the same token after a restart')
  t.match(second.banner, new RegExp(`chat ${second.bot.url.replace(/[.?]/g, '\\$&')} --token ${token}`), 'and the chat command uses it')
})
