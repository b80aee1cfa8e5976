/**
 * The callback route over HTTP (`app.inject`): URL verification, the three push modes, every
 * rejection status, and bad input. No rejected request may reach a handler or answer 500.
 */
import t from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { computeSignature, type Message } from '../../src/index.js'
import {
  ACCOUNT,
  OTHER_APP_ID,
  PATH,
  T0_S,
  TOKEN,
  USER,
  accountCrypto,
  encryptedPush,
  failOnUnhandledRejection,
  field,
  makeApp,
  openEncryptedReply,
  plainPush,
  replyFields,
  safeAccount,
  mixedAccount,
  textXml,
  verifyRequest,
} from './helpers.js'

/** Handlers that count their calls and echo text. */
function echo(): { calls: Message[]; onMessage: (m: Message) => string | undefined } {
  const calls: Message[] = []
  return {
    calls,
    onMessage: (m) => {
      calls.push(m)
      return m.msgType === 'text' ? m.content : undefined
    },
  }
}

// ---------------------------------------------------------------------------------------------
// URL verification

t.test('GET verification answers exactly echostr as text/plain', async (t) => {
  const { app } = await makeApp(t)
  const echostr = '5837397749145725069'
  const res = await app.inject(verifyRequest(echostr))
  t.equal(res.statusCode, 200)
  t.equal(res.body, echostr, 'the body is echostr, nothing around it')
  t.match(res.headers['content-type'], /^text\/plain/)
  t.equal(res.rawPayload.length, echostr.length, 'no newline, no quotes')
})

t.test('GET verification: missing parameters → 400, bad signature → 401, stale → 403', async (t) => {
  const { app } = await makeApp(t)
  const full = new URL(verifyRequest('abc').url as string, 'http://x')
  for (const name of ['signature', 'timestamp', 'nonce', 'echostr']) {
    const u = new URL(full)
    u.searchParams.delete(name)
    const res = await app.inject({ method: 'GET', url: u.pathname + u.search })
    t.equal(res.statusCode, 400, `without ${name}: 400`)
    t.not(res.body, 'abc')
  }
  t.equal((await app.inject({ method: 'GET', url: PATH })).statusCode, 400, 'no query at all: 400')
  const bad = await app.inject(verifyRequest('abc', { token: 'otherToken' }))
  t.equal(bad.statusCode, 401, 'signed with another token: 401')
  t.not(bad.body, 'abc', 'echostr is not echoed')
  const stale = await app.inject(verifyRequest('abc', { timestamp: T0_S - 301 }))
  t.equal(stale.statusCode, 403, 'a timestamp 301 s old: 403')
  const future = await app.inject(verifyRequest('abc', { timestamp: T0_S + 301 }))
  t.equal(future.statusCode, 403, 'a timestamp 301 s ahead: 403')
  t.equal((await app.inject(verifyRequest('abc', { timestamp: T0_S - 300 }))).statusCode, 200, 'exactly 300 s old: accepted')
  t.equal((await app.inject(verifyRequest('abc', { timestamp: 'abc' }))).statusCode, 403, 'a non-numeric timestamp: 403')
})

t.test('timestampToleranceS: 0 turns the freshness check off (GET and POST)', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { timestampToleranceS: 0, onMessage })
  const res = await app.inject(verifyRequest('abc', { timestamp: 1_000_000_000 }))
  t.equal(res.statusCode, 200)
  t.equal(res.body, 'abc')
  const push = await app.inject(plainPush(textXml(), { timestamp: 1_000_000_000 }))
  t.equal(push.statusCode, 200)
  t.equal(calls.length, 1)
})

// ---------------------------------------------------------------------------------------------
// Plain mode

t.test('plain mode: the reply swaps ToUserName and FromUserName', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { onMessage })
  const res = await app.inject(plainPush(textXml({ content: '你好 😀' })))
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /xml/)
  const reply = replyFields(res.body)
  t.equal(field(reply, 'ToUserName'), USER, 'to the user')
  t.equal(field(reply, 'FromUserName'), ACCOUNT, 'from the account')
  t.equal(field(reply, 'MsgType'), 'text')
  t.equal(field(reply, 'Content'), '你好 😀')
  t.equal(field(reply, 'CreateTime'), String(T0_S), 'CreateTime in seconds from the clock')
  t.equal(calls.length, 1)
  t.match(calls[0], { msgType: 'text', content: '你好 😀', fromUserName: USER, toUserName: ACCOUNT })
})

t.test('plain mode: missing parameters → 400, bad signature → 401, stale → 403; no handler call', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { onMessage })
  const full = new URL(plainPush(textXml()).url as string, 'http://x')
  for (const name of ['signature', 'timestamp', 'nonce']) {
    const u = new URL(full)
    u.searchParams.delete(name)
    const res = await app.inject({ ...plainPush(textXml()), url: u.pathname + u.search })
    t.equal(res.statusCode, 400, `without ${name}: 400`)
  }
  const bad = await app.inject(plainPush(textXml(), { token: 'otherToken' }))
  t.equal(bad.statusCode, 401, 'another token: 401')
  t.notMatch(bad.body, 'otherToken')
  const stale = await app.inject(plainPush(textXml(), { timestamp: T0_S - 3600 }))
  t.equal(stale.statusCode, 403, 'an hour old: 403')
  t.equal(calls.length, 0, 'no handler ran')
})

t.test('no reply → plain "success"', async (t) => {
  let calls = 0
  const { app } = await makeApp(t, {
    ...mixedAccount,
    onMessage: () => {
      calls++
    },
  })
  const plain = await app.inject(plainPush(textXml({ msgId: '1' })))
  t.equal(plain.body, 'success')
  t.match(plain.headers['content-type'], /^text\/plain/)
  const safe = await app.inject(encryptedPush(textXml({ msgId: '2' })))
  t.equal(safe.statusCode, 200)
  t.equal(safe.body, 'success', 'success is never encrypted')
  t.equal(calls, 2)
})

// ---------------------------------------------------------------------------------------------
// Encrypted modes

t.test('safe mode: <ToUserName>+<Encrypt>, reply encrypted and signed', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { ...mixedAccount, onMessage })
  const request = encryptedPush(textXml({ content: '加密的 hello' }), { mode: 'safe', nonce: '777' })
  t.notMatch(request.payload as string, 'MsgType', 'the body carries no plaintext fields')
  const res = await app.inject(request)
  t.equal(res.statusCode, 200)
  const opened = openEncryptedReply(res.body)
  t.ok(opened.signatureOk, 'MsgSignature matches the reply Encrypt')
  t.equal(opened.timestamp, String(T0_S), 'TimeStamp from the clock')
  const reply = replyFields(opened.xml)
  t.equal(field(reply, 'Content'), '加密的 hello')
  t.equal(field(reply, 'ToUserName'), USER)
  t.equal(field(reply, 'FromUserName'), ACCOUNT)
  t.equal(calls.length, 1)
})

t.test('compatible mode: plaintext fields + <Encrypt>, the handler sees the decrypted message, reply encrypted', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { ...mixedAccount, onMessage })
  // The plaintext copy says one thing, the authenticated ciphertext another: the ciphertext wins.
  const request = encryptedPush(textXml({ content: 'secret text' }), {
    mode: 'compat',
    encrypt: accountCrypto().encrypt(textXml({ content: 'secret text' })),
  })
  const res = await app.inject(request)
  t.equal(res.statusCode, 200)
  const opened = openEncryptedReply(res.body)
  t.ok(opened.signatureOk)
  t.equal(field(replyFields(opened.xml), 'Content'), 'secret text')
  t.equal(calls.length, 1)

  const forged = encryptedPush(textXml({ content: 'forged plaintext', msgId: '99' }), {
    mode: 'compat',
    encrypt: accountCrypto().encrypt(textXml({ content: 'authentic', msgId: '99' })),
  })
  const res2 = await app.inject(forged)
  t.equal(field(replyFields(openEncryptedReply(res2.body).xml), 'Content'), 'authentic', 'the handler saw the decrypted message')
})

t.test('compatible mode: user text containing <Encrypt> in CDATA does not confuse the envelope reader', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { ...mixedAccount, onMessage })
  const content = '<Encrypt>AAAA</Encrypt> and <MsgType>x</MsgType>'
  const res = await app.inject(encryptedPush(textXml({ content }), { mode: 'compat' }))
  t.equal(res.statusCode, 200)
  const body = res.body
  t.equal(field(replyFields(openEncryptedReply(body).xml), 'Content'), content)
  t.equal(calls.length, 1)
  t.match(calls[0], { content })
})

t.test('compatible push with no AES key configured: handled from its plaintext, plain reply', async (t) => {
  const { calls, onMessage } = echo()
  const { app, lines } = await makeApp(t, { onMessage })
  const res = await app.inject(encryptedPush(textXml({ content: 'compat without key' }), { mode: 'compat' }))
  t.equal(res.statusCode, 200)
  const reply = replyFields(res.body)
  t.equal(field(reply, 'Content'), 'compat without key', 'a plaintext reply')
  t.notOk('Encrypt' in reply)
  t.equal(calls.length, 1)
  t.ok(lines.some((l) => /WX_MP_AES_KEY/.test(String(l['msg']))), 'a warning says how to use the encrypted part')

  // Still authenticated by the URL signature.
  const forged = await app.inject(encryptedPush(textXml({ msgId: '2' }), { mode: 'compat', token: 'otherToken' }))
  t.equal(forged.statusCode, 401)
  t.equal(calls.length, 1)
})

t.test('safe push with no AES key configured → 400, no handler call', async (t) => {
  const { calls, onMessage } = echo()
  const { app, lines } = await makeApp(t, { onMessage })
  const res = await app.inject(encryptedPush(textXml(), { mode: 'safe' }))
  t.equal(res.statusCode, 400)
  t.equal(calls.length, 0)
  t.ok(
    lines.some((l) => l['outcome'] === 'rejected' && /WX_MP_AES_KEY/.test(String(l['reason']))),
    'the log says to set WX_MP_AES_KEY and WX_MP_APPID',
  )
})

t.test('encrypted push: msg_signature problems', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { ...mixedAccount, onMessage })
  const good = encryptedPush(textXml())
  const u = new URL(good.url as string, 'http://x')
  u.searchParams.delete('msg_signature')
  t.equal((await app.inject({ ...good, url: u.pathname + u.search })).statusCode, 400, 'without msg_signature: 400')

  const encrypt = accountCrypto().encrypt(textXml())
  const tampered = (encrypt[0] === 'A' ? 'B' : 'A') + encrypt.slice(1)
  const replaced = encrypt.slice(0, 5) + (encrypt[5] === 'A' ? 'B' : 'A') + encrypt.slice(6)
  const res = await app.inject(
    encryptedPush(textXml(), { encrypt: replaced, msgSignature: computeSignature(TOKEN, T0_S, '1320562132', encrypt) }),
  )
  t.equal(res.statusCode, 401, 'a tampered Encrypt with the original (valid-looking) msg_signature: 401')
  t.equal(
    (await app.inject(encryptedPush(textXml(), { encrypt: tampered, msgSignature: computeSignature(TOKEN, T0_S, '1320562132', encrypt) })))
      .statusCode,
    401,
  )
  t.equal((await app.inject(encryptedPush(textXml(), { token: 'otherToken' }))).statusCode, 401, 'signed with another token: 401')
  t.equal(
    (await app.inject(encryptedPush(textXml(), { msgSignature: computeSignature(TOKEN, T0_S, '1320562132') }))).statusCode,
    401,
    'the 3-part URL signature in msg_signature: 401',
  )
  t.equal((await app.inject(encryptedPush(textXml(), { timestamp: T0_S - 400 }))).statusCode, 403, 'stale encrypted push: 403')
  t.equal(calls.length, 0)
})

// ---------------------------------------------------------------------------------------------
// HTTP

t.test('other methods → 405; no handler call', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { onMessage })
  for (const method of ['PUT', 'DELETE', 'PATCH'] as const) {
    const res = await app.inject({ ...plainPush(textXml()), method })
    t.equal(res.statusCode, 405, `${method}: 405`)
    t.match(res.headers['allow'], /GET/)
  }
  t.equal(calls.length, 0)
})

t.test('body over 64 KiB → 413; no handler call', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { onMessage })
  const big = textXml({ content: 'x'.repeat(64 * 1024) })
  const res = await app.inject(plainPush(big))
  t.equal(res.statusCode, 413)
  const alsoWithoutType = await app.inject(plainPush(big, { contentType: null }))
  t.equal(alsoWithoutType.statusCode, 413, 'also without a Content-Type')
  const justUnder = textXml({ content: 'x'.repeat(60 * 1024) })
  t.equal((await app.inject(plainPush(justUnder))).statusCode, 200, 'a 60 KiB body is accepted')
  t.equal(calls.length, 1, 'only the accepted push ran')
})

t.test('content types: a missing Content-Type and the XML / text / form types all work', async (t) => {
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { onMessage })
  const types: Array<string | null> = [null, 'text/xml', 'application/xml', 'text/plain', 'application/x-www-form-urlencoded', 'application/json']
  let i = 0
  for (const contentType of types) {
    const res = await app.inject(plainPush(textXml({ msgId: String(++i), content: `ct ${i}` }), { contentType }))
    t.equal(res.statusCode, 200, `${contentType ?? 'no content type'}: 200`)
    t.equal(field(replyFields(res.body), 'Content'), `ct ${i}`, `${contentType ?? 'no content type'}: echoed`)
  }
  t.equal(calls.length, types.length)
})

t.test('GET /healthz → 200', async (t) => {
  const { app } = await makeApp(t)
  const res = await app.inject({ method: 'GET', url: '/healthz' })
  t.equal(res.statusCode, 200)
})

// ---------------------------------------------------------------------------------------------
// Bad input

t.test('bad input: 400 (or 401) and never a handler call, a 500 or an unhandled rejection', async (t) => {
  failOnUnhandledRejection(t)
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { ...mixedAccount, onMessage, onEvent: onMessage, onSubscribe: onMessage })
  const crypto = accountCrypto()
  const bomb =
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
    `<xml><ToUserName>${ACCOUNT}</ToUserName><FromUserName>${USER}</FromUserName><CreateTime>${T0_S}</CreateTime>` +
    '<MsgType>text</MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>'
  const xxe =
    '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
    `<xml><ToUserName>${ACCOUNT}</ToUserName><FromUserName>${USER}</FromUserName><CreateTime>${T0_S}</CreateTime>` +
    '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>'
  const valid = crypto.encrypt(textXml())
  // A safe-mode push whose msg_signature is correct for the (possibly bad) Encrypt value.
  const signedSafe = (encrypt: string): InjectOptions => encryptedPush(textXml(), { encrypt })

  const cases: Array<[string, InjectOptions, number]> = [
    ['malformed XML (plain)', plainPush('<xml><ToUserName>a</ToUserName><MsgType>text'), 400],
    ['not XML at all (plain)', plainPush('hello world'), 400],
    ['empty body (plain)', plainPush(''), 400],
    ['XML without <xml> root (plain)', plainPush('<root><a>1</a></root>'), 400],
    ['XML missing FromUserName (plain)', plainPush(`<xml><ToUserName>a</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content><MsgId>1</MsgId></xml>`), 400],
    ['DOCTYPE bomb (plain)', plainPush(bomb), 400],
    ['external entity (plain)', plainPush(xxe), 400],
    ['DOCTYPE bomb inside a correctly signed ciphertext', signedSafe(crypto.encrypt(bomb)), 400],
    ['DOCTYPE in the encrypted envelope', { ...encryptedPush(textXml()), payload: '<!DOCTYPE x [<!ENTITY a "b">]>' + (encryptedPush(textXml()).payload as string) }, 400],
    ['encrypted for another appId (same token and key)', signedSafe(accountCrypto(OTHER_APP_ID).encrypt(textXml())), 400],
    ['truncated base64 Encrypt', signedSafe(valid.slice(0, valid.length - 7)), 400],
    ['Encrypt cut to whole blocks (length field out of bounds or padding)', signedSafe(valid.slice(0, 44)), 400],
    ['garbage Encrypt (not base64)', signedSafe('not base64 at all!!'), 400],
    ['garbage Encrypt (base64 of random bytes)', signedSafe(Buffer.alloc(64, 7).toString('base64')), 400],
    ['malformed XML inside a correctly signed ciphertext', signedSafe(crypto.encrypt('<xml><MsgType>text')), 400],
    ['no <Encrypt> element', { ...encryptedPush(textXml()), payload: `<xml><ToUserName>${ACCOUNT}</ToUserName></xml>` }, 400],
    ['empty <Encrypt>', signedSafe(''), 400],
    ['a body that is only whitespace (encrypted)', { ...encryptedPush(textXml()), payload: '   ' }, 400],
  ]
  // The signature is checked before anything is parsed: bad input with a bad signature is a 401.
  cases.push(
    ['malformed XML with a bad signature', plainPush('<xml><MsgType>text', { token: 'wrong' }), 401],
    ['DOCTYPE bomb with a bad signature', plainPush(bomb, { token: 'wrong' }), 401],
    ['garbage Encrypt with a bad msg_signature', encryptedPush(textXml(), { encrypt: 'garbage!!', msgSignature: 'f'.repeat(40) }), 401],
    ['bomb ciphertext with a bad msg_signature', encryptedPush(textXml(), { encrypt: crypto.encrypt(bomb), token: 'wrong' }), 401],
  )
  for (const [what, request, status] of cases) {
    const res: LightMyRequestResponse = await app.inject(request)
    t.equal(res.statusCode, status, `${what}: ${status}`)
    t.not(res.statusCode, 500, `${what}: not 500`)
    t.notMatch(res.body, /Error|at .*\.ts|stack/i, `${what}: no details in the body`)
  }
  t.equal(calls.length, 0, 'no handler ran for any bad input')
  // Still alive and well.
  t.equal((await app.inject(encryptedPush(textXml({ msgId: '42' })))).statusCode, 200)
  t.equal(calls.length, 1)
})

t.test('control characters in text reach the handler unchanged; the echo strips only XML-illegal ones', async (t) => {
  failOnUnhandledRejection(t)
  const { calls, onMessage } = echo()
  const { app } = await makeApp(t, { ...mixedAccount, onMessage })
  const content = 'a\x1db\x01c\td\ne 😀 ]]> end'
  // Built by hand: XmlBuilder (rightly) strips the control characters on output.
  const raw =
    `<xml><ToUserName><![CDATA[${ACCOUNT}]]></ToUserName><FromUserName><![CDATA[${USER}]]></FromUserName>` +
    `<CreateTime>${T0_S}</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
    `<Content><![CDATA[${content.replace(']]>', ']]]]><![CDATA[>')}]]></Content><MsgId>555</MsgId></xml>`
  const plain = await app.inject(plainPush(raw))
  t.equal(plain.statusCode, 200)
  t.equal(calls.length, 1)
  t.equal((calls[0] as { content?: string }).content, content, 'the handler saw the text exactly')
  const expected = 'ab' + 'c\td\ne 😀 ]]> end'
  t.notMatch(plain.body, /[\x00-\x08\x0b\x0c\x0e-\x1f]/, 'the reply holds no XML-illegal character')
  t.equal(field(replyFields(plain.body), 'Content'), expected, 'only \\x1d and \\x01 were dropped; tab, newline, emoji and ]]> kept')

  const safe = await app.inject(encryptedPush(raw.replace('555', '556')))
  t.equal(safe.statusCode, 200)
  t.equal((calls[1] as { content?: string }).content, content, 'also through the ciphertext')
  t.equal(field(replyFields(openEncryptedReply(safe.body).xml), 'Content'), expected)
})

t.test('with an AES key, a plain push is refused (its URL signature does not cover the body)', async (t) => {
  failOnUnhandledRejection(t)
  const { calls, onMessage } = echo()
  const { app, lines } = await makeApp(t, { ...safeAccount, onMessage })
  // The URL of a real safe-mode push, reused with a forged plaintext body and no encrypt_type.
  const real = encryptedPush(textXml({ content: 'real', msgId: '1' }))
  const url = new URL(real.url as string, 'http://x')
  for (const name of ['encrypt_type', 'msg_signature']) url.searchParams.delete(name)
  const forged = await app.inject({ method: 'POST', url: url.pathname + url.search, payload: textXml({ content: 'FORGED', msgId: '2' }) })
  t.equal(forged.statusCode, 401)
  t.equal(calls.length, 0, 'the forged message reached no handler')
  t.ok(lines.some((l) => /plain-mode push refused/.test(String(l['reason']))), 'the log says why and how to fix it')
  t.equal((await app.inject(real)).statusCode, 200, 'the real encrypted push still works')

  const { app: mixed } = await makeApp(t, { ...safeAccount, onMessage, env: { WX_MP_ALLOW_PLAIN_PUSHES: '1' } })
  t.equal((await mixed.inject(plainPush(textXml({ msgId: '3' })))).statusCode, 200, 'WX_MP_ALLOW_PLAIN_PUSHES=1 accepts them while switching modes')
})
