// Once in real time, with WeChat's own 5 s deadline: a server that holds the first two attempts
// open and answers the third (what a retry-window bot does) is reached at 0 / 5 / 10 s, on three
// connections with the identical query and body, and its answer is what the user sees.
import t from 'tap'
import { createEmulator } from '../../src/emulator/index.js'
import { startStub, token, wellBehaved, type Received } from './stub.js'

t.test('real time: attempts at 0 / 5 / 10 s, each dropped at 5 s, the third answered', async (t) => {
  const answer = wellBehaved({ mode: 'plain', reply: () => 'the slow answer' })
  const arrivals: number[] = []
  const stub = await startStub(t, (req) => {
    arrivals.push(Date.now())
    return arrivals.length < 3 ? { delayMs: 30_000 } : answer(req)
  })
  const result = await createEmulator({ url: stub.url, token }).send('a slow question')
  t.equal(result.ok, true)
  t.equal(result.shown, 'the slow answer')
  t.same(result.attempts.map((a) => a.error ?? 'ok'), ['timeout', 'timeout', 'ok'])
  const [first, second, third] = result.attempts
  t.ok(first!.ms >= 4990 && first!.ms < 5500, `attempt 1 dropped at ${first!.ms} ms`)
  t.ok(second!.at >= 4990 && second!.at < 5800, `attempt 2 at ${second!.at} ms`)
  t.ok(third!.at >= 9990 && third!.at < 11_000, `attempt 3 at ${third!.at} ms`)
  t.same(result.messages.map((m) => [m.via, m.text]), [['reply', 'the slow answer']])
  t.ok(result.messages[0]!.at >= 9990, `the user sees it at ${result.messages[0]!.at} ms`)
  t.same(result.warnings.map((w) => w.code), ['HELD'])
  const [r1, ...rest] = stub.received as [Received, ...Received[]]
  for (const r of rest) {
    t.equal(r.url.search, r1.url.search)
    t.equal(r.body, r1.body)
  }
  t.equal(new Set(stub.received.map((r) => r.remotePort)).size, 3, 'a new connection per attempt')
})
