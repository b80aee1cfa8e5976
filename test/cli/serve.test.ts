import t from 'tap'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { serve } from '../../src/cli/commands/serve.js'
import { computeSignature, isWxMpError, WxMpCrypto } from '../../src/index.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

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

function textPush(content: string, msgId: string): string {
  const now = Math.floor(Date.now() / 1000)
  return `<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId></xml>`
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection')
    },
    (err: Error & { code?: string }) => err,
  )
}

t.test('serves the demo in plain mode from a .env file and prints what to paste', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-serve-'))
  writeFileSync(join(dir, '.env'), 'WX_MP_TOKEN=plaintoken\nLOG_LEVEL=silent\n')
  const out = sink()
  const env: Record<string, string | undefined> = {}
  const bot = await serve(join(root, 'demo/demo.ts'), { port: '0' }, { env, stdout: out.stream, cwd: dir, handleSignals: false })
  t.teardown(() => bot.close())
  t.match(bot.url, /^http:\/\/127\.0\.0\.1:\d+\/wx$/)
  t.match(out.text(), /plain mode/)
  t.match(out.text(), /服务器地址\(URL\)/)
  t.notMatch(out.text(), /plaintoken/, 'the token itself is never printed')

  const ts = String(Math.floor(Date.now() / 1000))
  const signature = computeSignature('plaintoken', ts, '42')
  const res = await fetch(`${bot.url}?signature=${signature}&timestamp=${ts}&nonce=42&openid=oUser`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: textPush('你好 👋', '7000000000000000001'),
  })
  t.equal(res.status, 200)
  t.match(await res.text(), /<Content><!\[CDATA\[你好 👋\]\]><\/Content>/)
})

t.test('safe mode with --path and --env-file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-serve-'))
  const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
  writeFileSync(join(dir, 'prod.env'), `WX_MP_TOKEN=safetoken\nWX_MP_AES_KEY=${aesKey}\nWX_MP_APPID=wxabc\nLOG_LEVEL=silent\n`)
  const out = sink()
  const bot = await serve(join(root, 'demo/demo.ts'), { port: '0', path: '/hook', envFile: 'prod.env' }, { env: {}, stdout: out.stream, cwd: dir, handleSignals: false })
  t.teardown(() => bot.close())
  t.match(bot.url, /\/hook$/)
  t.match(out.text(), /safe mode/)
  t.notMatch(out.text(), new RegExp(aesKey), 'the AES key itself is never printed')

  const crypto = new WxMpCrypto({ token: 'safetoken', aesKey, appId: 'wxabc' })
  const ts = String(Math.floor(Date.now() / 1000))
  const encrypt = crypto.encrypt(textPush('secret', '1'))
  const query = `signature=${computeSignature('safetoken', ts, '9')}&timestamp=${ts}&nonce=9&openid=oUser&encrypt_type=aes&msg_signature=${crypto.sign(ts, '9', encrypt)}`
  const res = await fetch(`${bot.url}?${query}`, {
    method: 'POST',
    body: `<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
  })
  const body = await res.text()
  t.equal(res.status, 200)
  const envelope = /<Encrypt><!\[CDATA\[(.+?)\]\]><\/Encrypt><MsgSignature><!\[CDATA\[(\w+)\]\]><\/MsgSignature><TimeStamp>(\d+)<\/TimeStamp><Nonce><!\[CDATA\[(\d+)\]\]><\/Nonce>/.exec(body)
  t.ok(envelope, 'an encrypted envelope')
  t.ok(crypto.verify(envelope![2]!, envelope![3]!, envelope![4]!, envelope![1]!), 'its MsgSignature verifies')
  t.match(crypto.decrypt(envelope![1]!), /<Content><!\[CDATA\[secret\]\]><\/Content>/)
})

t.test('without WX_MP_TOKEN: a temporary token in development, an error in production', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-serve-'))
  const out = sink()
  const bot = await serve(join(root, 'demo/demo.ts'), { port: '0' }, { env: { LOG_LEVEL: 'silent' }, stdout: out.stream, cwd: dir, handleSignals: false })
  await bot.close()
  const devToken = /local tests only: (\w+)/.exec(out.text())?.[1]
  t.ok(devToken && devToken.length >= 12, 'prints the temporary token')
  t.match(out.text(), new RegExp(`chat ${bot.url.replace(/[.?]/g, '\\$&')} --token ${devToken}`), 'and the chat command that uses it')

  const err = await rejection(serve(join(root, 'demo/demo.ts'), { port: '0' }, { env: { NODE_ENV: 'production' }, stdout: out.stream, cwd: dir, handleSignals: false }))
  t.ok(isWxMpError(err))
  t.equal(err.code, 'INVALID_CONFIG')
  t.match(err.message, /WX_MP_TOKEN is not set/)
})

t.test('config errors name the variable and the fix', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-serve-'))
  const io = { stdout: sink().stream, cwd: dir, handleSignals: false }
  const demo = join(root, 'demo/demo.ts')
  let err = await rejection(serve(demo, { port: 'eighty' }, { ...io, env: { WX_MP_TOKEN: 't' } }))
  t.match(err.message, /--port must be a port number/)
  err = await rejection(serve(demo, {}, { ...io, env: { WX_MP_TOKEN: 't', PORT: '70000' } }))
  t.match(err.message, /PORT must be a port number/)
  err = await rejection(serve(demo, { port: '0' }, { ...io, env: { WX_MP_TOKEN: 't', WX_MP_AES_KEY: 'short' } }))
  t.match(err.message, /WX_MP_AES_KEY must be the EncodingAESKey/)
  err = await rejection(serve(demo, { port: '0' }, { ...io, env: { WX_MP_TOKEN: 't', WX_MP_AES_KEY: 'a'.repeat(43) } }))
  t.match(err.message, /WX_MP_APPID is not set/)
  err = await rejection(serve(demo, { port: '0', envFile: 'missing.env' }, { ...io, env: { WX_MP_TOKEN: 't' } }))
  t.match(err.message, /--env-file missing\.env: no such file/)
  err = await rejection(serve(demo, { port: '0' }, { ...io, env: { WX_MP_TOKEN: 't', LOG_LEVEL: 'verbose' } }))
  t.match(err.message, /LOG_LEVEL must be one of/)

  const first = await serve(demo, { port: '0' }, { ...io, env: { WX_MP_TOKEN: 't', LOG_LEVEL: 'silent' } })
  t.teardown(() => first.close())
  const busy = new URL(first.url).port
  err = await rejection(serve(demo, { port: busy }, { ...io, env: { WX_MP_TOKEN: 't', LOG_LEVEL: 'silent' } }))
  t.match(err.message, new RegExp(`Port ${busy} is already in use.*--port or PORT`))
})

t.test('#9 item 11: the banner shows no character of a secret, only that it is set and where from; a short Token is warned about', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-serve-'))
  const token = 'Zq' + 'k'.repeat(28) + 'Wy' // 32 characters
  const aesKey = 'Xv' + 'a'.repeat(39) + 'Jh' // 43 characters
  writeFileSync(join(dir, '.env'), `WX_MP_TOKEN=${token}\nLOG_LEVEL=silent\n`)
  const out = sink()
  const env: Record<string, string | undefined> = { WX_MP_AES_KEY: aesKey, WX_MP_APPID: 'wxabc', WX_MP_TOKNE: 'typo' }
  const bot = await serve(join(root, 'demo/demo.ts'), { port: '0' }, { env, stdout: out.stream, cwd: dir, handleSignals: false })
  t.teardown(() => bot.close())
  const banner = out.text()
  for (const shape of ['Zq', 'Wy', 'Xv', 'Jh', 'kkk', 'aaa', '32 chars', '43 chars', '(32', '(43']) {
    t.notMatch(banner, shape, `the banner does not show "${shape}"`)
  }
  t.match(banner, /令牌\(Token\) +the value of WX_MP_TOKEN \(set, from \.env\)/, 'says the Token is set, from .env')
  t.match(banner, /消息加解密密钥 +the value of WX_MP_AES_KEY \(set, from the environment\)/, 'and the key, from the environment')
  t.notMatch(banner, /shorter than 16/, 'a 32-character Token is not warned about')
  t.match(banner, /WX_MP_TOKNE is not a setting of wx-mp-svr \(did you mean WX_MP_TOKEN\?\)/, 'a typo in a variable name is named')

  const shortOut = sink()
  const short = await serve(join(root, 'demo/demo.ts'), { port: '0' }, { env: { WX_MP_TOKEN: 'tok12345', LOG_LEVEL: 'silent' }, stdout: shortOut.stream, cwd: dir, handleSignals: false })
  t.teardown(() => short.close())
  t.match(shortOut.text(), /Warning: WX_MP_TOKEN is shorter than 16 characters/, 'a short Token is warned about')
  t.match(shortOut.text(), /32 random letters and digits/, 'with the recommendation')
  t.notMatch(shortOut.text(), /tok1|2345/, 'still without its characters')
})

t.test('--drain-timeout sets the drain timeout; a bad value names the flag', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-serve-'))
  const io = { stdout: sink().stream, cwd: dir, handleSignals: false }
  const err = await rejection(serve(join(root, 'demo/demo.ts'), { port: '0', drainTimeout: 'soon' }, { ...io, env: { WX_MP_TOKEN: 't' } }))
  t.match(err.message, /--drain-timeout must be a whole number/)
  const envErr = await rejection(serve(join(root, 'demo/demo.ts'), { port: '0' }, { ...io, env: { WX_MP_TOKEN: 't', WX_MP_DRAIN_TIMEOUT_MS: 'x' } }))
  t.match(envErr.message, /WX_MP_DRAIN_TIMEOUT_MS must be a whole number/)
})

t.test('--slow-reply selects the strategy; a wrong value is a config error naming WX_MP_SLOW_REPLY', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-serve-'))
  const handler = join(dir, 'bot.mjs')
  // Answers after 6 s: under next-message the push gets the placeholder at the 4.5 s deadline.
  writeFileSync(handler, "export const onMessage = () => new Promise((r) => setTimeout(() => r('late'), 6000))\n")
  const env: Record<string, string | undefined> = { WX_MP_TOKEN: 'slowtoken', LOG_LEVEL: 'silent' }
  const bad = await rejection(serve(handler, { port: '0', slowReply: 'sometimes' }, { env, stdout: sink().stream, cwd: dir, handleSignals: false }))
  t.ok(isWxMpError(bad))
  t.match(bad.message, /WX_MP_SLOW_REPLY/)
  t.match(bad.message, /retry-window/)

  const bot = await serve(handler, { port: '0', slowReply: 'next-message' }, { env, stdout: sink().stream, cwd: dir, handleSignals: false })
  t.teardown(() => bot.close())
  const ts = String(Math.floor(Date.now() / 1000))
  const signature = computeSignature('slowtoken', ts, '7')
  const res = await fetch(`${bot.url}?signature=${signature}&timestamp=${ts}&nonce=7&openid=oUser`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: textPush('慢', '7000000000000000077'),
  })
  t.equal(res.status, 200)
  t.match(await res.text(), /回答正在准备中/, 'the placeholder at the deadline')
})
