/**
 * #15 point 3: every command reads `.env` (or the file `--env` names) by the server's rule, so the
 * "Try it" command the banner prints works when the token lives in `.env`; a missing file named
 * by `--env` is our error naming the flag. `--env-file` is kept, and what Node does with it
 * (it checks the file itself, even after the script name) is pinned here.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { serve } from '../../src/cli/commands/serve.js'
import { startMockApi } from '../../src/emulator/index.js'
import { userNode } from './user-node.js'

const bin = fileURLToPath(new URL('../../bin/wx-mp-svr.js', import.meta.url))
const TOKEN = 'envCommandsToken0123456789abcdef'

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

async function cli(cwd: string, args: string[], input?: string): Promise<Run> {
  const [cmd, cmdArgs] = userNode([bin, ...args], { LOG_LEVEL: 'silent' })
  const child = spawn(cmd, cmdArgs, { cwd, stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d))
  child.stderr.on('data', (d: Buffer) => (stderr += d))
  child.stdin.end(input ?? '')
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr }
}

const quiet = new Writable({ write: (_c, _e, done) => done() })

t.test('verify, send and chat read the token from .env in the working directory, or from --env', async (t) => {
  const botDir = mkdtempSync(join(tmpdir(), 'wx-envbot-'))
  writeFileSync(join(botDir, 'bot.mjs'), "export const onMessage = (msg) => 'echo ' + msg.content\n")
  const bot = await serve('bot.mjs', { port: '0' }, { env: { WX_MP_TOKEN: TOKEN, LOG_LEVEL: 'silent' }, stdout: quiet, cwd: botDir, handleSignals: false })
  t.teardown(() => bot.close())

  const withDotEnv = mkdtempSync(join(tmpdir(), 'wx-envcli-'))
  writeFileSync(join(withDotEnv, '.env'), `WX_MP_TOKEN=${TOKEN}\n`)
  const verify = await cli(withDotEnv, ['verify', bot.url])
  t.equal(verify.code, 0, `verify passes with the token from .env: ${verify.stdout}${verify.stderr}`)
  const send = await cli(withDotEnv, ['send', bot.url, 'hi'])
  t.equal(send.code, 0, 'send too')
  t.match(send.stdout, /echo hi/)
  const chat = await cli(withDotEnv, ['chat', bot.url, '--api-port', '0'], 'hello\n')
  t.equal(chat.code, 0, `chat too: ${chat.stderr}`)
  t.match(chat.stdout, /echo hello/)

  const empty = mkdtempSync(join(tmpdir(), 'wx-envcli-'))
  const without = await cli(empty, ['verify', bot.url])
  t.equal(without.code, 1, 'without .env: no token')
  t.match(without.stderr, /No token: set WX_MP_TOKEN/)

  writeFileSync(join(empty, 'prod.env'), `WX_MP_TOKEN=${TOKEN}\n`)
  t.equal((await cli(empty, ['verify', bot.url, '--env', 'prod.env'])).code, 0, '--env names another file')
  t.equal((await cli(empty, ['verify', bot.url, '--env-file', 'prod.env'])).code, 0, '--env-file still works for a file that exists')

  const missing = await cli(empty, ['verify', bot.url, '--env', 'nope.env'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^wx-mp-svr: --env nope\.env: no such file/, 'a missing --env file is our error, naming the flag')
  const missingServe = await cli(empty, ['bot.mjs', '--env', 'nope.env'])
  t.equal(missingServe.code, 1)
  t.match(missingServe.stderr, /--env nope\.env: no such file/, 'the server says the same')
  const missingPlay = await cli(empty, ['play', 'bot.mjs', '--env', 'nope.env'])
  t.equal(missingPlay.code, 1)
  t.match(missingPlay.stderr, /--env nope\.env: no such file/, 'and play')

  // Node (20, 22 and 24) checks the file of any --env-file on its command line, even after the
  // script's name, and stops before our code runs: the README says to use --env.
  const nodeChecks = await cli(empty, ['verify', bot.url, '--env-file', 'nope.env'])
  t.equal(nodeChecks.code, 9, "a missing --env-file file: Node's own exit 9")
  t.match(nodeChecks.stderr, /nope\.env: not found/)
})

t.test('token and menu read the AppID, AppSecret and API address from .env', async (t) => {
  const api = await startMockApi({ preset: 'test', appId: 'wxenvtest', appSecret: 'envSecret0123456789abcdef0123456' })
  t.teardown(() => api.close())
  const dir = mkdtempSync(join(tmpdir(), 'wx-envapi-'))
  writeFileSync(join(dir, '.env'), `WX_MP_APPID=wxenvtest\nWX_MP_APPSECRET=envSecret0123456789abcdef0123456\nWX_MP_API_BASE_URL=${api.baseUrl}\n`)
  const token = await cli(dir, ['token'])
  t.equal(token.code, 0, `token: ${token.stderr}`)
  t.match(token.stdout, /access_token: OK \(appid wxenvtest/)
  t.notMatch(token.stdout + token.stderr, /envSecret/, 'the secret is not printed')

  const menu = await cli(dir, ['menu', 'show'])
  t.not(menu.code, 1, 'menu show got past configuration (the mock has no menu API: a WeChat error, exit 2)')
  t.notMatch(menu.stderr, /Set WX_MP_APPID and WX_MP_APPSECRET/)

  const empty = mkdtempSync(join(tmpdir(), 'wx-envapi-'))
  const none = await cli(empty, ['menu', 'show'])
  t.equal(none.code, 1, 'without .env: a configuration error')
  t.match(none.stderr, /Set WX_MP_APPID and WX_MP_APPSECRET/)
})
