/**
 * What a user installs, as the README says until the package is published: `npm pack` yields a
 * tarball holding only what runs (no sources, tests or source maps) that installs into an empty
 * CommonJS project (what `npm init -y` writes), where `npx wx-mp-svr handler.ts` runs a TypeScript
 * handler that imports types and values from 'wx-mp-svr', and so does the production command
 * without npm; `npx wx-mp-svr init .` then writes a bot that type-checks against the installed
 * package and runs.
 */
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { computeSignature } from '../../src/index.js'
import { userCommand } from './user-node.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

t.setTimeout(240_000)

t.test('npm pack → install into an empty folder → npx wx-mp-svr handler.ts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wx-pack-'))
  // dist/ was just built by `npm test`; skip `prepare` so packing does not rebuild it.
  await run(npm, ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: root })
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  t.ok(tarball, 'a tarball')
  const listed = (await run('tar', ['-tzf', join(dir, tarball!)])).stdout.split('\n').filter((f) => f !== '')
  for (const file of ['package/package.json', 'package/README.md', 'package/CHANGELOG.md', 'package/LICENSE', 'package/bin/wx-mp-svr.js', 'package/dist/index.js', 'package/dist/index.d.ts']) {
    t.ok(listed.includes(file), `the tarball has ${file}`)
  }
  t.same(listed.filter((f) => !/^package\/(dist\/.+\.(js|d\.ts)|bin\/wx-mp-svr\.js|package\.json|README\.md|CHANGELOG\.md|LICENSE)$/.test(f)), [], 'and nothing else (no src, test, demo, bench, source maps, .env)')
  await run(npm, ['init', '-y'], { cwd: dir })
  await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], { cwd: dir })
  writeFileSync(
    join(dir, 'handler.ts'),
    [
      "import type { OnMessage, TextMessage } from 'wx-mp-svr'",
      "import { reply } from 'wx-mp-svr'",
      'const shout = (m: TextMessage): string => m.content.toUpperCase()',
      "export const onMessage: OnMessage = (msg) => (msg.msgType === 'text' ? reply.text(shout(msg)) : undefined)",
      '',
    ].join('\n'),
  )

  const child = spawn(npm, ['exec', '--offline', '--', 'wx-mp-svr', 'handler.ts', '--port', '0'], {
    cwd: dir,
    env: { ...process.env, WX_MP_TOKEN: 'packtoken', LOG_LEVEL: 'warn', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: npm exec runs the bin in a grandchild, and the signal must reach it.
    detached: true,
  })
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid!, signal)
    } catch {
      // already gone
    }
  }
  t.teardown(() => signalGroup('SIGKILL'))
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d))
  child.stderr.on('data', (d: Buffer) => (err += d))
  let url: string | undefined
  while (!url) {
    url = /listening on (http:\/\/\S+\/wx)/.exec(out)?.[1]
    if (child.exitCode !== null) throw new Error(`the installed CLI exited: ${err}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const ts = String(Math.floor(Date.now() / 1000))
  const res = await fetch(`${url}?signature=${computeSignature('packtoken', ts, '5')}&timestamp=${ts}&nonce=5`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml' },
    body: `<xml><ToUserName>gh_pack</ToUserName><FromUserName>oPack</FromUserName><CreateTime>${ts}</CreateTime><MsgType>text</MsgType><Content>hello</Content><MsgId>1</MsgId></xml>`,
  })
  t.match(await res.text(), /<Content><!\[CDATA\[HELLO\]\]><\/Content>/, 'the installed package runs the TypeScript handler')
  signalGroup('SIGTERM')
  await once(child, 'exit')

  // The production command: no npm, no loader thread, no compiler left running; the PID a service
  // manager knows is the bot, and signalling it alone stops the bot and frees its port.
  for (const [name, command] of [
    ['node_modules/.bin/wx-mp-svr', [join(dir, 'node_modules', '.bin', 'wx-mp-svr')]],
    ['node node_modules/wx-mp-svr/bin/wx-mp-svr.js', [process.execPath, join(dir, 'node_modules', 'wx-mp-svr', 'bin', 'wx-mp-svr.js')]],
  ] as const) {
    await t.test(`${name} handler.ts: one process`, async (t) => {
      const [cmd, args] = userCommand(command[0]!, [...command.slice(1), 'handler.ts', '--port', '0'], { WX_MP_TOKEN: 'packtoken', NODE_ENV: 'production', LOG_LEVEL: 'warn' })
      const bot = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
      t.teardown(() => {
        if (bot.exitCode === null) bot.kill('SIGKILL')
      })
      let out = ''
      bot.stdout.on('data', (d: Buffer) => (out += d))
      bot.stderr.on('data', (d: Buffer) => (out += d))
      let port: string | undefined
      while (!port) {
        port = /listening on http:\/\/127\.0\.0\.1:(\d+)\/wx/.exec(out)?.[1]
        if (bot.exitCode !== null) throw new Error(`the bot exited: ${out}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
      const children = await run('ps', ['-o', 'pid=,args=', '--ppid', String(bot.pid)]).then(
        ({ stdout }) => stdout.trim(),
        () => '', // ps exits 1 when it lists nothing
      )
      t.equal(children, '', 'no child process')
      const status = readFileSync(`/proc/${bot.pid}/status`, 'utf8')
      t.match(status, /^Name:\s+(node|MainThread)$/m, 'env replaced itself with node: the PID is the bot')
      bot.kill('SIGTERM')
      const [code] = await once(bot, 'exit')
      t.equal(code, 0, 'SIGTERM to that PID stops the bot')
      const server = createServer()
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(Number(port), '127.0.0.1', resolve))
      t.pass('its port is free')
      server.close()
    })
  }

  await t.test('npx wx-mp-svr init . → the bot it writes type-checks against the installed package and runs', async (t) => {
    const init = await run(npm, ['exec', '--offline', '--', 'wx-mp-svr', 'init', '.', '--port', '5099'], { cwd: dir })
    t.match(init.stdout, /wrote +bot\.ts/)
    t.match(init.stdout, /added +package\.json scripts: start, chat/, "npm init -y's package.json gets the scripts")
    // The named types resolve from the installed package's declarations.
    await run(process.execPath, [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node',
      'bot.ts',
    ], { cwd: dir }).catch((err: { stdout?: string }) => {
      t.fail(`bot.ts does not type-check: ${err.stdout ?? String(err)}`)
    })
    const [cmd, args] = userCommand(join(dir, 'node_modules', '.bin', 'wx-mp-svr'), ['bot.ts', '--port', '0'], { WX_MP_TOKEN: 'packtoken', NODE_ENV: 'production', LOG_LEVEL: 'warn' })
    const bot = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
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
    t.equal((await fetch(new URL('/healthz', url))).status, 200)
    bot.kill('SIGTERM')
    await once(bot, 'exit')
  })
})
