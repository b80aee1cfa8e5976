// End to end: a bot that answers the push, then delivers the rest with the customer-service API
// — to the emulator's mock WeChat API — and what the user sees, in order, with times: through
// createEmulator, `send --wait` and `chat`.
import { Readable } from 'node:stream'
import t from 'tap'
import { WxMpApi } from '../../src/api/index.js'
import { runChat, runSend, type EmulatorIo } from '../../src/cli/commands/emulator.js'
import { createEmulator, startMockApi, type SendResult } from '../../src/emulator/index.js'
import type { Message } from '../../src/core/index.js'
import { freePort, startStub, token, wellBehaved, type Handler } from './stub.js'

interface LateBot {
  handler: Handler
  /** errcodes (or 0) of the bot's customer-service calls, in order. */
  outcomes: number[]
  settled: () => Promise<void>
}

/**
 * A bot that answers `reply` (or success) at once, then sends each of `later` as a
 * customer-service message at its time (ms after the push), through the kit's own API client.
 */
function lateBot(baseUrl: () => string, later: Array<[number, string]>, reply?: string, typing = false): LateBot {
  const outcomes: number[] = []
  const pending: Promise<void>[] = []
  const answer = wellBehaved({
    mode: 'plain',
    reply: (msg: Message) => {
      const api = new WxMpApi({ appId: 'wxBOT0000000000001', appSecret: 'botSecret', baseUrl: baseUrl(), env: {}, retries: 0 })
      if (typing) pending.push(api.setTyping(msg.fromUserName, true).then(() => void outcomes.push(0)))
      for (const [ms, text] of later) {
        pending.push(
          new Promise<void>((resolve) => setTimeout(resolve, ms))
            .then(() => api.sendCustomMessage(msg.fromUserName, text))
            .then(
              () => void outcomes.push(0),
              (err: { errcode?: number }) => void outcomes.push(err.errcode ?? -1),
            ),
        )
      }
      return reply
    },
  })
  return { handler: answer, outcomes, settled: async () => void (await Promise.all(pending)) }
}

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

const botEnv = { WX_MP_TOKEN: token, WX_MP_APPID: 'wxBOT0000000000001', WX_MP_APPSECRET: 'botSecret' }

t.test('createEmulator with a mock API: the reply, then 客服 messages, in order, with times', async (t) => {
  const api = await startMockApi({ preset: 'verified', appId: 'wxBOT0000000000001', appSecret: 'botSecret' })
  t.teardown(() => api.close())
  const bot = lateBot(() => api.baseUrl, [[150, 'part 1'], [350, 'part 2']], 'thinking…')
  const stub = await startStub(t, bot.handler)
  const wechat = createEmulator({ url: stub.url, token, mockApi: api })
  t.equal(wechat.mockApi, api)
  const result = await wechat.send('question', { waitMs: 900 })
  t.equal(result.ok, true)
  t.equal(result.shown, 'thinking…')
  t.same(
    result.messages.map((m) => [m.via, m.text]),
    [
      ['reply', 'thinking…'],
      ['customer-service', 'part 1'],
      ['customer-service', 'part 2'],
    ],
  )
  const [reply, first, second] = result.messages
  t.ok(reply!.at < 150, `the reply first (${reply!.at} ms)`)
  t.ok(first!.at >= 140 && first!.at < 800, `part 1 at ${first!.at} ms`)
  t.ok(second!.at >= first!.at, `part 2 at ${second!.at} ms`)
  t.same(bot.outcomes, [0, 0])
  t.same(api.messages.map((m) => m.openId), [wechat.fromUserName, wechat.fromUserName], 'to the user who wrote')
})

t.test('without a push the mock refuses (45015); a push opens the window', async (t) => {
  const api = await startMockApi({ preset: 'verified', appId: 'wxBOT0000000000001', appSecret: 'botSecret' })
  t.teardown(() => api.close())
  const client = new WxMpApi({ appId: api.appId, appSecret: api.appSecret, baseUrl: api.baseUrl, env: {}, retries: 0 })
  const wechat = createEmulator({ url: (await startStub(t, () => ({ body: 'success' }))).url, token, mockApi: api })
  const errcodeOf = (p: Promise<void>): Promise<unknown> => p.then(() => 0, (err: { errcode?: number }) => err.errcode)
  t.equal(await errcodeOf(client.sendCustomMessage(wechat.fromUserName, 'unasked')), 45015)
  await wechat.send({ msgType: 'event', event: 'VIEW', eventKey: 'https://example.com' })
  t.equal(await errcodeOf(client.sendCustomMessage(wechat.fromUserName, 'after a VIEW')), 45015, 'a VIEW tap opens no window')
  await wechat.send({ msgType: 'event', event: 'CLICK', eventKey: 'K' })
  await client.sendCustomMessage(wechat.fromUserName, 'after a click')
  t.same(api.messages.map((m) => m.text), ['after a click'])
})

t.test('send --wait: the timeline in the report and in --json, 客服 marked, until the wait', async (t) => {
  const port = await freePort()
  const bot = lateBot(() => `http://127.0.0.1:${port}`, [[300, '这是慢回答']])
  const stub = await startStub(t, bot.handler)
  const cli = io(botEnv)
  const started = Date.now()
  t.equal(await runSend(stub.url, undefined, { text: '问题', wait: 1, apiPort: port, account: 'verified', json: true }, cli), 0)
  t.ok(Date.now() - started >= 950, 'listened until the wait')
  const result = JSON.parse(cli.out()) as SendResult
  t.equal(result.shown, '', 'the passive answer was success')
  t.match(result.messages, [{ via: 'customer-service', text: '这是慢回答', at: Number }])
  t.ok(result.messages[0]!.at >= 290 && result.messages[0]!.at < 1000)
  t.match(cli.err(), new RegExp(`Mock WeChat API at http://127\\.0\\.0\\.1:${port} — 认证号`))
  t.match(cli.err(), new RegExp(`WX_MP_API_BASE_URL=http://127\\.0\\.0\\.1:${port} WX_MP_APPID=wxBOT0000000000001 WX_MP_APPSECRET=…`), 'the bot\'s secret is not printed')
  t.notMatch(cli.err() + cli.out(), /botSecret/)
  await bot.settled()

  const human = io(botEnv)
  const bot2 = lateBot(() => `http://127.0.0.1:${port}`, [[200, 'late one']], 'quick')
  const stub2 = await startStub(t, bot2.handler)
  t.equal(await runSend(stub2.url, 'hi', { wait: 0.8, apiPort: port }, human), 0)
  t.match(human.out(), /What the user sees, in order \(listened 0\.8 s\):\n {4}\+0\.\d s {2}reply {2}quick\n {4}\+0\.\d s {2}客服 {3}late one\n/)
  await bot2.settled()
})

t.test('send --wait on a personal account: the 客服 call fails 48001 and the user sees only the reply', async (t) => {
  const port = await freePort()
  const bot = lateBot(() => `http://127.0.0.1:${port}`, [[100, 'never arrives']], 'placeholder')
  const stub = await startStub(t, bot.handler)
  const cli = io({ WX_MP_TOKEN: token })
  // The mock's default credentials (no WX_MP_APPID/APPSECRET in the environment) are printed.
  t.equal(await runSend(stub.url, 'hi', { wait: 0.5, apiPort: port, account: 'personal' }, cli), 0)
  t.match(cli.err(), /个人订阅号/)
  t.match(cli.err(), /AppID wx0000000000000000, AppSecret 0{32} \(the mock's defaults\)/)
  t.match(cli.out(), /What the user sees, in order \(listened 0\.5 s\):\n {4}\+0\.\d s {2}reply {2}placeholder\n(?! )/)
  await bot.settled()
})

t.test('send: bad --wait / --account / taken --api-port are config errors', async (t) => {
  const port = await freePort()
  const taken = await startMockApi({ port })
  t.teardown(() => taken.close())
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ wait: 'soon' }, /--wait takes seconds/],
    [{ account: 'enterprise' }, /--account must be test, personal, verified/],
    [{ apiPort: 'x' }, /--api-port must be a port/],
    [{ account: 'test', apiPort: port }, new RegExp(`127\\.0\\.0\\.1:${port}: the port is in use.*--api-port 0`)],
  ]
  for (const [flags, message] of cases) {
    const cli = io({ WX_MP_TOKEN: token })
    t.equal(await runSend('http://127.0.0.1:9/', 'hi', flags, cli), 1)
    t.match(cli.err(), message)
  }
})

t.test('chat: the reply bubble, then the 客服 bubble as it arrives; --wait after the last line', async (t) => {
  const port = await freePort()
  const bot = lateBot(() => `http://127.0.0.1:${port}`, [[400, '完整的回答']], '正在思考，请稍候', true)
  const stub = await startStub(t, bot.handler)
  const cli = io(botEnv, '你好\n')
  t.equal(await runChat(stub.url, { apiPort: port, wait: 1 }, cli), 0)
  const out = cli.out()
  t.match(out, new RegExp(`Mock WeChat API at http://127\\.0\\.0\\.1:${port} — 测试号`))
  t.match(out, /▶ 你好\n {2}◀ \[\d+ ms\] 正在思考，请稍候\n/)
  t.match(out, / {2}◀ 客服 \[\+0\.\d s\] 完整的回答\n/)
  t.match(out, / {2}… 对方正在输入 \(typing\)\n/, 'the typing indicator shows')
  t.ok(out.indexOf('正在输入') < out.indexOf('完整的回答'))
  t.ok(out.indexOf('正在思考') < out.indexOf('完整的回答'))
  await bot.settled()
  t.same(bot.outcomes, [0, 0])
})

t.test('chat: a taken --api-port is an error naming the flag; --api-port 0 takes any free port', async (t) => {
  const port = await freePort()
  const taken = await startMockApi({ port })
  t.teardown(() => taken.close())
  const stub = await startStub(t, wellBehaved({ mode: 'plain', reply: () => 'pong' }))
  const refused = io({ WX_MP_TOKEN: token }, 'ping\n')
  t.equal(await runChat(stub.url, { apiPort: port }, refused), 1)
  t.match(refused.err(), /the port is in use.*--api-port/)
  const cli = io({ WX_MP_TOKEN: token }, 'ping\n')
  t.equal(await runChat(stub.url, { apiPort: 0 }, cli), 0)
  t.match(cli.out(), /◀ \[\d+ ms\] pong/)
})
