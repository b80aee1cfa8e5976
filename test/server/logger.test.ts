/**
 * Logs: one line per push with its mode, outcome and handler time; secrets never written.
 */
import t from 'tap'
import { AES_KEY, APP_ID, TOKEN, captureLogger, encryptedPush, eventXml, failOnUnhandledRejection, makeApp, plainPush, textXml, verifyRequest } from './helpers.js'
import { createLogger, redactPaths } from '../../src/index.js'
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
  t.ok(redactPaths.includes('access_token'))
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
