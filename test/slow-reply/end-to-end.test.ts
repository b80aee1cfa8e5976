/**
 * #11 once end to end in real time: our own server on 127.0.0.1, WeChat played by the emulator
 * (attempts at 0 / 5 / 10 s, each dropped at 5 s) and the mock WeChat API. Four strategies run
 * side by side, so the file takes about 16 s.
 */
import t, { type Test } from 'tap'

// Each scenario waits on WeChat's real 5-second schedule: run them side by side.
t.jobs = 4
import { createServer, type SlowReplyStrategy } from '../../src/index.js'
import { createEmulator, startMockApi, type MockApiPreset } from '../../src/emulator/index.js'

const TOKEN = 'e2eToken'
const APP_ID = 'wxE2E0000000000001'
const APP_SECRET = 'e2eSecret'

async function bot(
  t: Test,
  o: { strategy: SlowReplyStrategy; handlerMs: number; mock?: MockApiPreset },
): Promise<{ url: string; runs: () => number; api?: Awaited<ReturnType<typeof startMockApi>> }> {
  let runs = 0
  const api = o.mock ? await startMockApi({ preset: o.mock, appId: APP_ID, appSecret: APP_SECRET }) : undefined
  const app = await createServer({
    token: TOKEN,
    env: {},
    logger: false,
    slowReply: o.strategy,
    ...(api ? { appId: APP_ID, appSecret: APP_SECRET, apiBaseUrl: api.baseUrl } : {}),
    onMessage: (msg) => {
      runs++
      const q = msg.msgType === 'text' ? msg.content : ''
      return new Promise((resolve) => setTimeout(() => resolve(`answer to ${q}`), o.handlerMs))
    },
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await app.close()
    await api?.close()
  })
  const address = app.server.address() as { port: number }
  return { url: `http://127.0.0.1:${address.port}/wx`, runs: () => runs, api }
}

t.test('retry-window: a 12 s answer arrives passively on the third attempt', async (t) => {
  const b = await bot(t, { strategy: 'retry-window', handlerMs: 12_000 })
  const wechat = createEmulator({ url: b.url, token: TOKEN })
  const result = await wechat.send('q1')
  t.equal(result.ok, true, 'no failure notice')
  t.equal(result.shown, 'answer to q1')
  t.equal(result.attempts.length, 3)
  t.match(result.attempts.slice(0, 2), [{ error: 'timeout' }, { error: 'timeout' }], 'attempts 1 and 2 held until WeChat dropped them')
  t.equal(b.runs(), 1)
})

t.test('next-message: a placeholder, then the answer with the next message', async (t) => {
  const b = await bot(t, { strategy: 'next-message', handlerMs: 6_000 })
  const wechat = createEmulator({ url: b.url, token: TOKEN })
  const first = await wechat.send('q1')
  t.match(first.shown, /回答正在准备中/)
  await new Promise((r) => setTimeout(r, 2_500))
  const second = await wechat.send('继续')
  t.equal(second.shown, 'answer to q1')
  t.equal(b.runs(), 1)
})

t.test('customer-service on a verified account: success at the deadline, the answer by 客服', async (t) => {
  const b = await bot(t, { strategy: 'customer-service', handlerMs: 7_000, mock: 'verified' })
  const wechat = createEmulator({ url: b.url, token: TOKEN, mockApi: b.api })
  const result = await wechat.send('q1', { waitMs: 9_000 })
  t.equal(result.ok, true)
  t.same(
    result.messages.map((m) => [m.via, m.text]),
    [['customer-service', 'answer to q1']],
  )
  t.equal(b.api!.messages.length, 1, 'sent once')
  t.equal(b.runs(), 1)
})

t.test('auto with an AppSecret on a personal account: the 48001 probe at start makes it use the retry window', async (t) => {
  const b = await bot(t, { strategy: 'auto', handlerMs: 7_000, mock: 'personal' })
  const wechat = createEmulator({ url: b.url, token: TOKEN, mockApi: b.api })
  const first = await wechat.send('q1')
  t.equal(first.ok, true, 'no failure notice')
  t.equal(first.shown, 'answer to q1', 'a passive reply, on the second attempt')
  t.match(first.attempts[0], { error: 'timeout' }, 'the first attempt was held')
  t.equal(b.api!.messages.length, 0, 'nothing claimed as sent')
  t.equal(b.runs(), 1)
})
