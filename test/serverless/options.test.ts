/**
 * What the serverless adapters decide at creation: frozen platforms refuse the in-memory store
 * (unless dev), customer-service needs waitUntil, the reply deadline is 4000 ms by default.
 */
import t from 'tap'
import { MemoryStore, createRedisStore, createFcHandler, createFetchHandler, createLambdaHandler, createScfHandler, type ServerlessOptions } from '../../src/serverless/index.js'
import { TOKEN, captureLog, eventShapes, push, replyText, textXml } from './wechat.js'

const base = (): ServerlessOptions => ({ token: TOKEN, env: {}, log: captureLog().log })
const frozen = [
  ['createScfHandler', createScfHandler],
  ['createFcHandler', createFcHandler],
  ['createLambdaHandler', createLambdaHandler],
] as const

t.test('SCF, FC and Lambda refuse the in-memory store, naming the store option and WX_MP_REDIS_URL', async (t) => {
  for (const [name, create] of frozen) {
    for (const options of [base(), { ...base(), store: new MemoryStore() }]) {
      t.throws(() => create(options), { code: 'INVALID_CONFIG', message: new RegExp(`^${name}: the in-memory store`) }, name)
      try {
        create(options)
      } catch (err) {
        const message = (err as Error).message
        t.match(message, /WX_MP_REDIS_URL/)
        t.match(message, /store: createRedisStore/)
        t.match(message, /dev: true/)
      }
    }
    t.doesNotThrow(() => create({ ...base(), dev: true }), 'dev: true allows it')
  }
})

t.test('a Redis URL (option or WX_MP_REDIS_URL) or a store of the author is accepted', async (t) => {
  for (const [, create] of frozen) {
    const byEnv = create({ ...base(), env: { WX_MP_REDIS_URL: 'redis://127.0.0.1:1' } })
    t.notOk(byEnv.endpoint.store instanceof MemoryStore)
    await byEnv.endpoint.close(0)
    const byOption = create({ ...base(), redis: 'redis://127.0.0.1:1' })
    await byOption.endpoint.close(0)
  }
  t.pass()
})

t.test('the fetch handler allows the in-memory store (Deno, Bun and Node are long-running)', async (t) => {
  const handler = createFetchHandler(base())
  t.ok(handler.endpoint.store instanceof MemoryStore)
})

t.test('slowReply customer-service without waitUntil is refused at creation, saying why and what to use', async (t) => {
  for (const [name, create] of [...frozen, ['createFetchHandler', createFetchHandler]] as const) {
    for (const options of [
      { ...base(), dev: true, slowReply: 'customer-service' as const },
      { ...base(), dev: true, env: { WX_MP_SLOW_REPLY: 'customer-service' } },
    ]) {
      t.throws(() => create(options), { code: 'INVALID_CONFIG', message: /nothing runs after the response/ }, name)
      try {
        create(options)
      } catch (err) {
        t.match((err as Error).message, /retry-window/)
        t.match((err as Error).message, /waitUntil/)
      }
    }
  }
  t.doesNotThrow(() => createFetchHandler({ ...base(), slowReply: 'customer-service', waitUntil: () => undefined }), 'with waitUntil it is allowed')
  t.throws(() => createFetchHandler({ ...base(), waitUntil: 'yes' as never }), { code: 'INVALID_CONFIG', message: /waitUntil must be a function/ })
})

t.test('the reply deadline is 4000 ms on serverless unless set', async (t) => {
  t.equal(createScfHandler({ ...base(), dev: true }).endpoint.config.replyTimeoutMs, 4000)
  t.equal(createFetchHandler(base()).endpoint.config.replyTimeoutMs, 4000)
  t.equal(createFetchHandler({ ...base(), replyTimeoutMs: 2500 }).endpoint.config.replyTimeoutMs, 2500, 'the option')
  t.equal(createFetchHandler({ ...base(), env: { WX_MP_REPLY_TIMEOUT_MS: '3000' } }).endpoint.config.replyTimeoutMs, 3000, 'the variable')
})

t.test('configuration errors of the endpoint throw at creation, naming the variable', async (t) => {
  t.throws(() => createFetchHandler({ env: {}, log: captureLog().log }), { code: 'INVALID_CONFIG', message: /WX_MP_TOKEN/ })
  t.throws(() => createScfHandler({ env: { WX_MP_TOKEN: 't', WX_MP_REDIS_URL: 'http://nope' } }), { code: 'INVALID_CONFIG', message: /WX_MP_REDIS_URL/ })
})

t.test('a shared store that cannot be reached at start: the push is still answered (onDedupError) and the log names WX_MP_REDIS_URL', async (t) => {
  const { log, lines } = captureLog()
  // A store of the author's is connected by the adapter too (a short connect timeout keeps the test quick).
  const store = createRedisStore({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 300 })
  const handler = createScfHandler({ token: TOKEN, env: {}, store, log, onMessage: () => 'still here' })
  t.teardown(() => store.close())
  const scf = eventShapes.find((s) => s.name === 'SCF function URL')!
  const res = await handler(scf.event(push(textXml('hi'), 'plain')) as never)
  t.equal(res.statusCode, 200)
  t.equal(replyText(res.body), 'still here')
  t.ok(lines.some((l) => l['level'] === 'error' && /WX_MP_REDIS_URL/.test(String(l['msg']))), 'logged, naming the variable')
})
