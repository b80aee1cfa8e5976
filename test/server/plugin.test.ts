/**
 * The Fastify plugin on its own: encapsulated, so two accounts live in one app and the rest of
 * the app keeps its own body parsers.
 */
import t from 'tap'
import Fastify from 'fastify'
import { wxMp } from '../../src/index.js'
import {
  AES_KEY,
  APP_ID,
  FakeClock,
  USER,
  accountCrypto,
  encryptedPush,
  field,
  openEncryptedReply,
  plainPush,
  replyFields,
  textXml,
  verifyRequest,
} from './helpers.js'

t.test('two accounts in one app: the plugin registered under two prefixes', async (t) => {
  const clock = new FakeClock()
  const app = Fastify()
  t.teardown(() => app.close())
  const seen: string[] = []
  await app.register(wxMp, {
    prefix: '/a',
    token: 'tokA',
    env: {},
    clock,
    onMessage: (m) => {
      seen.push(`a:${m.fromUserName}`)
      return 'from A'
    },
  })
  await app.register(wxMp, {
    prefix: '/b',
    token: 'tokB',
    aesKey: AES_KEY,
    appId: APP_ID,
    env: {},
    clock,
    onMessage: (m) => {
      seen.push(`b:${m.fromUserName}`)
      return 'from B'
    },
  })
  const a = '/a/wx'
  const b = '/b/wx'
  t.equal((await app.inject(verifyRequest('ea', { token: 'tokA', path: a }))).body, 'ea', 'A verifies with tokA')
  t.equal((await app.inject(verifyRequest('eb', { token: 'tokB', path: b }))).body, 'eb', 'B verifies with tokB')
  t.equal((await app.inject(verifyRequest('ea', { token: 'tokB', path: a }))).statusCode, 401, "B's signature on A: 401")
  t.equal((await app.inject(verifyRequest('eb', { token: 'tokA', path: b }))).statusCode, 401, "A's signature on B: 401")

  const pa = await app.inject(plainPush(textXml(), { token: 'tokA', path: a }))
  t.equal(field(replyFields(pa.body), 'Content'), 'from A', 'A answers in plain mode')
  const cryptoB = accountCrypto(APP_ID, 'tokB')
  const pb = await app.inject(encryptedPush(textXml(), { token: 'tokB', path: b, crypto: cryptoB }))
  const opened = openEncryptedReply(pb.body, cryptoB)
  t.ok(opened.signatureOk, 'B answers in safe mode, signed with tokB')
  t.equal(field(replyFields(opened.xml), 'Content'), 'from B')
  t.equal((await app.inject(encryptedPush(textXml({ msgId: '9' }), { token: 'tokB', path: a, crypto: cryptoB }))).statusCode, 401, "B's push on A: 401")
  t.equal((await app.inject(encryptedPush(textXml({ msgId: '9' }), { token: 'tokB', path: a, crypto: cryptoB, mode: 'safe' }))).statusCode, 401)
  t.equal((await app.inject(plainPush(textXml({ msgId: '7' }), { token: 'tokA', path: b }))).statusCode, 401, "A's push on B: 401")
  t.same(seen, [`a:${USER}`, `b:${USER}`], 'each account ran its own handler once, with its own dedup store')
})

t.test('encapsulated: the raw-body parser and error handler stay inside the plugin', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.post('/json', async (request) => ({ got: request.body }))
  await app.register(wxMp, { token: 'tok', env: {}, clock: new FakeClock(), onMessage: () => 'x' })
  const res = await app.inject({ method: 'POST', url: '/json', payload: { a: 1 } })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { got: { a: 1 } }, 'JSON routes outside the plugin still get parsed JSON')
  const bad = await app.inject({ method: 'POST', url: '/json', payload: '{bad', headers: { 'content-type': 'application/json' } })
  t.equal(bad.statusCode, 400, 'and their own error handling')
})

t.test('405 carries Allow: GET, POST', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(wxMp, { token: 'tok', env: {}, clock: new FakeClock() })
  for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
    const res = await app.inject({ method, url: '/wx', payload: '<xml/>' })
    t.equal(res.statusCode, 405, method)
    t.equal(res.headers['allow'], 'GET, POST')
  }
})
