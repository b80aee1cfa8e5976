/**
 * #11: every answer reaches the user, whatever the handler's duration and the strategy — passively,
 * with the next message, or by 客服 — the handler runs once, no answer is shown twice, and WeChat
 * never shows its failure notice. WeChat is simulated on a fake clock (attempts at 0 / 5 / 10 s,
 * each dropped at 5 s).
 */
import t from 'tap'
import { defaultSlowReplyTexts, type SlowReplyStrategy } from '../../src/index.js'
import { FAILURE_NOTICE, Sim, type Preset } from './wechat-sim.js'

interface Case {
  name: string
  strategy: SlowReplyStrategy
  preset?: Preset
  withSecret?: boolean
}

const cases: Case[] = [
  { name: 'auto, no AppSecret', strategy: 'auto', withSecret: false },
  { name: 'retry-window', strategy: 'retry-window' },
  { name: 'next-message', strategy: 'next-message' },
  { name: 'customer-service, verified', strategy: 'customer-service', preset: 'verified' },
  { name: 'auto + AppSecret, personal', strategy: 'auto', withSecret: true, preset: 'personal' },
]
const durations = [100, 3000, 8000, 12000, 14000, 20000, 45000]

/** Asks one question, waits for the handler, then fetches with "继续" until the answer arrived. */
async function conversation(c: Case, handlerMs: number): Promise<{ sim: Sim; texts: string[] }> {
  const sim = new Sim({ strategy: c.strategy, handlerMs, preset: c.preset, withSecret: c.withSecret })
  await sim.send('q1')
  if (sim.clock.now() - sim.clock.now() < handlerMs) await sim.step(Math.max(0, handlerMs + 1000 - sim.t), 500)
  for (let i = 0; i < 3 && !sim.texts().includes('answer to q1'); i++) {
    await sim.send('继续')
    await sim.step(1000, 500)
  }
  return { sim, texts: sim.texts() }
}

const table: string[] = []
for (const c of cases) {
  t.test(`slow answers, ${c.name}`, async (t) => {
    for (const d of durations) {
      const { sim, texts } = await conversation(c, d)
      t.equal(texts.filter((x) => x === 'answer to q1').length, 1, `${d} ms: the answer reached the user exactly once`)
      t.notOk(texts.includes(FAILURE_NOTICE), `${d} ms: WeChat never showed its failure notice`)
      t.equal(sim.runs, 1, `${d} ms: the handler ran once`)
      table.push(`| ${c.name} | ${d / 1000} s | ${sim.seen.map((s) => `${(s.at / 1000).toFixed(1)} s ${s.via}: ${s.text.replace(/\n/g, ' ')}`).join('<br>')} |`)
    }
  })
}

t.test('the who-saw-what-when table', async (t) => {
  t.ok(table.length === cases.length * durations.length)
  if (process.env['WX_MP_PRINT_TABLE']) console.log(table.join('\n'))
})

t.test('a 10 000-byte answer arrives complete, in order, in parts of at most 2048 bytes, in every strategy', async (t) => {
  const long = Array.from({ length: 120 }, (_, i) => `第${String(i).padStart(2, '0')}段：${'好'.repeat(25)}。`).join('\n')
  t.ok(Buffer.byteLength(long) >= 10_000)
  for (const c of cases) {
    for (const d of [100, 8000, 20000]) {
      const sim = new Sim({ strategy: c.strategy, handlerMs: d, preset: c.preset === 'personal' ? 'personal' : 'test', withSecret: c.withSecret, answer: long })
      await sim.send('long')
      await sim.step(Math.max(0, d + 1000 - sim.t), 500)
      for (let i = 0; i < 12; i++) {
        await sim.send('继续')
        await sim.step(500, 500)
      }
      const parts = sim.texts().filter((x) => x.includes('段：'))
      for (const p of parts) t.ok(Buffer.byteLength(p) <= 2048, `${c.name} ${d} ms: a part of ${Buffer.byteLength(p)} bytes`)
      const body = parts.map((p) => p.replace(/\n\n（\d+\/\d+）(回复任意内容继续)?(\n\n还有 \d+ 段回答，回复任意内容获取。)?$/, '')).join('')
      t.equal(body, long, `${c.name} ${d} ms: the parts joined give the whole answer, in order`)
      t.equal(sim.runs, 1)
    }
  }
})

t.test('a second question while the first answer is pending: both answers, in order', async (t) => {
  for (const strategy of ['next-message', 'retry-window'] as const) {
    const sim = new Sim({ strategy, handlerMs: 30_000 })
    await sim.send('q1')
    await sim.send('q2') // the first is still in the works
    await sim.step(65_000, 1000)
    for (let i = 0; i < 3; i++) {
      await sim.send('继续')
      await sim.step(500, 500)
    }
    const texts = sim.texts()
    const a1 = texts.findIndex((x) => x.startsWith('answer to q1'))
    const a2 = texts.findIndex((x) => x.startsWith('answer to q2'))
    t.ok(a1 >= 0 && a2 > a1, `${strategy}: both answers, q1's first (${JSON.stringify(texts)})`)
    t.equal(sim.runs, 2, `${strategy}: each question ran once`)
    t.notOk(texts.includes(FAILURE_NOTICE))
  }
})

t.test('customer-service errors lose nothing: 48001, 45015, 45047 and a network failure', async (t) => {
  for (const failure of [48001, 45015, 45047, 'network'] as const) {
    const sim = new Sim({ strategy: 'customer-service', handlerMs: 8000, preset: 'verified' })
    await sim.send('q1')
    sim.api.failNext = failure
    await sim.step(5000, 500)
    // The typing indicator at the deadline took the failure when it came first; make the send fail too.
    if (sim.api.failNext === undefined && failure !== 48001) sim.api.failNext = failure
    await sim.step(5000, 500)
    await sim.send('继续')
    const texts = sim.texts()
    t.equal(texts.filter((x) => x === 'answer to q1').length, 1, `${failure}: the answer reached the user once (${JSON.stringify(texts)})`)
    t.equal(sim.runs, 1)
  }
})

t.test('a fetch word with nothing ready says how long the answer has been in the works; with nothing pending, that nothing is', async (t) => {
  const sim = new Sim({ strategy: 'next-message', handlerMs: 60_000 })
  await sim.send('q1')
  await sim.step(10_000, 1000)
  await sim.send('继续')
  t.match(sim.texts().at(-1), /回答还在准备中（已 \d+ 秒）/)
  await sim.step(60_000, 1000)
  await sim.send('继续')
  t.equal(sim.texts().at(-1), 'answer to q1')
  await sim.send('继续')
  t.equal(sim.texts().at(-1), defaultSlowReplyTexts.nothingPending)
  t.equal(sim.runs, 1, 'fetch words never ran the handler')
})

t.test('a menu click gets the waiting answer too, and runs its own handler', async (t) => {
  const sim = new Sim({ strategy: 'next-message', handlerMs: 6000 })
  await sim.send('q1')
  await sim.step(5000, 500)
  await sim.send('', { event: 'CLICK' })
  t.match(sim.texts().at(-1), /^answer to q1/)
})

t.test('a handler past the job timeout is given up; the user is told on the next push', async (t) => {
  const sim = new Sim({ strategy: 'next-message', handlerMs: 10 * 60_000, extra: { jobTimeoutMs: 30_000 } })
  await sim.send('q1')
  await sim.step(40_000, 1000)
  await sim.send('继续')
  t.match(sim.texts().at(-1), /超过 30 秒仍未处理完/)
  t.equal(sim.dispatcher.pending, 0, 'nothing of the run is kept')
})

t.test('auto stops holding above the alarm threshold, and says so once', async (t) => {
  const warnings: string[] = []
  const log = {
    debug: () => undefined,
    info: () => undefined,
    warn: (o: unknown, m?: string) => void warnings.push(String(m ?? o)),
    error: () => undefined,
    child: () => log,
  }
  const sim = new Sim({ strategy: 'auto', handlerMs: 20_000, withSecret: false, extra: { heldAlarmThreshold: 2, log } })
  await sim.send('q1')
  t.same(sim.outcomes.slice(0, 2), ['held', 'held'], 'the first push was held twice')
  await sim.step(10_000, 1000)
  await sim.send('继续')
  t.equal(sim.texts().at(-1), 'answer to q1')
  sim.outcomes.length = 0
  await sim.send('q2')
  t.equal(sim.outcomes[0], 'placeholder', 'then a placeholder instead of holding')
  t.equal(warnings.filter((w) => /attempts held within 5 minutes/.test(w)).length, 1, 'one warning for the switch')
})
