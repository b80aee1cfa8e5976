import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import t, { type Test } from 'tap'
import { registerApiCommands, runMenuPush, runMenuShow, runToken, type ApiCliIo } from '../../src/cli/commands/api.js'
import { harness, T0 } from './harness.js'

function capture(env: Record<string, string | undefined>, now?: () => number): ApiCliIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    env,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    ...(now ? { now } : {}),
    out: () => out,
    err: () => err,
  }
}

async function setup(t: Test) {
  const h = await harness(t)
  const env = { WX_MP_APPID: h.server.appId, WX_MP_APPSECRET: h.server.appSecret, WX_MP_API_BASE_URL: h.server.baseUrl }
  const dir = await mkdtemp(join(tmpdir(), 'wx-mp-cli-'))
  return { h, env, dir }
}

const MENU = { button: [{ type: 'click', name: '今日歌曲', key: 'V1001_TODAY_MUSIC' }, { type: 'view', name: '搜索', url: 'https://www.soso.com/' }] }

t.test('menu push reads the file and creates the menu; menu show prints it back', async (t) => {
  const { h, env, dir } = await setup(t)
  const file = join(dir, 'menu.json')
  await writeFile(file, JSON.stringify(MENU))
  const io = capture(env)
  t.equal(await runMenuPush(file, {}, io), 0)
  t.match(io.out(), /menu pushed: 2 top-level button\(s\), 0 sub-button\(s\)/)
  t.same(h.server.requestsTo('/cgi-bin/menu/create')[0]?.body, MENU)

  const io2 = capture(env)
  t.equal(await runMenuShow({}, io2), 0)
  const shown = JSON.parse(io2.out()) as { menu: { button: unknown[] } }
  t.same(shown.menu.button, MENU.button)

  // What `menu show` prints can be pushed again.
  const again = join(dir, 'shown.json')
  await writeFile(again, io2.out())
  t.equal(await runMenuPush(again, {}, capture(env)), 0)
  t.same(h.server.requestsTo('/cgi-bin/menu/create')[1]?.body, MENU)
})

t.test('token prints status and expiry, the token only with --show', async (t) => {
  const { h, env } = await setup(t)
  const io = capture(env, () => T0)
  t.equal(await runToken({}, io), 0)
  const token = h.server.currentStableToken as string
  t.match(io.out(), /access_token: OK/)
  t.match(io.out(), /stable_token/)
  t.match(io.out(), `expires in:   7200 s (at ${new Date(T0 + 7200_000).toISOString()})`)
  t.notMatch(io.out(), token, 'token hidden by default')
  t.equal(io.err(), '')

  const shown = capture(env, () => T0)
  t.equal(await runToken({ show: true }, shown), 0)
  t.match(shown.out(), token)
  t.equal((h.server.requestsTo('/cgi-bin/stable_token')[1]?.body as { force_refresh: boolean }).force_refresh, false, 'never force-refreshes by default')
})

t.test('missing environment: exit code 1, naming the variable and the fix', async (t) => {
  const { env } = await setup(t)
  const noSecret = capture({ ...env, WX_MP_APPSECRET: undefined })
  t.equal(await runToken({}, noSecret), 1)
  t.match(noSecret.err(), /WX_MP_APPSECRET/)
  t.match(noSecret.err(), /export WX_MP_APPSECRET|--secret/)
  const noAppId = capture({})
  t.equal(await runMenuShow({}, noAppId), 1)
  t.match(noAppId.err(), /WX_MP_APPID/)
  t.equal(await runMenuPush('/nonexistent/menu.json', {}, capture({})), 1)
})

t.test('--appid/--secret/--base-url override the environment', async (t) => {
  const { h } = await setup(t)
  const io = capture({})
  t.equal(await runToken({ appid: h.server.appId, secret: h.server.appSecret, baseUrl: h.server.baseUrl }, io), 0)
})

t.test('WeChat errors print errcode, errmsg and hint (exit 2); bad files exit 1', async (t) => {
  const { h, env, dir } = await setup(t)
  h.server.failNext('/cgi-bin/stable_token', 40164, 'invalid ip 203.0.113.9, not in whitelist rid: 1')
  const io = capture(env)
  t.equal(await runToken({}, io), 2)
  t.match(io.err(), /errcode: 40164/)
  t.match(io.err(), /errmsg:\s+invalid ip 203\.0\.113\.9/)
  t.match(io.err(), /hint:\s+.*whitelist/)
  t.notMatch(io.err(), h.server.appSecret)

  const show = capture(env)
  t.equal(await runMenuShow({}, show), 2)
  t.match(show.err(), /errcode: 46003/)

  const notJson = join(dir, 'bad.json')
  await writeFile(notJson, '{ button: ')
  const bad = capture(env)
  t.equal(await runMenuPush(notJson, {}, bad), 1)
  t.match(bad.err(), /not valid JSON/)
  const invalid = join(dir, 'invalid.json')
  await writeFile(invalid, JSON.stringify({ button: [{ type: 'click', name: 'no key' }] }))
  const inv = capture(env)
  t.equal(await runMenuPush(invalid, {}, inv), 1)
  t.match(inv.err(), /needs "key"/)
  t.equal(h.server.requestsTo('/cgi-bin/menu/create').length, 0)
})

t.test('registerApiCommands wires menu push/show and token into commander', async (t) => {
  const { h, env, dir } = await setup(t)
  const file = join(dir, 'menu.json')
  await writeFile(file, JSON.stringify(MENU))
  const io = capture(env)
  const program = new Command('wx-mp-svr').exitOverride()
  registerApiCommands(program, io)
  const saved = process.exitCode
  t.teardown(() => {
    process.exitCode = saved
  })
  await program.parseAsync(['menu', 'push', file], { from: 'user' })
  t.equal(process.exitCode, 0)
  await program.parseAsync(['menu', 'show'], { from: 'user' })
  await program.parseAsync(['token', '--show'], { from: 'user' })
  t.match(io.out(), /menu pushed/)
  t.match(io.out(), /"menuid": 208396938/)
  t.match(io.out(), h.server.currentStableToken as string)
  await program.parseAsync(['token', '--appid', 'wxother'], { from: 'user' })
  t.equal(process.exitCode, 2)
  t.match(io.err(), /errcode: 40013/)
  process.exitCode = 0
})
