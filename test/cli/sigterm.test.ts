/**
 * #15 point 4: a deploy (SIGTERM) while a slow handler runs. With the drain longer than the
 * handler, the push still gets its answer and the process then exits 0; with a drain shorter than
 * the handler, the process does not wait past it and says which handler it abandoned (user and
 * message id) instead of dropping the answer silently.
 */
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { computeSignature } from '../../src/index.js'
import { userNode } from './user-node.js'

const bin = fileURLToPath(new URL('../../bin/wx-mp-svr.js', import.meta.url))
const TOKEN = 'sigtermToken0123456789abcdef0123'
const HANDLER_MS = 3_000

function botDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wx-sigterm-'))
  writeFileSync(
    join(dir, 'bot.mjs'),
    [
      "import { setTimeout as sleep } from 'node:timers/promises'",
      'export const onMessage = async (msg) => {',
      "  process.stdout.write('HANDLER STARTED\\n')",
      `  await sleep(${HANDLER_MS})`,
      "  return 'slow answer'",
      '}',
      '',
    ].join('\n'),
  )
  return dir
}

async function startBot(t: Test, args: string[]): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const [cmd, cmdArgs] = userNode([bin, 'bot.mjs', '--port', '0', ...args], { WX_MP_TOKEN: TOKEN, NODE_ENV: 'production' })
  const child = spawn(cmd, cmdArgs, { cwd: botDir(), stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d))
  child.stderr!.on('data', (d: Buffer) => (out += d))
  const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+\/wx) /.exec(out)?.[1], child, () => out)
  return { child, url, out: () => out }
}

async function waitFor<T>(probe: () => T | undefined, child: ChildProcess, out: () => string): Promise<T> {
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (child.exitCode !== null) throw new Error(`the bot exited: ${out()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function push(url: string, msgId: string): Promise<Response> {
  const ts = String(Math.floor(Date.now() / 1000))
  return fetch(`${url}?signature=${computeSignature(TOKEN, ts, '7')}&timestamp=${ts}&nonce=7`, {
    method: 'POST',
    body: `<xml><ToUserName>gh_s</ToUserName><FromUserName>oDeploy</FromUserName><CreateTime>${ts}</CreateTime><MsgType>text</MsgType><Content>think</Content><MsgId>${msgId}</MsgId></xml>`,
  })
}

t.test('SIGTERM during a 3 s handler: the push still gets its answer, then the bot exits 0', async (t) => {
  const bot = await startBot(t, [])
  const sentAt = Date.now()
  const answer = push(bot.url, '4200000000000000001')
  await waitFor(() => (bot.out().includes('HANDLER STARTED') ? true : undefined), bot.child, bot.out)
  bot.child.kill('SIGTERM')
  const res = await answer
  t.equal(res.status, 200)
  t.match(await res.text(), /<Content><!\[CDATA\[slow answer\]\]><\/Content>/, 'the answer reaches WeChat')
  t.equal(res.headers.get('connection'), 'close', 'on a connection that closes')
  const [code] = await once(bot.child, 'exit')
  t.equal(code, 0, 'then the bot exits 0')
  t.ok(Date.now() - sentAt >= HANDLER_MS - 100, 'after the handler finished')
  t.notMatch(bot.out(), /abandoning/, 'nothing abandoned')
  t.match(bot.out(), /SIGTERM: closing \(in-flight pushes finish first, at most 60000 ms\)/)
})

t.test('SIGTERM with a drain shorter than the handler: the abandoned handler is logged with its user and message id', async (t) => {
  const bot = await startBot(t, ['--drain-timeout', '500'])
  const answer = push(bot.url, '4200000000000000002').then(
    (res) => res.status,
    () => 'connection closed',
  )
  await waitFor(() => (bot.out().includes('HANDLER STARTED') ? true : undefined), bot.child, bot.out)
  const killedAt = Date.now()
  bot.child.kill('SIGTERM')
  const [code] = await once(bot.child, 'exit')
  const tookMs = Date.now() - killedAt
  t.equal(code, 0)
  t.ok(tookMs < HANDLER_MS, `did not wait for the handler past the drain (${tookMs} ms)`)
  const abandoned = bot
    .out()
    .split('\n')
    .filter((l) => l.includes('abandoning'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(abandoned.length, 1, 'one line per abandoned handler')
  t.match(abandoned[0], { level: 40, from: 'oDeploy', msgId: '4200000000000000002', runningMs: Number, msg: /its answer is lost/ })
  await answer
})
