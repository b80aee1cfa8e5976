/**
 * Logs: one line per push with its mode, outcome and handler time; secrets never written.
 */
import t from 'tap'
import { AES_KEY, APP_ID, FakeClock, TOKEN, captureLogger, encryptedPush, eventXml, failOnUnhandledRejection, makeApp, plainPush, textXml, verifyRequest } from './helpers.js'
import { createCallbackHandler, createLogger, redactPaths } from '../../src/index.js'
import { Writable } from 'node:stream'

const APP_SECRET = 'appS3cretValue0123456789abcdef01'

t.test('createLogger redacts token, aesKey and appSecret, also one level down', async (t) => {
  const { logger, lines, raw } = captureLogger()
  logger.info({ token: TOKEN, aesKey: AES_KEY, appSecret: APP_SECRET, options: { token: TOKEN, aesKey: AES_KEY, appSecret: APP_SECRET } }, 'options')
  t.match(lines[0], {
    token: '[redacted]',
    aesKey: '[redacted]',
    appSecret: '[redacted]',
    options: { token: '[redacted]', aesKey: '[redacted]', appSecret: '[redacted]' },
  })
  for (const secret of [TOKEN, AES_KEY, APP_SECRET]) t.notMatch(raw.join('\n'), secret, 'the secret is not in the output')
  t.ok(redactPaths.includes('*token*'), 'the documented patterns cover access_token')
  const { logger: other, raw: otherRaw } = captureLogger()
  other.info({ access_token: 'ACCESS_TOKEN_VALUE_123' }, 'api')
  t.notMatch(otherRaw.join('\n'), 'ACCESS_TOKEN_VALUE_123', 'access_token is redacted')
})

t.test('#15: redaction covers *token*, *secret*, *key*, authorization, cookie and env at any depth', async (t) => {
  const { logger, lines, raw } = captureLogger()
  const secrets = ['S1-apikey', 'S2-bearer', 'S3-cookie', 'S4-envsecret', 'S5-deep', 'S6-refresh', 'S7-clientSecret', 'S8-errkey', 'S9-array']
  const logged = {
    llm: { apiKey: secrets[0], model: 'gpt' },
    req: { headers: { Authorization: secrets[1], cookie: secrets[2], accept: 'text/xml' } },
    env: { WX_MP_TOKEN: 'x', OPENAI: secrets[3] },
    a: { b: { c: { d: { e: { sessionToken: secrets[4] } } } } },
    oauth: { refresh_token: secrets[5], client: { clientSecret: secrets[6] } },
    list: [{ privateKey: secrets[8] }, 'plain'],
    eventKey: 'menu_1',
  }
  const err = Object.assign(new Error('upstream failed'), { config: { xApiKey: secrets[7] }, status: 502 })
  logger.info(logged, 'nested')
  logger.error({ err }, 'with an error')
  const all = raw.join('\n')
  for (const secret of secrets) t.notMatch(all, secret, `${secret} is not written`)
  t.match(lines[0], {
    llm: { apiKey: '[redacted]', model: 'gpt' },
    req: { headers: { Authorization: '[redacted]', cookie: '[redacted]', accept: 'text/xml' } },
    env: '[redacted]',
    a: { b: { c: { d: { e: { sessionToken: '[redacted]' } } } } },
    oauth: { refresh_token: '[redacted]', client: { clientSecret: '[redacted]' } },
    list: [{ privateKey: '[redacted]' }, 'plain'],
    eventKey: 'menu_1',
  }, 'secrets hidden, everything else kept (a menu button\'s eventKey is public)')
  t.match(lines[1], { err: { message: 'upstream failed', stack: /upstream failed/, status: 502, config: { xApiKey: '[redacted]' } } }, 'an error keeps its message and stack')
  t.equal(logged.llm.apiKey, secrets[0], "the caller's object is not changed")
  t.equal(err.config.xApiKey, secrets[7], "nor the caller's error")

  const child = logger.child({ credentials: { password: 'S10-child' } })
  child.info('from a child')
  t.notMatch(raw.join('\n'), 'S10-child', "a child logger's bindings are redacted too")

  class RawRequest {
    headers = { authorization: 'S11-raw', host: 'h' }
  }
  logger.info({ req: new RawRequest() }, 'a raw request')
  t.notMatch(raw.join('\n'), 'S11-raw', "a raw request's authorization header is redacted by path")

  const cyclic: Record<string, unknown> = { name: 'loop' }
  cyclic['self'] = cyclic
  t.doesNotThrow(() => logger.info({ cyclic }, 'a cycle'), 'a cyclic object is logged without hanging')
})

t.test('#15: pretty output is one line per push', async (t) => {
  const out: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk.toString())
      cb()
    },
  })
  const logger = createLogger({ destination, pretty: true, level: 'info' })
  const { app } = await makeApp(t, { logger, onMessage: () => 'hi' })
  await app.inject(plainPush(textXml({ msgId: '1' })))
  const text = out.join('')
  const lines = text.split('\n').filter((l) => l !== '')
  t.equal(lines.length, 1, `one line: ${text}`)
  t.match(lines[0], /replied.*outcome.*reply/)
})

t.test('#15: LOG_LEVEL=debug logs the message text on the push line; info never does', async (t) => {
  for (const level of ['info', 'debug']) {
    const { logger, lines } = captureLogger(level)
    const { app } = await makeApp(t, { logger, onMessage: () => 'ok' })
    await app.inject(plainPush(textXml({ msgId: '1', content: '今天天气怎么样' })))
    const push = lines.find((l) => 'outcome' in l)!
    if (level === 'debug') t.equal(push['text'], '今天天气怎么样', 'debug: the text')
    else t.notOk('text' in push, 'info: no text')
  }
})

t.test('#15: an answer written after WeChat stopped waiting (a stalled event loop) is logged too-late, as a warning', async (t) => {
  const { logger, lines } = captureLogger()
  const clock = new FakeClock()
  const handler = createCallbackHandler({ token: TOKEN, env: {}, clock, onMessage: () => 'hi' }, { log: logger })
  const url = new URL(String(plainPush(textXml({ msgId: '9' })).url), 'http://x')
  const request = { method: 'POST', query: Object.fromEntries(url.searchParams), body: textXml({ msgId: '9' }) }
  // The request arrived 6 s before the server got to it.
  const res = await handler.handle({ ...request, receivedAt: clock.now() - 6_000 })
  t.equal(res.status, 200)
  const push = lines.find((l) => 'outcome' in l)!
  t.match(push, { outcome: 'too-late', answered: 'reply', ms: 6000, level: 40 })
  t.match(String(push['msg']), /WeChat stops waiting at 5 s and did not see this answer/)

  const { logger: l2, lines: l2lines } = captureLogger()
  const quick = createCallbackHandler({ token: TOKEN, env: {}, clock, onMessage: () => 'hi' }, { log: l2 })
  await quick.handle({ ...request, receivedAt: clock.now() - 4_000 })
  t.match(l2lines.find((l) => 'outcome' in l), { outcome: 'reply', level: 30 }, 'within 5 s: a normal reply')
})

t.test('createLogger: JSON lines to a destination; level from the option or LOG_LEVEL', async (t) => {
  const { logger, lines } = captureLogger('warn')
  logger.info('hidden')
  logger.warn('shown')
  t.same(lines.map((l) => l['msg']), ['shown'])

  const saved = process.env['LOG_LEVEL']
  t.teardown(() => {
    if (saved === undefined) delete process.env['LOG_LEVEL']
    else process.env['LOG_LEVEL'] = saved
  })
  process.env['LOG_LEVEL'] = 'error'
  const out: string[] = []
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk.toString())
      cb()
    },
  })
  const fromEnv = createLogger({ destination, pretty: false })
  fromEnv.warn('hidden by LOG_LEVEL=error')
  fromEnv.error('shown')
  t.equal(out.length, 1)
  t.match(JSON.parse(out[0]!), { level: 50, msg: 'shown' })
})

t.test('one line per push, with mode, outcome and handlerMs', async (t) => {
  const { app, lines } = await makeApp(t, {
    token: TOKEN,
    aesKey: AES_KEY,
    appId: APP_ID,
    allowPlainPushes: true,
    onMessage: (m) => (m.msgType === 'text' && m.content === 'quiet' ? undefined : 'hi'),
  })
  await app.inject(plainPush(textXml({ msgId: '1' })))
  await app.inject(encryptedPush(textXml({ msgId: '2' }), { mode: 'safe' }))
  await app.inject(encryptedPush(textXml({ msgId: '3', content: 'quiet' }), { mode: 'compat' }))
  await app.inject(plainPush(textXml({ msgId: '1' }))) // a copy
  await app.inject(plainPush(eventXml({ event: 'CLICK', eventKey: 'K' }))) // no onEvent
  await app.inject(plainPush(textXml({ msgId: '4' }), { token: 'wrong' })) // rejected

  const pushLines = lines.filter((l) => 'outcome' in l)
  t.equal(pushLines.length, 6, 'exactly one line per push')
  t.match(pushLines[0], { msgType: 'text', msgId: '1', mode: 'plain', outcome: 'reply', handlerMs: Number })
  t.match(pushLines[1], { msgType: 'text', msgId: '2', mode: 'safe', outcome: 'reply', handlerMs: Number })
  t.match(pushLines[2], { msgType: 'text', msgId: '3', mode: 'compat', outcome: 'success', handlerMs: Number })
  t.match(pushLines[3], { msgId: '1', mode: 'plain', outcome: 'duplicate' })
  t.match(pushLines[4], { msgType: 'event', event: 'CLICK', mode: 'plain', outcome: 'success' })
  t.match(pushLines[5], { outcome: 'rejected', status: 401 })
  t.equal(pushLines[5]!['level'], 40, 'a rejection is a warning')
  for (const l of pushLines.slice(0, 5)) t.equal(l['level'], 30, 'a handled push is info')
})

t.test('a secret never appears in any log line of full pushes, errors and rejections', async (t) => {
  failOnUnhandledRejection(t)
  const { app, raw } = await makeApp(t, {
    token: TOKEN,
    aesKey: AES_KEY,
    appId: APP_ID,
    allowPlainPushes: true,
    appSecret: APP_SECRET,
    onMessage: (m, ctx) => {
      // A handler logging the whole config by mistake.
      ctx.log.info({ config: { token: TOKEN, aesKey: AES_KEY, appSecret: APP_SECRET } }, 'config dump')
      if (m.msgType === 'text' && m.content === 'fail') throw new Error('boom')
      return 'ok'
    },
  })
  t.equal((await app.inject(verifyRequest('e'))).statusCode, 200)
  t.equal((await app.inject(verifyRequest('e', { token: 'x' }))).statusCode, 401)
  t.equal((await app.inject(plainPush(textXml({ msgId: '1' })))).statusCode, 200)
  t.equal((await app.inject(encryptedPush(textXml({ msgId: '2' })))).statusCode, 200)
  t.equal((await app.inject(encryptedPush(textXml({ msgId: '3', content: 'fail' }), { mode: 'compat' }))).statusCode, 200)
  t.equal((await app.inject(encryptedPush(textXml({ msgId: '4' }), { timestamp: 1 }))).statusCode, 403)
  t.equal((await app.inject(encryptedPush(textXml({ msgId: '5' }), { encrypt: 'garbage' }))).statusCode, 400)
  t.ok(raw.length >= 8, 'there were log lines')
  const all = raw.join('\n')
  t.match(all, '[redacted]', 'the config dump was redacted')
  for (const [name, secret] of [
    ['token', TOKEN],
    ['aesKey', AES_KEY],
    ['appSecret', APP_SECRET],
  ] as const) {
    t.notMatch(all, secret, `the ${name} never appears`)
  }
})
