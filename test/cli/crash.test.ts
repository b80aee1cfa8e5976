/**
 * Issue #9 item 7: what a process-level error from handler code does to the CLI's bot, tested by
 * spawning the CLI with a handler file that leaves an unhandled rejection or throws in a timer.
 * - An unhandled rejection is logged with the push that caused it, and the bot keeps serving.
 * - An uncaught exception is logged, the server stops accepting, the pushes in flight are
 *   answered, and the process exits 1 for its supervisor to restart it.
 */
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { computeSignature } from '../../src/index.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const TOKEN = 'crashTestToken0123456789abcdefgh'

const handlerFile = `
export async function onMessage(msg) {
  if (msg.content === 'reject') {
    Promise.reject(new Error('boom: a rejection nobody handles'))
    return 'answered anyway'
  }
  if (msg.content === 'throw') {
    setTimeout(() => { throw new Error('boom: thrown in a timer') }, 50)
    return 'answered before the throw'
  }
  if (msg.content === 'slow') {
    await new Promise((resolve) => setTimeout(resolve, 400))
    return 'slow but answered'
  }
  return 'echo ' + msg.content
}
`

interface Bot {
  child: ChildProcess
  url: string
  stdout: () => string
}

async function startBot(t: Test): Promise<Bot> {
  const dir = mkdtempSync(join(tmpdir(), 'wx-crash-'))
  writeFileSync(join(dir, 'bot.mjs'), handlerFile)
  const botFile = join(dir, 'bot.mjs')
  // No .env is read: the --env-file is the (empty) one of the temporary directory.
  writeFileSync(join(dir, 'empty.env'), '')
  const args = ['node', 'wx-mp-svr', botFile, '--port', '0', '--env-file', join(dir, 'empty.env')]
  const script = `import('./src/cli/main.ts').then((m) => m.run(${JSON.stringify(args)}))`
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', WX_MP_TOKEN: TOKEN, LOG_LEVEL: 'info', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d))
  child.stderr!.on('data', (d: Buffer) => (out += d))
  for (let i = 0; i < 600; i++) {
    const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/wx)/.exec(out)
    if (match) return { child, url: match[1]!, stdout: () => out }
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`the bot did not start: ${out}`)
}

async function push(bot: Bot, content: string, msgId: string): Promise<{ status: number; body: string }> {
  const ts = String(Math.floor(Date.now() / 1000))
  const xml = `<xml><ToUserName><![CDATA[gh_crash]]></ToUserName><FromUserName><![CDATA[oCrash]]></FromUserName><CreateTime>${ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${content}]]></Content><MsgId>${msgId}</MsgId></xml>`
  const res = await fetch(`${bot.url}?signature=${computeSignature(TOKEN, ts, '7')}&timestamp=${ts}&nonce=7`, { method: 'POST', body: xml, headers: { 'content-type': 'text/xml' } })
  return { status: res.status, body: await res.text() }
}

function logLines(bot: Bot): Array<Record<string, unknown>> {
  return bot
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (condition()) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('an unhandled rejection is logged with its push; the bot keeps serving', async (t) => {
  const bot = await startBot(t)
  const first = await push(bot, 'reject', '9001')
  t.equal(first.status, 200)
  t.match(first.body, /answered anyway/)
  await until(() => logLines(bot).some((l) => /unhandled rejection/.test(String(l['msg']))), 'the rejection logged')
  const line = logLines(bot).find((l) => /unhandled rejection/.test(String(l['msg'])))!
  t.match(line, { level: 50, push: { msgId: '9001', from: 'oCrash', msgType: 'text' }, err: { message: 'boom: a rejection nobody handles' } }, 'logged with the push')
  const second = await push(bot, 'still there?', '9002')
  t.equal(second.status, 200, 'the next push is served')
  t.match(second.body, /echo still there\?/)
  t.equal(bot.child.exitCode, null, 'the process is alive')
  bot.child.kill('SIGTERM')
  const [code] = await once(bot.child, 'exit')
  t.equal(code, 0, 'and still closes cleanly')
})

t.test('an uncaught exception is logged; the push in flight is answered; the process exits 1', async (t) => {
  const bot = await startBot(t)
  const slow = push(bot, 'slow', '9101')
  await until(() => logLines(bot).length > 0 || bot.stdout().includes('listening'), 'the bot ready')
  await new Promise((r) => setTimeout(r, 50)) // the slow push reaches its handler first
  const thrower = await push(bot, 'throw', '9102')
  t.match(thrower.body, /answered before the throw/)
  const exited = once(bot.child, 'exit')
  const answered = await slow
  t.equal(answered.status, 200, 'the push in flight when it crashed is answered')
  t.match(answered.body, /slow but answered/)
  const [code] = await exited
  t.equal(code, 1, 'exit code 1: a supervisor restarts it')
  const fatal = logLines(bot).find((l) => /uncaught exception/.test(String(l['msg'])))
  t.ok(fatal, 'the exception is logged')
  t.match(fatal, { level: 60, push: { msgId: '9102' }, err: { message: 'boom: thrown in a timer' } }, 'with the push whose code threw')
  await t.rejects(push(bot, 'anyone?', '9103'), 'nothing listens any more')
})
