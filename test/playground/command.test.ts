/**
 * `wx-mp-svr play`'s flags: clear errors for bad ones, the port in use, `--open`, the help.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { play } from '../../src/cli/commands/play.js'
import { createProgram } from '../../src/cli/main.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const sink = (): Writable => new Writable({ write: (_chunk, _encoding, done) => done() })
const io = { env: { LOG_LEVEL: 'silent' }, stdout: sink(), cwd: root, handleSignals: false }

t.test('bad flags name the flag and the values, before anything starts', async (t) => {
  await t.rejects(play('demo/demo.ts', { mode: 'aes' }, io), { code: 'INVALID_CONFIG', message: '--mode must be plain, compat, safe (got "aes").' })
  await t.rejects(play('demo/demo.ts', { account: 'gold' }, io), { code: 'INVALID_CONFIG', message: '--account must be test, personal, verified (got "gold").' })
  await t.rejects(play('demo/demo.ts', { port: '70000' }, io), { code: 'INVALID_CONFIG', message: /--port must be a port number/ })
  await t.rejects(play('no-such-bot.ts', { port: '0' }, io), { code: 'INVALID_CONFIG', message: /Handler file not found/ })
})

t.test('a port in use: one line saying what to do, and nothing left running', async (t) => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
  const port = (blocker.address() as { port: number }).port
  await t.rejects(play('demo/demo.ts', { port: String(port) }, io), {
    code: 'INVALID_CONFIG',
    message: `Port ${port} is already in use: stop the other process, or choose another with --port (0 picks a free one).`,
  })
})

t.test('--open opens the page with its token', async (t) => {
  const opened: string[] = []
  const running = await play('demo/demo.ts', { port: '0', open: true }, { ...io, openUrl: (url) => opened.push(url) })
  t.teardown(() => running.close())
  t.same(opened, [running.url])
})

t.test('play is a command of the CLI', async (t) => {
  let out = ''
  const program = createProgram().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) })
  program.outputHelp()
  t.match(out, /play \[options\] <handler-file>/)
  const command = program.commands.find((c) => c.name() === 'play')!
  t.same(
    command.options.map((o) => o.long),
    ['--port', '--mode', '--account', '--open'],
  )
})

t.test('npx wx-mp-svr play demo/demo.ts: prints the URL, serves the page, stops on Ctrl-C', async (t) => {
  const child = spawn(process.execPath, [join(root, 'bin/wx-mp-svr.js'), 'play', 'demo/demo.ts', '--port', '0', '--mode', 'compat'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (out += d))
  let url: string | undefined
  while (!url) {
    url = /Open {2}(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out)?.[1]
    if (child.exitCode !== null) throw new Error(`exited early: ${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  t.match(out, /compat mode · 测试号/)
  const page = await fetch(url)
  t.equal(page.status, 200)
  t.match(await page.text(), '<title>wx-mp-svr play · demo/demo.ts</title>')
  const exited = once(child, 'exit')
  child.kill('SIGINT')
  const [code] = await exited
  t.equal(code, 0, 'a clean exit')
  t.match(out, /Closing/)
})
