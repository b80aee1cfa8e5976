/**
 * createCallbackHandler: one account's endpoint without any HTTP framework, as the serverless
 * adapters use it. Statuses, headers and refusal bodies come from one mapping; a handler that
 * answers at once is answered without a promise.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { InjectOptions } from 'fastify'
import { createCallbackHandler, type CallbackRequest, type WxMpOptions } from '../../src/index.js'
import {
  AES_KEY,
  APP_ID,
  OTHER_APP_ID,
  T0_S,
  TOKEN,
  FakeClock,
  accountCrypto,
  captureLogger,
  encryptedPush,
  field,
  openEncryptedReply,
  plainPush,
  replyFields,
  textXml,
  verifyRequest,
} from './helpers.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The framework-free request for an inject request built by the helpers. */
function request(inject: InjectOptions): CallbackRequest {
  const url = new URL(String(inject.url), 'http://x')
  return {
    method: String(inject.method ?? 'GET'),
    query: Object.fromEntries(url.searchParams),
    body: typeof inject.payload === 'string' ? inject.payload : undefined,
  }
}

function endpoint(options: Partial<WxMpOptions> = {}) {
  const { logger, lines } = captureLogger()
  const handler = createCallbackHandler({ token: TOKEN, env: {}, clock: new FakeClock(), ...options }, { log: logger })
  return { handler, lines }
}

t.test('a handler that answers at once is answered without a promise; an async one with a promise', async (t) => {
  const sync = endpoint({ onMessage: (m) => (m.msgType === 'text' ? `echo ${m.content}` : undefined) })
  const res = sync.handler.handle(request(plainPush(textXml({ content: 'hi' }))))
  t.notOk(res instanceof Promise, 'no promise')
  if (res instanceof Promise) return
  t.equal(res.status, 200)
  t.same(res.headers, { 'content-type': 'application/xml; charset=utf-8' })
  t.equal(field(replyFields(res.body), 'Content'), 'echo hi')
  const verified = sync.handler.handle(request(verifyRequest('e42')))
  t.same(verified, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'e42' }, 'verification at once')

  const later = endpoint({ onMessage: async () => 'later' })
  const pending = later.handler.handle(request(plainPush(textXml())))
  t.ok(pending instanceof Promise, 'a promise for an async handler')
  t.equal(field(replyFields((await pending).body), 'Content'), 'later')
})

t.test('mode, path and config come from the options and the environment', async (t) => {
  const plain = createCallbackHandler({ env: { WX_MP_TOKEN: 'envtok', WX_MP_PATH: '/hook' } }, { log: captureLogger().logger })
  t.equal(plain.mode, 'plain')
  t.equal(plain.path, '/hook')
  const safe = createCallbackHandler({ token: TOKEN, aesKey: AES_KEY, appId: APP_ID, env: {} }, { log: captureLogger().logger })
  t.equal(safe.mode, 'safe')
  t.equal(safe.config.drainTimeoutMs, 60_000, 'the default drain timeout')
  t.throws(() => createCallbackHandler({ env: {} }), { code: 'INVALID_CONFIG', message: /WX_MP_TOKEN/ }, 'config errors at once')
})

t.test('safe mode: the reply is encrypted for the push', async (t) => {
  const { handler } = endpoint({ token: TOKEN, aesKey: AES_KEY, appId: APP_ID, onMessage: () => 'secret reply' })
  const res = await handler.handle(request(encryptedPush(textXml())))
  t.equal(res.status, 200)
  const opened = openEncryptedReply(res.body)
  t.ok(opened.signatureOk)
  t.equal(field(replyFields(opened.xml), 'Content'), 'secret reply')
})

t.test('each refusal: its status, content type and a body that names the reason class without secrets', async (t) => {
  let calls = 0
  const { handler, lines } = endpoint({ token: TOKEN, aesKey: AES_KEY, appId: APP_ID, onMessage: () => void calls++ })
  const cases: Array<[string, CallbackRequest, number, RegExp]> = [
    ['bad signature', request(encryptedPush(textXml(), { token: 'otherToken' })), 401, /^invalid signature: check WX_MP_TOKEN$/],
    ['bad URL signature', request(verifyRequest('e', { token: 'otherToken' })), 401, /^invalid signature: check WX_MP_TOKEN$/],
    ['stale timestamp', request(encryptedPush(textXml(), { timestamp: T0_S - 400 })), 403, /^stale timestamp: check the server clock$/],
    ['plain push', request(plainPush(textXml())), 401, /^plain push refused: this server requires safe mode$/],
    ['another appId', request(encryptedPush(textXml(), { crypto: accountCrypto(OTHER_APP_ID) })), 400, /^cannot decrypt: check the EncodingAESKey and AppID$/],
    ['garbage ciphertext', request(encryptedPush(textXml(), { encrypt: Buffer.alloc(64, 7).toString('base64') })), 400, /^cannot decrypt/],
    ['malformed XML inside', request(encryptedPush(textXml(), { encrypt: accountCrypto().encrypt('<xml><MsgType>text') })), 400, /^malformed push/],
    ['no parameters', { method: 'POST', query: {}, body: textXml() }, 400, /^missing parameter/],
    ['too large', { ...request(encryptedPush(textXml())), body: 'x'.repeat(65 * 1024) }, 413, /^payload too large/],
  ]
  for (const [what, req, status, body] of cases) {
    const res = await handler.handle(req)
    t.equal(res.status, status, `${what}: ${status}`)
    t.match(res.body, body, `${what}: body`)
    t.equal(res.headers['content-type'], 'text/plain; charset=utf-8', `${what}: text/plain`)
    t.notMatch(res.body, new RegExp(`${TOKEN}|${AES_KEY}|${APP_ID}`), `${what}: no secret in the body`)
  }
  for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'SEARCH']) {
    const res = await handler.handle({ method, query: {}, body: '' })
    t.equal(res.status, 405, `${method}: 405`)
    t.equal(res.headers['allow'], 'GET, POST', `${method}: Allow`)
  }
  t.equal(calls, 0, 'no handler ran')
  const rejected = lines.filter((l) => l['outcome'] === 'rejected')
  t.ok(rejected.length >= cases.length, 'every refusal is logged')
  t.ok(rejected.every((l) => typeof l['code'] === 'string' && typeof l['reason'] === 'string'), 'with its code and the full reason')
})

t.test('drain waits for a handler still running after its deadline, at most the timeout', async (t) => {
  const clock = new FakeClock()
  let release!: () => void
  const { handler } = endpoint({ clock, drainTimeoutMs: 1000, slowReply: 'success', onMessage: () => new Promise<string>((r) => (release = () => r('x'))) })
  const res = handler.handle(request(plainPush(textXml())))
  clock.advance(4500)
  t.equal((await res).body, 'success', 'answered success at the deadline')
  let drained = false
  const draining = handler.drain().then(() => (drained = true))
  await new Promise((r) => setImmediate(r))
  t.notOk(drained, 'still draining')
  release()
  await draining
  t.ok(drained)
})

t.test('the endpoint module loads neither Fastify nor pino-pretty', async (t) => {
  const script = [
    "const { createRequire } = await import('node:module')",
    `await import(${JSON.stringify(root + 'src/server/callback-handler.ts')})`,
    'const loaded = Object.keys(createRequire(import.meta.url).cache)',
    "console.log(JSON.stringify(loaded.filter((p) => /node_modules[\\\\/](fastify|pino-pretty)[\\\\/]/.test(p))))",
  ].join('\n')
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
  t.equal(out.status, 0, out.stderr)
  t.same(JSON.parse(out.stdout), [])
})
