/**
 * Routing to onMessage / onSubscribe / onEvent, the handler context, return values, and handler
 * errors (onError, invalid replies): every failure is a logged 200 `success`, never a 500.
 */
import t from 'tap'
import type { HandlerContext, Message } from '../../src/index.js'
import {
  ACCOUNT,
  APP_ID,
  T0,
  USER,
  encryptedPush,
  eventXml,
  failOnUnhandledRejection,
  field,
  makeApp,
  openEncryptedReply,
  plainPush,
  replyFields,
  safeAccount,
  mixedAccount,
  textXml,
} from './helpers.js'

t.test('routing: onMessage for messages, onSubscribe for subscribe (with qrScene), onEvent for the rest', async (t) => {
  const seen: string[] = []
  const subscribes: Message[] = []
  const { app } = await makeApp(t, {
    onMessage: (m) => {
      seen.push(`message:${m.msgType}`)
      return `m:${m.msgType}`
    },
    onSubscribe: (e) => {
      seen.push(`subscribe:${e.qrScene ?? '-'}`)
      subscribes.push(e)
      return e.qrScene ? `welcome from scene ${e.qrScene}` : 'welcome'
    },
    onEvent: (e) => {
      seen.push(`event:${e.event}`)
      return e.event === 'CLICK' ? `clicked ${e.eventKey}` : undefined
    },
  })
  const image =
    `<xml><ToUserName>${ACCOUNT}</ToUserName><FromUserName>${USER}</FromUserName><CreateTime>1</CreateTime>` +
    '<MsgType>image</MsgType><PicUrl>http://x/p.jpg</PicUrl><MediaId>MID</MediaId><MsgId>100</MsgId></xml>'
  const unknown =
    `<xml><ToUserName>${ACCOUNT}</ToUserName><FromUserName>${USER}</FromUserName><CreateTime>2</CreateTime>` +
    '<MsgType>hologram</MsgType><MsgId>101</MsgId></xml>'

  const reply = async (xml: string): Promise<string> => {
    const res = await app.inject(plainPush(xml))
    t.equal(res.statusCode, 200)
    return res.body === 'success' ? 'success' : field(replyFields(res.body), 'Content')
  }
  t.equal(await reply(textXml()), 'm:text')
  t.equal(await reply(image), 'm:image')
  t.equal(await reply(unknown), 'm:unknown', 'an unknown message kind still goes to onMessage')
  t.equal(await reply(eventXml({ event: 'subscribe' })), 'welcome')
  t.equal(await reply(eventXml({ event: 'subscribe', eventKey: 'qrscene_42', createTime: 5 })), 'welcome from scene 42')
  t.equal(await reply(eventXml({ event: 'CLICK', eventKey: 'MENU_A' })), 'clicked MENU_A')
  t.equal(await reply(eventXml({ event: 'unsubscribe' })), 'success')
  t.same(seen, [
    'message:text',
    'message:image',
    'message:unknown',
    'subscribe:-',
    'subscribe:42',
    'event:CLICK',
    'event:unsubscribe',
  ])
  t.match(subscribes[1], { event: 'subscribe', eventKey: 'qrscene_42', qrScene: '42' })
})

t.test('absent onEvent (and absent onSubscribe / onMessage) → success', async (t) => {
  let calls = 0
  const { app } = await makeApp(t, {
    onMessage: () => {
      calls++
      return 'm'
    },
  })
  for (const xml of [eventXml({ event: 'CLICK', eventKey: 'K' }), eventXml({ event: 'subscribe', createTime: 9 })]) {
    const res = await app.inject(plainPush(xml))
    t.equal(res.statusCode, 200)
    t.equal(res.body, 'success')
  }
  t.equal(calls, 0, 'onMessage never sees events')

  const { app: eventsOnly } = await makeApp(t, { onEvent: () => 'e' })
  const res = await eventsOnly.inject(plainPush(textXml()))
  t.equal(res.body, 'success', 'no onMessage: a message is answered success')
})

t.test('ctx carries log, signal, appId and deadline', async (t) => {
  let ctx: HandlerContext | undefined
  const { app, lines } = await makeApp(t, {
    ...mixedAccount,
    replyTimeoutMs: 3000,
    onMessage: (_m, c) => {
      ctx = c
      c.log.info({ marker: 'from-handler' }, 'handler says hi')
      t.notOk(c.signal.aborted, 'the signal is not aborted while in time')
      return undefined
    },
  })
  await app.inject(encryptedPush(textXml({ msgId: '31415' })))
  if (!ctx) throw new Error('handler not called')
  t.equal(ctx.appId, APP_ID)
  t.equal(ctx.deadline, T0 + 3000, 'deadline = arrival + replyTimeoutMs')
  t.ok(ctx.signal instanceof AbortSignal)
  const line = lines.find((l) => l['marker'] === 'from-handler')
  t.match(line, { msgId: '31415', from: USER, msgType: 'text' }, 'ctx.log is bound to the push')
})

t.test('return values: string, reply object, promise, undefined, null', async (t) => {
  const results: unknown[] = [
    'plain string',
    { msgType: 'image', mediaId: 'MEDIA_1' },
    Promise.resolve('from a promise'),
    { msgType: 'news', articles: [{ title: 'T', description: 'D', picUrl: 'http://p', url: 'http://u' }] },
    undefined,
    null,
  ]
  let i = 0
  const { app } = await makeApp(t, { onMessage: () => results[i++] as never })
  const bodies: string[] = []
  for (let n = 0; n < results.length; n++) {
    const res = await app.inject(plainPush(textXml({ msgId: String(1000 + n) })))
    t.equal(res.statusCode, 200)
    bodies.push(res.body)
  }
  t.equal(field(replyFields(bodies[0]!), 'Content'), 'plain string')
  const image = replyFields(bodies[1]!)
  t.equal(field(image, 'MsgType'), 'image')
  t.match(image['Image'], { MediaId: 'MEDIA_1' })
  t.equal(field(replyFields(bodies[2]!), 'Content'), 'from a promise')
  t.equal(field(replyFields(bodies[3]!), 'ArticleCount'), '1')
  t.equal(bodies[4], 'success', 'undefined → success')
  t.equal(bodies[5], 'success', 'null → success')
})

t.test('a handler that throws: 200 success, the error logged with the msgId; onError may apologise', async (t) => {
  failOnUnhandledRejection(t)
  const errors: Array<[unknown, Message]> = []
  const { app, lines } = await makeApp(t, {
    onMessage: (m) => {
      if (m.msgType === 'text' && m.content === 'sync') throw new Error('sync boom')
      return Promise.reject(new Error('async boom'))
    },
    onSubscribe: () => {
      throw new Error('subscribe boom')
    },
  })
  const a = await app.inject(plainPush(textXml({ content: 'sync', msgId: '9000000000000000001' })))
  t.equal(a.statusCode, 200)
  t.equal(a.body, 'success')
  const b = await app.inject(plainPush(textXml({ content: 'async', msgId: '9000000000000000002' })))
  t.equal(b.statusCode, 200)
  t.equal(b.body, 'success')
  const c = await app.inject(plainPush(eventXml({ event: 'subscribe' })))
  t.equal(c.body, 'success')
  const failures = lines.filter((l) => l['msg'] === 'handler failed')
  t.equal(failures.length, 3)
  t.match(failures[0], { level: 50, msgId: '9000000000000000001', err: { message: 'sync boom' } })
  t.match(failures[1], { level: 50, msgId: '9000000000000000002', err: { message: 'async boom' } })
  t.match(failures[2], { level: 50, event: 'subscribe', err: { message: 'subscribe boom' } })
  const outcomes = lines.filter((l) => 'outcome' in l && 'mode' in l).map((l) => l['outcome'])
  t.same(outcomes, ['error', 'error', 'error'], 'the push line says error')
  t.same(errors, [])

  const { app: polite } = await makeApp(t, {
    onMessage: () => {
      throw new Error('boom')
    },
    onError: (err, msg) => {
      errors.push([err, msg])
      return '抱歉，出错了'
    },
  })
  const res = await polite.inject(plainPush(textXml({ msgId: '77' })))
  t.equal(res.statusCode, 200)
  t.equal(field(replyFields(res.body), 'Content'), '抱歉，出错了', 'the apology from onError')
  t.equal(errors.length, 1)
  t.match(errors[0]![0], { message: 'boom' })
  t.match(errors[0]![1], { msgId: '77' })
})

t.test('onError throwing (or rejecting) → success, logged', async (t) => {
  failOnUnhandledRejection(t)
  const { app, lines } = await makeApp(t, {
    ...mixedAccount,
    onMessage: () => {
      throw new Error('first')
    },
    onError: async (_err, msg) => {
      if (msg.msgType === 'text' && msg.content === 'sync') throw new Error('onError too')
      return Promise.reject(new Error('onError rejects'))
    },
  })
  for (const content of ['sync', 'async']) {
    const res = await app.inject(encryptedPush(textXml({ content, msgId: content === 'sync' ? '1' : '2' })))
    t.equal(res.statusCode, 200)
    t.equal(res.body, 'success')
  }
  t.equal(lines.filter((l) => l['msg'] === 'handler failed').length, 2)
  t.equal(lines.filter((l) => /onError failed/.test(String(l['msg']))).length, 2)
})

t.test('an invalid reply object → success, logged', async (t) => {
  failOnUnhandledRejection(t)
  const article = { title: 'T', url: 'http://u' }
  const { app, lines } = await makeApp(t, {
    ...mixedAccount,
    onMessage: (m) =>
      m.msgType === 'text' && m.content === 'news'
        ? { msgType: 'news', articles: [article, article] }
        : ({ msgType: 'hologram' } as never),
    onEvent: () => ({ msgType: 'news', articles: [article, article] }),
  })
  const news = await app.inject(plainPush(textXml({ content: 'news', msgId: '1' })))
  t.equal(news.statusCode, 200)
  t.equal(news.body, 'success', 'a 2-article news reply to a text message cannot be sent')
  const unknown = await app.inject(encryptedPush(textXml({ content: 'x', msgId: '2' })))
  t.equal(unknown.body, 'success', 'an unknown reply type')
  const failures = lines.filter((l) => l['msg'] === 'handler failed')
  t.equal(failures.length, 2)
  t.match(failures[0], { msgId: '1', err: { code: 'INVALID_REPLY' } })
  t.match(failures[1], { msgId: '2', err: { code: 'INVALID_REPLY' } })

  // The same 2-article reply is fine for an event (up to 8 articles).
  const click = await app.inject(encryptedPush(eventXml({ event: 'CLICK', eventKey: 'K' })))
  t.equal(field(replyFields(openEncryptedReply(click.body).xml), 'ArticleCount'), '2', 'two articles answer an event')
})
