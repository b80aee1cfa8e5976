// Misbehaving servers get the verdict WeChat would give. Timeouts are injected (200 ms) so the
// tests never depend on machine speed.
import t, { type Test } from 'tap'
import { createEmulator, FAILURE_NOTICE, type SendResult } from '../../src/emulator/index.js'
import { renderReply, XmlBuilder } from '../../src/core/index.js'
import { aesKey, appId, freePort, startStub, token, wellBehaved, type Received } from './stub.js'

const attemptTimeoutMs = 200

function codes(result: SendResult): string[] {
  return result.warnings.map((w) => w.code)
}

function failed(t: Test, result: SendResult, code: string): void {
  t.equal(result.ok, false)
  t.equal(result.shown, FAILURE_NOTICE)
  t.equal(result.reply, null)
  t.ok(codes(result).includes(code), `${code} in ${codes(result).join(',')}`)
  t.equal(result.warnings.find((w) => w.code === code)?.level, 'error')
}

t.test('HTTP 500 on every attempt: 3 attempts, then the failure notice', async (t) => {
  const stub = await startStub(t, () => ({ status: 500, body: 'Internal Server Error' }))
  const result = await createEmulator({ url: stub.url, token, attemptTimeoutMs }).send('hi')
  failed(t, result, 'HTTP_STATUS')
  t.same(result.attempts.map((a) => [a.status, a.error]), [[500, 'http_status'], [500, 'http_status'], [500, 'http_status']])
  t.equal(result.warnings.length, 1, 'one problem naming the three attempts')
  t.match(result.warnings[0]?.message, /Attempts 1, 2, 3: HTTP 500/)
})

t.test('slower than the deadline: 3 attempts with the identical body and MsgId', async (t) => {
  const stub = await startStub(t, () => ({ delayMs: 2000, body: 'success' }))
  const result = await createEmulator({ url: stub.url, token, aesKey, appId, attemptTimeoutMs }).send('hi')
  failed(t, result, 'TIMEOUT')
  t.same(result.attempts.map((a) => [a.status, a.error]), [[0, 'timeout'], [0, 'timeout'], [0, 'timeout']])
  for (const a of result.attempts) t.ok(a.ms >= attemptTimeoutMs - 5 && a.ms < 1500, `attempt took ${a.ms} ms`)
  t.equal(stub.received.length, 3)
  const [first, ...rest] = stub.received as [Received, ...Received[]]
  for (const r of rest) {
    t.equal(r.body, first.body, 'same body')
    t.equal(r.url.search, first.url.search, 'same signed query')
  }
})

t.test('slow first attempt, fast retry: the reply shows, with a HELD warning (delivered, but counted in WeChat\'s alarms)', async (t) => {
  let n = 0
  const ok = wellBehaved({ mode: 'plain', reply: () => 'late but here' })
  const msgIds: string[] = []
  const stub = await startStub(t, (req) => {
    msgIds.push(/<MsgId>(\d+)<\/MsgId>/.exec(req.body)?.[1] ?? '')
    return n++ === 0 ? { delayMs: 2000 } : ok(req)
  })
  const result = await createEmulator({ url: stub.url, token, attemptTimeoutMs }).send('hi')
  t.equal(result.ok, true)
  t.equal(result.shown, 'late but here')
  t.same(codes(result), ['HELD'])
  t.equal(result.warnings[0]?.level, 'warning')
  t.match(result.warnings[0]?.message, /Attempt 1 was held past 5 s .* attempt 2/)
  t.equal(msgIds.length, 2)
  t.equal(msgIds[0], msgIds[1])
  t.equal(msgIds[0], result.msgId)
})

t.test('a redirect is a failure: WeChat does not follow it', async (t) => {
  const stub = await startStub(t, () => ({ status: 302, headers: { location: 'https://example.com/wechat' } }))
  const result = await createEmulator({ url: stub.url, token, attemptTimeoutMs }).send('hi')
  failed(t, result, 'REDIRECT')
  t.same(result.attempts.map((a) => [a.status, a.error]), [[302, 'redirect'], [302, 'redirect'], [302, 'redirect']])
  t.match(result.warnings[0]?.message, /https:\/\/example\.com\/wechat/)
})

t.test('connection refused: status 0, error refused', async (t) => {
  const port = await freePort()
  const result = await createEmulator({ url: `http://127.0.0.1:${port}/`, token, attemptTimeoutMs }).send('hi')
  failed(t, result, 'CONNECTION_REFUSED')
  t.same(result.attempts.map((a) => [a.status, a.error]), [[0, 'refused'], [0, 'refused'], [0, 'refused']])
})

t.test('malformed XML, JSON and HTML answers', async (t) => {
  for (const [body, hint] of [
    ['<xml><ToUserName>', /not/],
    ['{"msgtype":"text"}', /JSON/],
    ['<!DOCTYPE html><html><body>error</body></html>', /DOCTYPE|HTML/],
    ['hello', /not/],
  ] as const) {
    const stub = await startStub(t, () => ({ body }))
    const result = await createEmulator({ url: stub.url, token, attemptTimeoutMs }).send('hi')
    failed(t, result, 'MALFORMED_XML')
    t.match(result.warnings[0]?.message, hint)
    // An answer WeChat cannot use is a failed attempt: it re-pushes at once (not after 5 s).
    t.same(result.attempts.map((a) => [a.status, a.error]), [[200, 'invalid_reply'], [200, 'invalid_reply'], [200, 'invalid_reply']])
    t.ok(result.attempts[2]!.at < 1500, `re-pushed at once, not after the deadline (${result.attempts.map((a) => a.at).join(', ')} ms)`)
    t.equal(stub.received.length, 3)
  }
})

t.test('safe mode: bad MsgSignature, wrong appId, plaintext reply', async (t) => {
  const cases = [
    [{ badSignature: true }, 'BAD_MSG_SIGNATURE'],
    [{ replyAppId: 'wxOTHERAPPID000000' }, 'APPID_MISMATCH'],
    [{ plaintextReply: true }, 'NOT_ENCRYPTED'],
  ] as const
  for (const [misbehaviour, code] of cases) {
    const stub = await startStub(t, wellBehaved({ mode: 'safe', reply: () => 'secret', ...misbehaviour }))
    const result = await createEmulator({ url: stub.url, token, aesKey, appId, attemptTimeoutMs }).send('hi')
    failed(t, result, code)
  }
})

t.test('compat mode accepts a plaintext reply; plain mode refuses an encrypted one', async (t) => {
  const compat = await startStub(t, wellBehaved({ mode: 'compat', reply: () => 'plain is fine', plaintextReply: true }))
  const ok = await createEmulator({ url: compat.url, token, aesKey, appId, mode: 'compat' }).send('hi')
  t.equal(ok.ok, true)
  t.equal(ok.shown, 'plain is fine')
  const stub = await startStub(t, () => ({ body: '<xml><Encrypt><![CDATA[abc]]></Encrypt><MsgSignature>x</MsgSignature><TimeStamp>1</TimeStamp><Nonce>1</Nonce></xml>' }))
  failed(t, await createEmulator({ url: stub.url, token }).send('hi'), 'UNEXPECTED_ENCRYPTION')
})

t.test('millisecond CreateTime: a warning, the reply still shows', async (t) => {
  const stub = await startStub(t, wellBehaved({ mode: 'safe', reply: () => 'hi', mutateReply: (xml) => xml.replace(/<CreateTime>\d+<\/CreateTime>/, `<CreateTime>${Date.now()}</CreateTime>`) }))
  const result = await createEmulator({ url: stub.url, token, aesKey, appId }).send('hi')
  t.equal(result.ok, true)
  t.equal(result.shown, 'hi')
  t.same(codes(result), ['CREATE_TIME_MILLISECONDS'])
  t.equal(result.warnings[0]?.level, 'warning')
})

t.test('text over 2048 bytes: a warning', async (t) => {
  const long = '长'.repeat(683) // 2049 bytes
  const stub = await startStub(t, wellBehaved({ mode: 'plain', reply: () => long }))
  const result = await createEmulator({ url: stub.url, token }).send('hi')
  t.equal(result.ok, true)
  t.equal(result.shown, long)
  t.same(codes(result), ['TEXT_TOO_LONG'])
  t.match(result.warnings[0]?.message, /2049 bytes/)
})

function newsBody(to: string, from: string, count: number): string {
  const items = new XmlBuilder()
  for (let i = 1; i <= count; i++) items.add('item', new XmlBuilder().add('Title', `Card ${i}`).add('Url', 'https://example.com'))
  return new XmlBuilder()
    .add('ToUserName', to)
    .add('FromUserName', from)
    .add('CreateTime', Math.floor(Date.now() / 1000))
    .add('MsgType', 'news')
    .add('ArticleCount', count)
    .add('Articles', items)
    .toDocument()
}

function newsStub(count: number) {
  return (req: Received) => {
    const to = /<FromUserName><!\[CDATA\[(.*?)\]\]>/.exec(req.body)?.[1] ?? ''
    const from = /<ToUserName><!\[CDATA\[(.*?)\]\]>/.exec(req.body)?.[1] ?? ''
    return { body: newsBody(to, from, count) }
  }
}

t.test('news limits: 1 article for user messages, 8 for events', async (t) => {
  const two = await startStub(t, newsStub(2))
  failed(t, await createEmulator({ url: two.url, token }).send('hi'), 'NEWS_TOO_MANY_ARTICLES')
  const eight = await startStub(t, newsStub(8))
  const ok = await createEmulator({ url: eight.url, token }).send({ msgType: 'event', event: 'subscribe' })
  t.equal(ok.ok, true)
  t.equal(ok.shown, Array.from({ length: 8 }, (_, i) => `[news] Card ${i + 1}`).join('\n'))
  const nine = await startStub(t, newsStub(9))
  failed(t, await createEmulator({ url: nine.url, token }).send({ msgType: 'event', event: 'CLICK', eventKey: 'K' }), 'NEWS_TOO_MANY_ARTICLES')
  const one = await startStub(t, newsStub(1))
  const single = await createEmulator({ url: one.url, token }).send('hi')
  t.equal(single.ok, true)
  t.same(single.reply, { msgType: 'news', articles: [{ title: 'Card 1', url: 'https://example.com' }] })
})

t.test('To/From not swapped, unknown MsgType, missing MediaId', async (t) => {
  const cases: Array<[(xml: string) => string, string]> = [
    [(xml) => xml.replace(/<ToUserName>(.*?)<\/ToUserName><FromUserName>(.*?)<\/FromUserName>/, '<ToUserName>$2</ToUserName><FromUserName>$1</FromUserName>'), 'WRONG_TO_USER'],
    [(xml) => xml.replace('<![CDATA[text]]>', '<![CDATA[markdown]]>'), 'UNKNOWN_MSG_TYPE'],
  ]
  for (const [mutateReply, code] of cases) {
    const stub = await startStub(t, wellBehaved({ mode: 'compat', reply: () => 'x', mutateReply }))
    failed(t, await createEmulator({ url: stub.url, token, aesKey, appId, mode: 'compat' }).send('hi'), code)
  }
  const stub = await startStub(t, wellBehaved({ mode: 'plain', reply: () => ({ msgType: 'image', mediaId: 'M' }), mutateReply: (xml) => xml.replace(/<Image>.*<\/Image>/, '<Image></Image>') }))
  failed(t, await createEmulator({ url: stub.url, token }).send('hi'), 'MISSING_FIELD')
})

t.test('what the phone shows for each reply kind', async (t) => {
  const replies = [
    [{ msgType: 'image', mediaId: 'IMG' }, '[image media_id=IMG]'],
    [{ msgType: 'voice', mediaId: 'VOI' }, '[voice media_id=VOI]'],
    [{ msgType: 'video', mediaId: 'VID', title: 'Trailer' }, '[video media_id=VID Trailer]'],
    [{ msgType: 'music', thumbMediaId: 'T', title: 'Song' }, '[music Song]'],
    [{ msgType: 'transfer_customer_service' }, '[transfer to customer service]'],
  ] as const
  for (const [reply, shown] of replies) {
    const stub = await startStub(t, wellBehaved({ mode: 'safe', reply: () => reply }))
    const result = await createEmulator({ url: stub.url, token, aesKey, appId }).send('hi')
    t.equal(result.ok, true)
    t.equal(result.shown, shown)
    t.same(result.reply, reply)
    t.same(result.warnings, [])
  }
})

t.test('empty body and "success" with a newline', async (t) => {
  const empty = await startStub(t, () => ({ body: '' }))
  const none = await createEmulator({ url: empty.url, token }).send('hi')
  t.same([none.ok, none.shown, none.warnings], [true, '', []])
  const newline = await startStub(t, () => ({ body: 'success\n' }))
  const warned = await createEmulator({ url: newline.url, token }).send('hi')
  t.same([warned.ok, warned.shown, codes(warned)], [true, '', ['SUCCESS_WHITESPACE']])
})

t.test('renderReply output passes the judge unchanged', async (t) => {
  // Guards against the judge and the core disagreeing on the reply format.
  const stub = await startStub(t, (req) => {
    const to = /<FromUserName><!\[CDATA\[(.*?)\]\]>/.exec(req.body)?.[1] ?? ''
    const from = /<ToUserName><!\[CDATA\[(.*?)\]\]>/.exec(req.body)?.[1] ?? ''
    return { body: renderReply({ msgType: 'news', articles: [{ title: 'T', description: 'D', picUrl: 'P', url: 'U' }] }, { toUserName: from, fromUserName: to, msgType: 'text' }) }
  })
  const result = await createEmulator({ url: stub.url, token }).send('hi')
  t.same(result.reply, { msgType: 'news', articles: [{ title: 'T', description: 'D', picUrl: 'P', url: 'U' }] })
  t.same(result.warnings, [])
})
