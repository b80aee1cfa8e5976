/**
 * The real thing: the published bin, spawned as a user runs it, on a free port.
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { computeSignature } from '../../src/index.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = fileURLToPath(new URL('../../bin/wx-mp-svr.js', import.meta.url))

interface Spawned {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
}

function start(args: string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d))
  child.stderr!.on('data', (d: Buffer) => (err += d))
  return { child, stdout: () => out, stderr: () => err }
}

async function waitFor(spawned: Spawned, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const match = pattern.exec(spawned.stdout())
    if (match) return match
    if (spawned.child.exitCode !== null) throw new Error(`exited early: ${spawned.stderr()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

t.test('npx wx-mp-svr demo/demo.ts: answers WeChat and shuts down gracefully', async (t) => {
  const bot = start(['demo/demo.ts', '--port', '0'], { WX_MP_TOKEN: 'e2etoken', LOG_LEVEL: 'info' })
  t.teardown(() => {
    if (bot.child.exitCode === null) bot.child.kill('SIGKILL')
  })
  const [, url] = await waitFor(bot, /listening on (http:\/\/127\.0\.0\.1:\d+\/wx)/)
  const ts = String(Math.floor(Date.now() / 1000))
  const signature = computeSignature('e2etoken', ts, '1')

  const verify = await fetch(`${url}?signature=${signature}&timestamp=${ts}&nonce=1&echostr=8888`)
  t.equal(await verify.text(), '8888', 'URL verification echoes echostr exactly')

  const push = `<xml><ToUserName><![CDATA[gh_e2e]]></ToUserName><FromUserName><![CDATA[oE2E]]></FromUserName><CreateTime>${ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[ping]]></Content><MsgId>1</MsgId></xml>`
  const res = await fetch(`${url}?signature=${signature}&timestamp=${ts}&nonce=1&openid=oE2E`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: push })
  t.equal(res.status, 200)
  const body = await res.text()
  t.match(body, /<ToUserName><!\[CDATA\[oE2E\]\]><\/ToUserName><FromUserName><!\[CDATA\[gh_e2e\]\]><\/FromUserName>/)
  t.match(body, /<Content><!\[CDATA\[ping\]\]><\/Content>/)

  await waitFor(bot, /"outcome":"reply"/)
  bot.child.kill('SIGTERM')
  const [code] = await once(bot.child, 'exit')
  t.equal(code, 0, 'SIGTERM closes cleanly')
  t.notMatch(bot.stdout() + bot.stderr(), /e2etoken/, 'the token never reaches the output')
})

t.test('a configuration error exits 1 naming the variable', async (t) => {
  const run = start(['demo/demo.ts', '--port', '0'], { NODE_ENV: 'production' })
  const [code] = await once(run.child, 'exit')
  t.equal(code, 1)
  t.match(run.stderr(), /WX_MP_TOKEN is not set/)
  t.notMatch(run.stderr(), /\n\s+at /, 'no stack trace for a mistake the user can fix')
})

t.test('no arguments: the overview of every command, exit 1', async (t) => {
  const run = start([], {})
  const [code] = await once(run.child, 'exit')
  t.equal(code, 1)
  t.match(run.stderr(), /Run a bot: wx-mp-svr bot\.ts/)
  t.match(run.stderr(), /verify \[options\] <url>/)
  t.match(run.stderr(), /send \[options\] <url>/)
})
