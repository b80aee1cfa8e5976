/**
 * createServer: the app around the plugin (healthz, not listening, logger, graceful close).
 */
import t from 'tap'
import { createServer } from '../../src/index.js'
import {
  PATH,
  TOKEN,
  T0_S,
  FakeClock,
  failOnUnhandledRejection,
  makeApp,
  plainPush,
  textXml,
  turns,
  until,
  verifyRequest,
} from './helpers.js'

t.test('GET /healthz → 200; the app is returned not listening', async (t) => {
  const { app } = await makeApp(t)
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'ok')
  t.notOk(app.server.listening, 'createServer does not listen')
})

t.test('logger: false logs nothing and still serves', async (t) => {
  const app = await createServer({ token: TOKEN, env: {}, logger: false, clock: new FakeClock() })
  t.teardown(() => app.close())
  const res = await app.inject(verifyRequest('abc'))
  t.equal(res.body, 'abc')
})

t.test('close() lets a handler still running after its deadline finish', async (t) => {
  let finished = false
  const { app, clock, gate } = await makeApp(t, {
    slowReply: 'success',
    onMessage: async () => {
      await release.promise
      finished = true
      return 'done'
    },
  })
  const release = gate()
  const push = app.inject(plainPush(textXml()))
  await until(() => clock.pending === 3, 'handler running')
  clock.advance(4500)
  t.equal((await push).body, 'success')
  let closed = false
  const closing = app.close().then(() => {
    closed = true
  })
  await turns()
  t.notOk(closed, 'close waits for the running handler')
  release.resolve()
  await closing
  t.ok(finished, 'the handler finished before close resolved')
})

t.test('close() gives up on a stuck handler after drainTimeoutMs', async (t) => {
  const { app, clock, gate } = await makeApp(t, {
    drainTimeoutMs: 2000,
    slowReply: 'success',
    onMessage: async () => {
      await stuck.promise
      return 'never'
    },
  })
  const stuck = gate()
  const push = app.inject(plainPush(textXml()))
  await until(() => clock.pending === 3, 'handler running')
  clock.advance(4500)
  await push
  let closed = false
  const closing = app.close().then(() => {
    closed = true
  })
  await until(() => clock.pending === 2, 'the drain timer (and the job timeout)')
  clock.advance(1999)
  await turns()
  t.notOk(closed, 'still draining')
  clock.advance(1)
  await closing
  t.ok(closed, 'closed after drainTimeoutMs')
})

t.test('odd requests never yield a 500', async (t) => {
  failOnUnhandledRejection(t)
  let calls = 0
  const { app } = await makeApp(t, {
    onMessage: () => {
      calls++
      return 'x'
    },
  })
  const good = plainPush(textXml())
  const url = new URL(good.url as string, 'http://x')
  const sig = url.searchParams.get('signature')!
  const requests = [
    { method: 'GET' as const, url: `${PATH}?signature=${sig}&signature=${sig}&timestamp=${T0_S}&nonce=1&echostr=e` },
    { ...good, url: `${PATH}?signature=${sig}&signature=${sig}&timestamp=${T0_S}&nonce=1320562132` },
    { ...good, url: `${PATH}?signature[a]=1&timestamp=${T0_S}&nonce=1` },
    { ...good, url: `${PATH}?encrypt_type=aes&msg_signature=x&signature=${sig}&timestamp=${T0_S}&nonce=1320562132` },
    { ...good, payload: Buffer.from([0xff, 0xfe, 0x00, 0x01]) },
    { method: 'OPTIONS' as const, url: PATH },
    { method: 'HEAD' as const, url: verifyRequest('abc').url as string },
    { ...good, headers: { 'content-type': 'multipart/form-data; boundary=x' } },
  ]
  for (const r of requests) {
    const res = await app.inject(r)
    t.ok(res.statusCode < 500, `${r.method} ${String(r.url).slice(0, 60)}: ${res.statusCode}`)
  }
  t.ok(calls <= 1, 'at most the correctly signed multipart push ran')
})
