/**
 * Issue #9, the items of the dispatcher and the store, each reproduced from the outside (over HTTP
 * with signed pushes, as they were found): lost job events, ambiguous dedup keys, replays within
 * the timestamp window, memory bounded in bytes, and runs of handlers that never settle.
 */
import t from 'tap'
import { MemoryStore } from '../../src/index.js'
import { T0_S, USER, failOnUnhandledRejection, field, makeApp, plainPush, replyFields, textXml, until } from './helpers.js'

const jobXml = (event: string, body: string, from = USER, createTime = T0_S): string =>
  `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>${createTime}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event>${body}</xml>`

t.test('#9.1 job-result events with their own ids are different events, even in the same second', async (t) => {
  const seen: string[] = []
  const { app } = await makeApp(t, {
    onEvent: (e) => {
      seen.push(`${e.event}:${JSON.stringify((e as { msgId?: string }).msgId ?? (e as { publishEventInfo?: { publishId: string } }).publishEventInfo?.publishId)}`)
      return undefined
    },
  })
  const pushes = [
    jobXml('TEMPLATESENDJOBFINISH', '<MsgID>200163836</MsgID><Status><![CDATA[success]]></Status>'),
    jobXml('TEMPLATESENDJOBFINISH', '<MsgID>200163840</MsgID><Status><![CDATA[success]]></Status>'),
    jobXml('MASSSENDJOBFINISH', '<MsgID>1988</MsgID><Status><![CDATA[sendsuccess]]></Status>'),
    jobXml('MASSSENDJOBFINISH', '<MsgID>1989</MsgID><Status><![CDATA[sendsuccess]]></Status>'),
    jobXml('PUBLISHJOBFINISH', '<PublishEventInfo><publish_id>2247503051</publish_id><publish_status>0</publish_status></PublishEventInfo>', 'oSystem'),
    jobXml('PUBLISHJOBFINISH', '<PublishEventInfo><publish_id>2247503052</publish_id><publish_status>0</publish_status></PublishEventInfo>', 'oSystem'),
  ]
  for (const [i, xml] of pushes.entries()) {
    const res = await app.inject(plainPush(xml, { nonce: String(100 + i) }))
    t.equal(res.statusCode, 200)
  }
  t.equal(seen.length, 6, 'every job result reached onEvent')
  // The same job result again (WeChat's retry) is still a retry.
  await app.inject(plainPush(pushes[1]!, { nonce: '999' }))
  t.equal(seen.length, 6, 'a retry of one of them did not run again')
})

t.test('#9.2 dedup keys cannot collide: user "a:b" + MsgId "c" is not user "a" + MsgId "b:c"', async (t) => {
  let runs = 0
  const { app } = await makeApp(t, {
    onMessage: () => {
      runs++
      return `run ${runs}`
    },
  })
  await app.inject(plainPush(textXml({ from: 'a:b', msgId: 'c' })))
  await app.inject(plainPush(textXml({ from: 'a', msgId: 'b:c' })))
  t.equal(runs, 2)
})

t.test('#9.3 a push replayed 62 s (and 299 s) later is a retry: answered from its first answer, never run again', async (t) => {
  let runs = 0
  const { app, clock } = await makeApp(t, {
    onMessage: () => {
      runs++
      return `run ${runs}`
    },
  })
  const push = plainPush(textXml({ msgId: '42' }))
  t.equal(field(replyFields((await app.inject(push)).body), 'Content'), 'run 1')
  clock.advance(62_000)
  t.equal(field(replyFields((await app.inject(push)).body), 'Content'), 'run 1', '62 s later: the first answer')
  clock.advance(237_000)
  t.equal(field(replyFields((await app.inject(push)).body), 'Content'), 'run 1', '299 s later: still the first answer')
  clock.advance(2_000)
  t.equal((await app.inject(push)).statusCode, 403, 'past the 300 s tolerance the timestamp itself is refused')
  t.equal(runs, 1)
})

t.test('#9.6 memory is bounded in bytes: replies of 1 MB (40 MB in all) keep a 4 MiB store under its bound', async (t) => {
  failOnUnhandledRejection(t)
  const { clock } = await makeApp(t, {})
  const store = new MemoryStore({ maxBytes: 4 * 1024 * 1024, now: () => clock.now() })
  const big = 'x'.repeat(1024 * 1024)
  const { app } = await makeApp(t, { clock, store, slowReply: 'next-message', onMessage: () => big })
  for (let i = 0; i < 40; i++) {
    const res = await app.inject(plainPush(textXml({ msgId: String(10_000 + i), from: `user${i % 20}` })))
    t.equal(res.statusCode, 200)
    if (i % 10 === 0) t.ok(store.bytes <= 4 * 1024 * 1024, `after ${i + 1} pushes: ${store.bytes} bytes held`)
    if (i === 0) t.ok(Buffer.byteLength(field(replyFields(res.body), 'Content')) <= 2048, 'the reply is the first part, within 2048 bytes')
  }
  t.ok(store.bytes <= 4 * 1024 * 1024, `${store.bytes} bytes held after 40 MB of replies`)
  clock.advance(31 * 60_000)
  const later = await app.inject(plainPush(textXml({ msgId: '1', from: 'late', createTime: T0_S + 31 * 60 }), { timestamp: T0_S + 31 * 60 }))
  t.equal(later.statusCode, 200)
  t.ok(store.bytes < 256 * 1024 && store.size <= 6, `after the TTLs the sweep dropped what expired: only the last push is left (${store.bytes} bytes, ${store.size} entries)`)
})

t.test('#9.10 handlers that never settle are given up after the job timeout: nothing of their runs is kept', async (t) => {
  failOnUnhandledRejection(t)
  const { app, clock, lines } = await makeApp(t, {
    slowReply: 'next-message',
    jobTimeoutMs: 120_000,
    onMessage: () => new Promise<never>(() => undefined),
  })
  const pushes = Array.from({ length: 200 }, (_, i) => app.inject(plainPush(textXml({ msgId: String(i + 1), from: `u${i}` }))))
  await until(() => clock.pending >= 600, 'every handler running')
  clock.advance(4_500)
  const answers = await Promise.all(pushes)
  t.ok(answers.every((r) => r.statusCode === 200 && /回答正在准备中/.test(r.body)), 'every push answered with the placeholder')
  clock.advance(120_000)
  await until(() => lines.filter((l) => /given up/.test(String(l['msg']))).length === 200, 'every run given up and logged')
  t.equal(clock.pending, 0, 'no timer left behind')
})
