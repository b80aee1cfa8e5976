/**
 * Background work is explicit: without waitUntil nothing runs after the response (the attempt
 * that runs the handler holds its own request until the handler is done); with it, the run goes
 * on after the response and the adapter hands it to waitUntil. A fake clock: nothing sleeps.
 */
import t from 'tap'
import { FakeClock, deferred } from '../server/helpers.js'
import { createFetchHandler, createScfHandler, type EventResponse } from '../../src/serverless/index.js'
import { TOKEN, captureLog, eventShapes, push, replyText, textXml, type WireRequest } from './wechat.js'

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
}
const scfUrl = eventShapes.find((s) => s.name === 'SCF function URL')!

t.test('without waitUntil the attempt that runs the handler answers only when the handler is done; the retry gets the answer', async (t) => {
  const clock = new FakeClock(Date.now())
  const slow = deferred<string>()
  let runs = 0
  const handler = createScfHandler({
    token: TOKEN,
    env: {},
    dev: true,
    clock,
    log: captureLog().log,
    slowReply: 'next-message', // turned into holding while attempts remain: nothing may run after a response
    onMessage: () => {
      runs++
      return slow.promise
    },
  })
  const request = push(textXml('slow one', { createTime: Math.floor(clock.now() / 1000) }), 'plain')
  let first: EventResponse | undefined
  void handler(scfUrl.event(request) as never).then((r) => (first = r))
  await flush()
  clock.advance(4000)
  await flush()
  t.equal(first, undefined, 'not answered at the deadline: answering would freeze the run')
  clock.advance(1000)
  let second: EventResponse | undefined
  void handler(scfUrl.event(request) as never).then((r) => (second = r))
  await flush()
  clock.advance(1000)
  slow.resolve('done after 6 s')
  await flush()
  t.equal(runs, 1, 'the handler ran once')
  t.ok(second, 'the retry is answered')
  t.equal(replyText(second!.body), 'done after 6 s')
  t.ok(first, 'the first attempt is released once the run is done')
  t.equal(first!.statusCode, 200)
})

for (const how of ['a function', "'context' (each request's context)"] as const) {
t.test(`with waitUntil as ${how} the run goes on after the response and is handed to it`, async (t) => {
  const clock = new FakeClock(Date.now())
  const slow = deferred<string>()
  const handedOver: Array<Promise<unknown>> = []
  const handler = createFetchHandler({
    token: TOKEN,
    env: {},
    clock,
    log: captureLog().log,
    slowReply: 'next-message',
    waitUntil: how === 'a function' ? (work) => handedOver.push(work) : 'context',
    onMessage: (msg) => (msg.msgType === 'text' && msg.content === 'slow' ? slow.promise : 'quick'),
  })
  const send = (r: WireRequest): Promise<Response> =>
    handler(new Request(`https://wx.example/api/wx?${new URLSearchParams(r.query)}`, { method: r.method, body: r.body }), {
      waitUntil: how === 'a function' ? () => t.fail('the option wins') : (work) => handedOver.push(work),
    })
  const now = (): number => Math.floor(clock.now() / 1000)
  let first: Response | undefined
  void send(push(textXml('slow', { createTime: now() }), 'plain')).then((r) => (first = r))
  await flush()
  clock.advance(4000)
  await flush()
  t.ok(first, 'answered at the deadline')
  const placeholder = replyText(await first!.text())
  t.ok(placeholder.length > 0, `the placeholder: ${placeholder}`)
  t.ok(handedOver.length > 0, 'the run was handed to waitUntil')
  let settled = false
  void Promise.all(handedOver).then(() => (settled = true))
  await flush()
  t.notOk(settled, 'the handed-over work waits for the handler')
  slow.resolve('the slow answer')
  await flush()
  t.ok(settled, 'and ends with it')
  const next = await send(push(textXml('继续', { createTime: now() }), 'plain'))
  t.equal(replyText(await next.text()), 'the slow answer', 'the next message gets it')
})
}

t.test("'context' is for the fetch handler only", async (t) => {
  t.throws(() => createScfHandler({ token: TOKEN, env: {}, dev: true, waitUntil: 'context' }), { code: 'INVALID_CONFIG', message: /waitUntil must be a function \(work: Promise\) => void\.$/ })
})

t.test('without waitUntil each request waits for its own work only, not for another request\'s', async (t) => {
  const clock = new FakeClock(Date.now())
  const slow = deferred<string>()
  const handler = createFetchHandler({
    token: TOKEN,
    env: {},
    clock,
    log: captureLog().log,
    onMessage: (msg) => (msg.msgType === 'text' && msg.content === 'slow' ? slow.promise : 'quick'),
  })
  const send = (r: WireRequest): Promise<Response> => handler(new Request(`https://wx.example/wx?${new URLSearchParams(r.query)}`, { method: r.method, body: r.body }))
  const now = (): number => Math.floor(clock.now() / 1000)
  let slowAnswered = false
  const slowResponse = send(push(textXml('slow', { createTime: now(), user: 'oSlow' }), 'plain')).then((r) => {
    slowAnswered = true
    return r
  })
  await flush()
  clock.advance(4500)
  await flush()
  const quick = await send(push(textXml('fast', { createTime: now(), user: 'oFast' }), 'plain'))
  t.equal(replyText(await quick.text()), 'quick', 'answered while the other request still holds its run')
  t.notOk(slowAnswered, 'the slow one is still held')
  slow.resolve('late')
  await flush()
  t.equal((await slowResponse).status, 200)
})
