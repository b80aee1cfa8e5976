/**
 * `wx-mp-svr init [dir]`: the files a new project needs, filled in with the chosen port and path,
 * never overwriting one; the bot it writes starts with the CLI and answers.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { initProject, formatInitResult } from '../../src/cli/commands/init.js'
import { parseEnvFile } from '../../src/cli/env-file.js'
import { settings } from '../../src/server/settings.js'
import { computeSignature } from '../../src/index.js'
import { userNode } from './user-node.js'

const bin = fileURLToPath(new URL('../../bin/wx-mp-svr.js', import.meta.url))

t.test('writes every file, filled in with the port and path', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'wx-init-')), 'my-bot')
  const result = initProject(dir, { port: '5077', path: '/hook' })
  t.same(result.written.sort(), ['.env.example', '.gitignore', 'bot.ts', 'deploy/my-bot.service', 'deploy/nginx.conf', 'package.json'].sort())
  t.same(result.skipped, [])

  const bot = readFileSync(join(dir, 'bot.ts'), 'utf8')
  t.match(bot, /import type \{ OnError, OnMessage, OnSubscribe \} from 'wx-mp-svr'/, 'the named types')
  t.notMatch(bot, /Handlers\[/)

  const example = readFileSync(join(dir, '.env.example'), 'utf8')
  for (const s of settings) {
    t.match(example, new RegExp(`^#? ?${s.variable}=`, 'm'), `${s.variable} is in .env.example`)
    const at = example.indexOf(`# ${s.zh}\n# `)
    t.ok(at >= 0 && example.indexOf(s.variable, at) > at, `${s.variable}: commented, Chinese first`)
  }
  t.same(Object.keys(parseEnvFile(example)), ['WX_MP_TOKEN'], 'only the required token is active; the rest are commented out at their default')

  t.match(readFileSync(join(dir, '.gitignore'), 'utf8'), /^\.env$/m)
  t.match(readFileSync(join(dir, '.gitignore'), 'utf8'), /^\.wx-mp-svr-dev-token$/m, 'the development token file is ignored')

  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.equal(pkg.scripts['start'], 'wx-mp-svr bot.ts --port 5077 --path /hook')
  t.equal(pkg.scripts['chat'], 'wx-mp-svr chat http://127.0.0.1:5077/hook')

  const unit = readFileSync(join(dir, 'deploy/my-bot.service'), 'utf8')
  t.match(unit, /^ExecStart=\/usr\/bin\/node \/srv\/my-bot\/node_modules\/wx-mp-svr\/bin\/wx-mp-svr\.js bot\.ts --port 5077 --path \/hook$/m, 'node itself, no npx')
  t.match(unit, /^User=my-bot$/m)
  t.match(unit, /^TimeoutStopSec=70$/m, 'longer than the 60 s drain')
  t.match(unit, /^\[Install\]\nWantedBy=multi-user\.target$/m)
  t.notMatch(unit.split('\n').filter((l) => !l.startsWith('#')).join('\n'), /npx|npm /, 'no npm process in the unit')
  const nginx = readFileSync(join(dir, 'deploy/nginx.conf'), 'utf8')
  t.match(nginx, /location = \/hook \{\n\s+proxy_pass http:\/\/127\.0\.0\.1:5077;/)

  t.match(formatInitResult(dir, result, join(dir, '..')), /cd my-bot/)
})

t.test('never overwrites: existing files are listed as skipped, package.json gets only missing scripts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-init-'))
  writeFileSync(join(dir, 'bot.ts'), 'mine\n')
  writeFileSync(join(dir, '.gitignore'), 'dist/\n')
  const pkgText = JSON.stringify({ name: 'mine', version: '2.0.0', type: 'commonjs', scripts: { start: 'node server.js' }, dependencies: { x: '1' } }, null, 4) + '\n'
  writeFileSync(join(dir, 'package.json'), pkgText)
  const result = initProject(dir, {})
  t.equal(readFileSync(join(dir, 'bot.ts'), 'utf8'), 'mine\n', 'bot.ts kept')
  t.equal(readFileSync(join(dir, '.gitignore'), 'utf8'), 'dist/\n', '.gitignore kept')
  t.same(result.skipped.map((s) => s.file), ['bot.ts', '.gitignore'])
  t.same(result.scripts, { added: ['chat'], kept: ['start'] })
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>
  t.same(pkg, { name: 'mine', version: '2.0.0', type: 'commonjs', scripts: { start: 'node server.js', chat: 'wx-mp-svr chat http://127.0.0.1:5001/wx' }, dependencies: { x: '1' } }, 'everything else as it was')
  t.match(readFileSync(join(dir, 'package.json'), 'utf8'), /^ {4}"name"/m, 'its indentation kept')
  const report = formatInitResult(dir, result, dir)
  t.match(report, /skipped +bot\.ts \(exists, left alone/)
  t.match(report, /skipped +\.gitignore \(exists, left alone: make sure it lists \.env and \.wx-mp-svr-dev-token\)/)
  t.match(report, /kept +package\.json scripts of yours: start/)

  const again = initProject(dir, {})
  t.same(again.written, [], 'a second run writes nothing')
  t.same(again.scripts.added, [])

  t.throws(() => initProject(dir, { port: 'x' }), { code: 'INVALID_CONFIG', message: /--port must be a port number/ })
  t.throws(() => initProject(dir, { path: 'wx' }), { code: 'INVALID_CONFIG', message: /--path must be a URL path starting with "\/"/ })
  writeFileSync(join(dir, 'package.json'), '{ nope')
  t.throws(() => initProject(join(dir), {}), { code: 'INVALID_CONFIG', message: /package\.json is not valid JSON/ })
})

t.test('wx-mp-svr init, then the written bot starts with the CLI: 200 on /healthz and an echo', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-init-run-'))
  const [icmd, iargs] = userNode([bin, 'init', 'bot-project', '--port', '0'])
  const init = spawn(icmd, iargs, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let initOut = ''
  init.stdout.on('data', (d: Buffer) => (initOut += d))
  const code = await new Promise((resolve) => init.on('exit', resolve))
  t.equal(code, 1, 'port 0 is refused for a project (it would change at every start)')

  const [cmd, args] = userNode([bin, 'init', 'bot-project', '--port', '5088'])
  const ok = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  ok.stdout.on('data', (d: Buffer) => (initOut += d))
  t.equal(await new Promise((resolve) => ok.on('exit', resolve)), 0)
  t.match(initOut, /wrote +bot\.ts/)
  const project = join(dir, 'bot-project')
  t.ok(existsSync(join(project, 'bot.ts')))

  const [bcmd, bargs] = userNode([bin, 'bot.ts', '--port', '0'], { WX_MP_TOKEN: 'initToken0123456789abcdef012345', LOG_LEVEL: 'warn' })
  const bot = spawn(bcmd, bargs, { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (bot.exitCode === null) bot.kill('SIGKILL')
  })
  let out = ''
  bot.stdout.on('data', (d: Buffer) => (out += d))
  bot.stderr.on('data', (d: Buffer) => (out += d))
  let url: string | undefined
  while (!url) {
    url = /listening on (http:\/\/127\.0\.0\.1:\d+\/wx) /.exec(out)?.[1]
    if (bot.exitCode !== null) throw new Error(`the bot exited: ${out}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const health = await fetch(new URL('/healthz', url))
  t.equal(health.status, 200)
  t.match(out, /"handlers":\{"onMessage":true,"onSubscribe":true,"onEvent":false,"onError":true,"lateReply":false\}/, 'the banner (one JSON line: not a terminal) lists its callbacks')
  const ts = String(Math.floor(Date.now() / 1000))
  const res = await fetch(`${url}?signature=${computeSignature('initToken0123456789abcdef012345', ts, '3')}&timestamp=${ts}&nonce=3`, {
    method: 'POST',
    body: `<xml><ToUserName>gh_i</ToUserName><FromUserName>oI</FromUserName><CreateTime>${ts}</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>1</MsgId></xml>`,
  })
  t.match(await res.text(), /<Content><!\[CDATA\[你好\]\]><\/Content>/, 'the written bot echoes')
  bot.kill('SIGTERM')
  t.equal((await new Promise((resolve) => bot.on('exit', resolve))), 0)
})
