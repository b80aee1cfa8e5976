/**
 * The exported test's plan: stretches of equal settings, the pauses a slow answer needs, the
 * customer-service messages it waits for, and tap's timeout.
 */
import t from 'tap'
import { estimateReplayMs, exportFileName, renderExportedTest, replaySegments } from '../../src/playground/export-test.js'
import type { Bubble, ExchangeRecord, PlaygroundSettings } from '../../src/playground/session.js'

const plain: PlaygroundSettings = { mode: 'plain', account: 'test', strategy: 'auto' }
const safeCs: PlaygroundSettings = { mode: 'safe', account: 'verified', strategy: 'customer-service' }

function exchange(id: number, sentAt: number, settings: PlaygroundSettings, extra: Partial<ExchangeRecord> = {}): ExchangeRecord {
  return {
    id,
    label: `m${id}`,
    input: { msgType: 'text', content: `m${id}` },
    settings,
    sentAt,
    status: 'done',
    problems: [],
    attempts: [],
    handlerRuns: [{ start: 1, end: 2 }],
    ok: true,
    endedMs: 20,
    ...extra,
  }
}

function bubble(id: number, exchangeId: number, from: Bubble['from'], at: number, text: string): Bubble {
  return { id, exchangeId, from, at, text, card: { kind: 'text', text } }
}

const context = {
  handlerFile: 'bots/my bot.ts',
  token: 'tok',
  aesKey: 'k'.repeat(43),
  appId: 'wx0000000000000000',
  appSecret: 's',
  fromUserName: 'oUser',
  toUserName: 'gh_1',
  exportedAt: new Date(0),
}

t.test('one subtest per stretch of equal settings; undelivered pushes are left out', async (t) => {
  const exchanges = [
    exchange(1, 1000, plain),
    exchange(2, 2000, plain),
    exchange(3, 3000, safeCs),
    exchange(4, 4000, safeCs, { status: 'sending' }),
    exchange(5, 5000, plain, { error: 'refused' }),
    exchange(6, 6000, plain),
  ]
  const bubbles = [bubble(1, 1, 'user', 1000, 'm1'), bubble(2, 1, 'bot', 1020, 'r1'), bubble(3, 3, 'notice', 3020, '该公众号暂时无法提供服务，请稍后再试')]
  const segments = replaySegments({ exchanges, bubbles })
  t.same(
    segments.map((s) => [s.settings.mode, s.steps.map((step) => step.label)]),
    [
      ['plain', ['m1', 'm2']],
      ['safe', ['m3']],
      ['plain', ['m6']],
    ],
  )
  t.same(segments[0]!.steps[0]!.messages, [{ via: 'reply', text: 'r1' }])
  t.same(segments[1]!.steps[0]!.messages, [{ via: 'notice', text: '该公众号暂时无法提供服务，请稍后再试' }])
})

t.test('a slow answer fetched later: the replay pauses until the run had ended, no longer than the user did', async (t) => {
  // m1's handler ran until 6 s after it was sent; the user sent m2 at 9 s, m3 right after m2.
  const exchanges = [
    exchange(1, 10_000, plain, { endedMs: 4_500, handlerRuns: [{ start: 5, end: 6_000 }] }),
    exchange(2, 19_000, plain, { endedMs: 10 }),
    exchange(3, 19_100, plain, { endedMs: 10 }),
  ]
  const [segment] = replaySegments({ exchanges, bubbles: [] })
  t.same(
    segment!.steps.map((s) => s.pauseMs),
    [0, 2_000, 0],
    'm2 waits from the end of m1 (14.5 s) to the run end (16 s) plus a margin',
  )
  const impatient = [exchange(1, 10_000, plain, { endedMs: 4_500, handlerRuns: [{ start: 5, end: 6_000 }] }), exchange(2, 15_000, plain)]
  t.same(replaySegments({ exchanges: impatient, bubbles: [] })[0]!.steps.map((s) => s.pauseMs), [0, 0], 'sent before the run ended: no pause')
})

t.test('customer-service messages after the delivery: the replay listens for them', async (t) => {
  const exchanges = [exchange(1, 10_000, safeCs, { endedMs: 4_500 })]
  const bubbles = [bubble(1, 1, 'user', 10_000, 'm1'), bubble(2, 1, 'kefu', 16_040, '（6 秒后的回答）')]
  const [segment] = replaySegments({ exchanges, bubbles })
  t.same(segment!.steps[0]!.messages, [{ via: 'customer-service', text: '（6 秒后的回答）' }])
  t.equal(segment!.steps[0]!.waitMs, 8_100, 'the last one came 6.04 s after the send; 2 s of margin, rounded up')
})

t.test('the file: the handler path, the secrets, and tap\'s default timeout unless the conversation is longer', async (t) => {
  const short = { exchanges: [exchange(1, 1000, plain)], bubbles: [bubble(1, 1, 'bot', 1020, 'r1')] }
  const file = renderExportedTest(short, context)
  t.match(file, 'const handlerFile = resolve(process.cwd(), "bots/my bot.ts")')
  t.match(file, "import { createEmulator, startMockApi } from 'wx-mp-svr/emulator'")
  t.match(file, '"token":"tok"')
  t.notMatch(file, 't.setTimeout(')
  t.ok(estimateReplayMs(short) < 30_000)
  const long = {
    exchanges: [exchange(1, 0, plain, { endedMs: 14_000 }), exchange(2, 20_000, safeCs, { endedMs: 14_000 })],
    bubbles: [],
  }
  t.equal(estimateReplayMs(long), 2 * 3_000 + 28_000)
  t.match(renderExportedTest(long, context), /\/\/ The conversation took about 34 s, more than tap's default timeout allows\.\nt\.setTimeout\(49000\)/)
  t.equal(exportFileName('bots/my bot.ts'), 'my-bot.playground.test.mjs')
  t.equal(exportFileName('demo/demo.ts'), 'demo.playground.test.mjs')
})
