// WeChat's delivery schedule: attempts at 0 / 5 / 10 s on new connections with the same query and
// body, an immediate re-push after an early failure, the end at the first valid answer. The
// schedule itself runs on a fake clock (no sockets, no waiting); the connection-level facts run
// over HTTP with a shortened deadline.
import t from 'tap'
import { deliver, type AnswerReading } from '../../src/emulator/attempts.js'
import type { Exchange, ExchangeOptions } from '../../src/emulator/transport.js'
import { createEmulator, FAILURE_NOTICE } from '../../src/emulator/index.js'
import { problem } from '../../src/emulator/problems.js'
import { startStub, token, wellBehaved, type Received } from './stub.js'

/** A fake clock and a transport whose answers take fake time. */
function fakeWorld(answers: Array<Partial<Exchange> & { takesMs: number }>) {
  let clock = 0
  const seen: Array<{ url: string; body: string | undefined; at: number; timeoutMs: number }> = []
  const exchange = async (url: URL, options: ExchangeOptions): Promise<Exchange> => {
    seen.push({ url: url.href, body: options.body, at: clock, timeoutMs: options.timeoutMs })
    const next = answers.shift() ?? { takesMs: options.timeoutMs, error: 'timeout' }
    const ms = Math.min(next.takesMs, options.timeoutMs)
    clock += ms
    if (next.takesMs >= options.timeoutMs) return { status: 0, ms, body: '', error: 'timeout' }
    const { takesMs: _, ...rest } = next
    return { status: 200, body: '', ...rest, ms }
  }
  const sleep = async (ms: number): Promise<void> => {
    clock += ms
  }
  return { exchange, sleep, now: () => clock, seen }
}

const url = new URL('http://bot.example/wx?signature=s&timestamp=1&nonce=n&openid=o')
const xml = '<xml><MsgId>1</MsgId></xml>'

t.test('a server that never answers: 3 attempts at 0 / 5 / 10 s, same URL and body, then nothing', async (t) => {
  const world = fakeWorld([])
  const delivery = await deliver(url, xml, { timeoutMs: 5000, maxAttempts: 3, ...world })
  t.same(delivery.attempts, [
    { at: 0, status: 0, ms: 5000, error: 'timeout' },
    { at: 5000, status: 0, ms: 5000, error: 'timeout' },
    { at: 10000, status: 0, ms: 5000, error: 'timeout' },
  ])
  t.equal(delivery.answer, undefined)
  t.same(new Set(world.seen.map((s) => s.url)), new Set([url.href]), 'the identical query string')
  t.same(new Set(world.seen.map((s) => s.body)), new Set([xml]), 'the identical body')
  t.same(world.seen.map((s) => s.timeoutMs), [5000, 5000, 5000])
  t.same(delivery.problems.map((p) => p.code), ['TIMEOUT'])
  t.match(delivery.problems[0]?.message, /^Attempts 1, 2, 3: /)
})

t.test('a non-200 answer is re-pushed at once, not after 5 s', async (t) => {
  const world = fakeWorld([{ takesMs: 40, status: 502, error: 'http_status', body: 'Bad Gateway' }, { takesMs: 30, body: 'success' }])
  const delivery = await deliver(url, xml, { timeoutMs: 5000, maxAttempts: 3, repushDelayMs: 300, ...world })
  t.same(delivery.attempts, [
    { at: 0, status: 502, ms: 40, error: 'http_status' },
    { at: 340, status: 200, ms: 30 },
  ])
  t.ok(delivery.attempts[1]!.at - (delivery.attempts[0]!.at + delivery.attempts[0]!.ms) < 1000, 're-push under 1 s after the failure')
  t.equal(delivery.answer?.body, 'success')
})

t.test('mixed: a timeout, a refused reply re-pushed at once, the valid answer ends the delivery', async (t) => {
  const judge = (ex: Exchange): AnswerReading =>
    ex.body === 'garbage' ? { accepted: false, problems: [problem('MALFORMED_XML', 'not XML')] } : { accepted: true, problems: [] }
  const world = fakeWorld([{ takesMs: 9000 }, { takesMs: 10, body: 'garbage' }, { takesMs: 10, body: 'success' }, { takesMs: 10, body: 'never asked' }])
  const delivery = await deliver(url, xml, { timeoutMs: 5000, maxAttempts: 3, repushDelayMs: 200, judge, ...world })
  t.same(
    delivery.attempts.map((a) => [a.at, a.error ?? 'ok']),
    [
      [0, 'timeout'],
      [5000, 'invalid_reply'],
      [5210, 'ok'],
    ],
  )
  t.equal(world.seen.length, 3, 'no attempt after the valid answer')
  t.same(delivery.problems.map((p) => p.code), ['TIMEOUT', 'MALFORMED_XML'])
  t.same(delivery.reading, { accepted: true, problems: [] })
})

t.test('a proxy 502/504 page: "is the bot running?", never the raw HTML', async (t) => {
  const page = '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n'
  for (const status of [502, 504]) {
    const world = fakeWorld([1, 2, 3].map(() => ({ takesMs: 5, status, error: 'http_status' as const, body: page.replace(/502 Bad Gateway/g, `${status} Gateway`), contentType: 'text/html' })))
    const delivery = await deliver(url, xml, { timeoutMs: 5000, maxAttempts: 3, ...world })
    const message = delivery.problems[0]?.message ?? ''
    t.match(message, /the server behind the proxy is not answering: is the bot running/i)
    t.match(message, new RegExp(`HTTP ${status}`))
    t.notMatch(message, /<html|<center|nginx\/1/, 'no raw HTML')
  }
  // The bot's own 503 with a plain body is still shown as it is.
  const own = fakeWorld([{ takesMs: 5, status: 503, error: 'http_status', body: 'maintenance' }])
  const delivery = await deliver(url, xml, { timeoutMs: 5000, maxAttempts: 1, ...own })
  t.match(delivery.problems[0]?.message, /HTTP 503.*"maintenance"/)
})

t.test('SLOW_REPLY: silent at the kit\'s own 4.5 s answer, a warning above 4.8 s', async (t) => {
  for (const [ms, warned] of [
    [4500, false],
    [4790, false],
    [4850, true],
  ] as const) {
    const wechat = createEmulator({ url: 'http://bot.example/wx', token, exchange: async () => ({ status: 200, ms, body: 'success' }) })
    const result = await wechat.send('hi')
    t.equal(result.warnings.some((w) => w.code === 'SLOW_REPLY'), warned, `${ms} ms`)
    t.equal(result.ok, true)
  }
})

t.test('over HTTP: a new connection per attempt, identical query and body, dropped at the deadline', async (t) => {
  const stub = await startStub(t, () => ({ delayMs: 2000 }))
  const wechat = createEmulator({ url: stub.url, token, attemptTimeoutMs: 200, repushDelayMs: 10 })
  const result = await wechat.send('hi')
  t.equal(result.ok, false)
  t.equal(result.shown, FAILURE_NOTICE)
  t.same(result.messages, [{ at: result.attempts[2]!.at + result.attempts[2]!.ms, via: 'notice', text: FAILURE_NOTICE }])
  t.same(result.attempts.map((a) => a.error), ['timeout', 'timeout', 'timeout'])
  for (const [i, a] of result.attempts.entries()) {
    t.ok(a.ms >= 195 && a.ms < 1500, `attempt ${i + 1} dropped at the deadline (${a.ms} ms)`)
  }
  t.ok(result.attempts[1]!.at >= 195 && result.attempts[2]!.at >= 395, `attempts start when the previous one is dropped (${result.attempts.map((a) => a.at).join(', ')})`)
  t.equal(stub.received.length, 3)
  const [first, ...rest] = stub.received as [Received, ...Received[]]
  for (const r of rest) {
    t.equal(r.url.search, first.url.search, 'identical query string')
    t.equal(r.body, first.body, 'identical body')
  }
  t.equal(new Set(stub.received.map((r) => r.remotePort)).size, 3, 'three connections, none reused')
})

t.test('over HTTP: after a 500 the re-push comes at once; the verdict is the next answer', async (t) => {
  let n = 0
  const ok = wellBehaved({ mode: 'plain', reply: () => 'second time lucky' })
  const stub = await startStub(t, (req) => (n++ === 0 ? { status: 500, body: 'oops' } : ok(req)))
  const result = await createEmulator({ url: stub.url, token }).send('hi')
  t.equal(result.ok, true)
  t.equal(result.shown, 'second time lucky')
  t.same(result.attempts.map((a) => [a.status, a.error ?? 'ok']), [[500, 'http_status'], [200, 'ok']])
  t.ok(result.attempts[1]!.at < 1000, `re-pushed ${result.attempts[1]!.at} ms after the first push (under 1 s)`)
  t.same(result.warnings.map((w) => w.code), ['HTTP_STATUS', 'RETRIED'])
  t.same(result.messages.map((m) => [m.via, m.text]), [['reply', 'second time lucky']])
  t.not(stub.received[0]!.remotePort, stub.received[1]!.remotePort, 'a new connection')
})
