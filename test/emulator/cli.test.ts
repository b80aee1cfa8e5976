// The CLI actions in-process: exit codes, human output, the --json shape, config errors, chat.
import { Readable } from 'node:stream'
import t from 'tap'
import { Command } from 'commander'
import { registerEmulatorCommands, runChat, runSend, runVerify, type EmulatorIo } from '../../src/cli/commands/emulator.js'
import { FAILURE_NOTICE } from '../../src/emulator/index.js'
import type { Message } from '../../src/core/index.js'
import { aesKey, appId, freePort, startStub, token, wellBehaved } from './stub.js'

function io(env: Record<string, string> = {}, input = ''): EmulatorIo & { out: () => string; err: () => string } {
  let out = ''
  let err = ''
  return {
    env,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    stdin: Readable.from([input]),
    out: () => out,
    err: () => err,
  }
}

const safeEnv = { WX_MP_TOKEN: token, WX_MP_AES_KEY: aesKey, WX_MP_APPID: appId }

t.test('send: human output and exit 0; safe mode from the environment', async (t) => {
  const messages: Message[] = []
  const stub = await startStub(t, wellBehaved({ mode: 'safe', messages, reply: () => 'pong' }))
  const cli = io(safeEnv)
  t.equal(await runSend(stub.url, 'ping', {}, cli), 0)
  t.match(cli.out(), /The phone shows:\n {2}│ pong\nAttempts:\n {2}1\. HTTP 200 · \d+ ms/)
  t.equal(stub.received[0]?.url.searchParams.get('encrypt_type'), 'aes')
})

t.test('send --json: the result object on success and on failure', async (t) => {
  const stub = await startStub(t, wellBehaved({ mode: 'plain', reply: () => 'pong' }))
  const ok = io({ WX_MP_TOKEN: token })
  t.equal(await runSend(stub.url, undefined, { json: true, text: 'ping', from: 'oUSER', to: 'gh_acc' }, ok), 0)
  const result = JSON.parse(ok.out())
  t.match(result, { ok: true, attempts: [{ status: 200, ms: Number }], reply: { msgType: 'text', content: 'pong' }, shown: 'pong', warnings: [] })
  t.equal(stub.received[0]?.url.searchParams.get('openid'), 'oUSER')

  const port = await freePort()
  const bad = io({ WX_MP_TOKEN: token })
  t.equal(await runSend(`http://127.0.0.1:${port}/`, 'ping', { json: true, attemptTimeoutMs: 200 }, bad), 1)
  const failure = JSON.parse(bad.out())
  t.match(failure, { ok: false, reply: null, shown: FAILURE_NOTICE, warnings: [{ code: 'CONNECTION_REFUSED', level: 'error' }] })
  t.same(failure.attempts.map((a: { status: number; error: string }) => [a.status, a.error]), [[0, 'refused'], [0, 'refused'], [0, 'refused']])
})

t.test('send: flags build each kind; --token overrides WX_MP_TOKEN', async (t) => {
  const messages: Message[] = []
  const stub = await startStub(t, wellBehaved({ mode: 'plain', messages }))
  const env = { WX_MP_TOKEN: 'wrongToken' }
  const sends = [
    { image: 'https://example.com/p.jpg' },
    { voice: true, recognition: '你好' },
    { video: true },
    { location: '39.9,116.4,天安门' },
    { link: 'https://example.com' },
    { event: 'subscribe', key: '42' },
    { event: 'CLICK', key: 'HELP' },
    { event: 'LOCATION', location: '23.1,113.3' },
    { event: 'scancode_push', key: 'K', scanResult: 'QR' },
  ]
  for (const flags of sends) t.equal(await runSend(stub.url, undefined, { token, ...flags }, io(env)), 0, JSON.stringify(flags))
  t.match(messages, [
    { msgType: 'image', picUrl: 'https://example.com/p.jpg' },
    { msgType: 'voice', recognition: '你好' },
    { msgType: 'video' },
    { msgType: 'location', locationX: '39.9', locationY: '116.4', label: '天安门' },
    { msgType: 'link', url: 'https://example.com' },
    { event: 'subscribe', eventKey: 'qrscene_42', qrScene: '42' },
    { event: 'CLICK', eventKey: 'HELP' },
    { event: 'LOCATION', latitude: '23.1', longitude: '113.3' },
    { event: 'scancode_push', scanCodeInfo: { scanResult: 'QR' } },
  ])
})

t.test('config errors: exit 1 naming the variable and the fix', async (t) => {
  const noToken = io()
  t.equal(await runSend('http://127.0.0.1:9/', 'hi', {}, noToken), 1)
  t.match(noToken.err(), /WX_MP_TOKEN.*--token/)
  const noAppId = io({ WX_MP_TOKEN: token, WX_MP_AES_KEY: aesKey })
  t.equal(await runSend('http://127.0.0.1:9/', 'hi', {}, noAppId), 1)
  t.match(noAppId.err(), /WX_MP_APPID.*--appid/)
  const safeNoKey = io({ WX_MP_TOKEN: token })
  t.equal(await runSend('http://127.0.0.1:9/', 'hi', { mode: 'safe', json: true }, safeNoKey), 1)
  t.match(safeNoKey.err(), /WX_MP_AES_KEY.*--aes-key/)
  t.match(JSON.parse(safeNoKey.out()), { error: { code: 'INVALID_CONFIG' } })
  const badKey = io({ WX_MP_TOKEN: token, WX_MP_AES_KEY: 'tooShort', WX_MP_APPID: appId })
  t.equal(await runSend('http://127.0.0.1:9/', 'hi', {}, badKey), 1)
  t.match(badKey.err(), /WX_MP_AES_KEY.*43/)
  const two = io({ WX_MP_TOKEN: token })
  t.equal(await runSend('http://127.0.0.1:9/', 'hi', { image: 'x' }, two), 1)
  t.match(two.err(), /one kind/)
  const noKey = io({ WX_MP_TOKEN: token })
  t.equal(await runSend('http://127.0.0.1:9/', undefined, { event: 'CLICK' }, noKey), 1)
  t.match(noKey.err(), /--key/)
  const nothing = io({ WX_MP_TOKEN: token })
  t.equal(await runSend('http://127.0.0.1:9/', undefined, {}, nothing), 1)
  t.match(nothing.err(), /Nothing to send/)
})

t.test('verify: exit 0 on ✓, 1 with the reason', async (t) => {
  const stub = await startStub(t, wellBehaved({ mode: 'plain' }))
  const good = io({ WX_MP_TOKEN: token, WX_MP_AES_KEY: 'ignored-for-verify' })
  t.equal(await runVerify(stub.url, {}, good), 0)
  t.match(good.out(), /^✓ URL verified/)
  const wrong = io()
  t.equal(await runVerify(stub.url, { token: 'otherToken' }, wrong), 1)
  t.match(wrong.out(), /✗ Verification fails \(HTTP 401/)
  const json = io({ WX_MP_TOKEN: token })
  t.equal(await runVerify(stub.url, { json: true }, json), 0)
  t.match(JSON.parse(json.out()), { ok: true, status: 200 })
})

t.test('chat with piped stdin: every line in order, commands, exit at EOF', async (t) => {
  const messages: Message[] = []
  const stub = await startStub(
    t,
    wellBehaved({ mode: 'compat', messages, reply: (m) => (m.msgType === 'text' ? `echo ${m.content}` : m.msgType === 'event' ? `event ${m.event}` : undefined) }),
  )
  const cli = io(safeEnv, 'hello\n/sub\n\n/click MENU\n/image https://example.com/a.png\n/loc 39.9,116.4\n/bogus\nbye')
  t.equal(await runChat(stub.url, { mode: 'compat', apiPort: 0 }, cli), 0)
  t.match(messages, [
    { msgType: 'text', content: 'hello' },
    { msgType: 'event', event: 'subscribe' },
    { msgType: 'event', event: 'CLICK', eventKey: 'MENU' },
    { msgType: 'image', picUrl: 'https://example.com/a.png' },
    { msgType: 'location', locationX: '39.9', locationY: '116.4' },
    { msgType: 'text', content: 'bye' },
  ])
  t.equal(new Set(messages.map((m) => m.fromUserName)).size, 1, 'one user')
  const out = cli.out()
  t.match(out, /▶ hello\n {2}◀ \[\d+ ms\] echo hello\n/)
  t.match(out, /◀ \[\d+ ms\] event subscribe/)
  t.match(out, /◀ \[\d+ ms\] \(no reply\)/)
  t.ok(out.indexOf('echo hello') < out.indexOf('echo bye'))
  t.match(cli.err(), /Unknown command \/bogus/)
})

t.test('chat: a failing server makes the exit code 1', async (t) => {
  const stub = await startStub(t, () => ({ status: 500 }))
  const cli = io({ WX_MP_TOKEN: token }, 'hi\n')
  t.equal(await runChat(stub.url, { attemptTimeoutMs: 200, apiPort: 0 }, cli), 1)
  t.match(cli.out(), new RegExp(`◀ \\[http_status ×3, \\d+ ms\\] ${FAILURE_NOTICE}`))
  t.match(cli.out(), /· attempt 1: http_status after \d+ ms — WeChat pushes again at once\n {2}· attempt 2: http_status/, 'the retries show as they happen')
})

t.test('registerEmulatorCommands adds verify, send and chat with their options', async (t) => {
  const program = new Command('wx-mp-svr')
  registerEmulatorCommands(program)
  const names = program.commands.map((c) => c.name())
  t.same(names, ['verify', 'send', 'chat'])
  const send = program.commands.find((c) => c.name() === 'send')!
  const flags = send.options.map((o) => o.long)
  for (const f of ['--mode', '--from', '--to', '--json', '--text', '--image', '--voice', '--recognition', '--video', '--location', '--link', '--event', '--key', '--ticket', '--token', '--aes-key', '--appid']) {
    t.ok(flags.includes(f), f)
  }
})

t.test('send and chat take --account, --api-port and --wait; the help says how to trust a self-signed certificate', async (t) => {
  const program = new Command('wx-mp-svr')
  registerEmulatorCommands(program)
  for (const name of ['send', 'chat']) {
    const command = program.commands.find((c) => c.name() === name)!
    const flags = command.options.map((o) => o.long)
    for (const f of ['--account', '--api-port', '--wait']) t.ok(flags.includes(f), `${name} ${f}`)
    t.same(command.options.find((o) => o.long === '--account')?.argChoices, ['test', 'personal', 'verified'])
    let help = ''
    command.configureOutput({ writeOut: (s) => (help += s) })
    command.outputHelp()
    t.match(help, /NODE_EXTRA_CA_CERTS=ca\.pem/, `${name} --help`)
    t.match(help, /WX_MP_API_BASE_URL/, `${name} --help`)
    t.match(help, /0 \/ 5 \/ 10 s/, `${name} --help`)
  }
})
