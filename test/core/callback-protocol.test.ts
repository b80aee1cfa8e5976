/**
 * The callback protocol as a pure function: every decision (verification, push with its mode,
 * each refusal code) from plain values, with no server, clock or randomness.
 */
import t, { type Test } from 'tap'
import {
  WxMpCrypto,
  XmlBuilder,
  computeSignature,
  readCallback,
  writeCallbackReply,
  type CallbackAccount,
  type CallbackDecision,
  type WxMpErrorCode,
} from '../../src/core/index.js'

const TOKEN = 'protoTok3n'
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const APP_ID = 'wx1234567890abcdef'
const NOW_S = 1_700_000_000
const NOW = NOW_S * 1000
const crypto = new WxMpCrypto({ token: TOKEN, aesKey: KEY, appId: APP_ID })
const plainAccount: CallbackAccount = { token: TOKEN, timestampToleranceS: 300, allowPlainPushes: false }
const safeAccount: CallbackAccount = { ...plainAccount, crypto }

const xml = new XmlBuilder()
  .add('ToUserName', 'gh_1')
  .add('FromUserName', 'oUser')
  .add('CreateTime', NOW_S)
  .add('MsgType', 'text')
  .add('Content', 'hello')
  .add('MsgId', '1')
  .toDocument()

function signed(ts: number = NOW_S, nonce = '42', token = TOKEN): Record<string, string> {
  return { signature: computeSignature(token, String(ts), nonce), timestamp: String(ts), nonce }
}

function encrypted(mode: 'safe' | 'compat', ts: number = NOW_S): { query: Record<string, string>; body: string } {
  const encrypt = crypto.encrypt(xml)
  const query = { ...signed(ts), encrypt_type: 'aes', msg_signature: crypto.sign(String(ts), '42', encrypt) }
  const envelope = new XmlBuilder().add('Encrypt', encrypt).toString()
  const body = mode === 'safe' ? `<xml><ToUserName><![CDATA[gh_1]]></ToUserName>${envelope}</xml>` : xml.replace('</xml>', `${envelope}</xml>`)
  return { query, body }
}

function refusedWith(t: Test, decision: CallbackDecision, code: WxMpErrorCode, what: string): void {
  t.equal(decision.kind, 'refuse', `${what}: refused`)
  if (decision.kind === 'refuse') {
    t.equal(decision.error.code, code, `${what}: ${code}`)
    t.notMatch(decision.error.message, TOKEN, `${what}: the reason holds no secret`)
    t.notMatch(decision.error.message, KEY, `${what}: the reason holds no secret`)
  }
}

t.test('URL verification: echostr when signed and fresh', async (t) => {
  const ok = readCallback({ method: 'GET', query: { ...signed(), echostr: 'e1' } }, plainAccount, NOW)
  t.same(ok, { kind: 'verify', echostr: 'e1' })
  t.same(readCallback({ method: 'HEAD', query: { ...signed(), echostr: 'e1' } }, safeAccount, NOW), { kind: 'verify', echostr: 'e1' }, 'HEAD too')
  refusedWith(t, readCallback({ method: 'GET', query: signed() }, plainAccount, NOW), 'MISSING_PARAMETER', 'no echostr')
  refusedWith(t, readCallback({ method: 'GET', query: { ...signed(NOW_S, '42', 'other'), echostr: 'e' } }, plainAccount, NOW), 'INVALID_SIGNATURE', 'another token')
  refusedWith(t, readCallback({ method: 'GET', query: { ...signed(NOW_S - 301), echostr: 'e' } }, plainAccount, NOW), 'STALE_TIMESTAMP', '301 s old')
  t.equal(readCallback({ method: 'GET', query: { ...signed(NOW_S - 301), echostr: 'e' } }, { ...plainAccount, timestampToleranceS: 0 }, NOW).kind, 'verify', 'tolerance 0: no check')
})

t.test('pushes in the three modes', async (t) => {
  const plain = readCallback({ method: 'POST', query: signed(), body: xml }, plainAccount, NOW)
  t.match(plain, { kind: 'push', mode: 'plain', readFromPlaintext: false, message: { msgType: 'text', content: 'hello' } })
  const safe = encrypted('safe')
  t.match(readCallback({ method: 'POST', ...safe }, safeAccount, NOW), { kind: 'push', mode: 'safe', message: { content: 'hello' } })
  const compat = encrypted('compat')
  t.match(readCallback({ method: 'POST', ...compat }, safeAccount, NOW), { kind: 'push', mode: 'compat', readFromPlaintext: false })
  t.match(
    readCallback({ method: 'POST', ...compat }, plainAccount, NOW),
    { kind: 'push', mode: 'compat', readFromPlaintext: true, message: { content: 'hello' } },
    'a compatible push on a server without a key is read from its plaintext',
  )
})

t.test('refusals, each with its code', async (t) => {
  for (const method of ['PUT', 'DELETE', 'TRACE', 'PROPFIND', 'OPTIONS']) {
    refusedWith(t, readCallback({ method, query: signed(), body: xml }, plainAccount, NOW), 'METHOD_NOT_ALLOWED', method)
  }
  refusedWith(t, readCallback({ method: 'POST', query: signed(), body: xml }, { ...plainAccount, bodyLimitBytes: 100 }, NOW), 'PAYLOAD_TOO_LARGE', 'over the limit')
  t.equal(readCallback({ method: 'POST', query: signed(), body: xml }, { ...plainAccount, bodyLimitBytes: xml.length }, NOW).kind, 'push', 'exactly at the limit')
  refusedWith(t, readCallback({ method: 'POST', query: {}, body: xml }, plainAccount, NOW), 'MISSING_PARAMETER', 'no query')
  refusedWith(t, readCallback({ method: 'POST', query: { ...signed(), signature: ['a', 'b'] }, body: xml }, plainAccount, NOW), 'MISSING_PARAMETER', 'repeated signature')
  refusedWith(t, readCallback({ method: 'POST', query: signed(NOW_S, '42', 'x'), body: xml }, plainAccount, NOW), 'INVALID_SIGNATURE', 'bad signature')
  refusedWith(t, readCallback({ method: 'POST', query: signed(NOW_S + 400), body: xml }, plainAccount, NOW), 'STALE_TIMESTAMP', 'from the future')
  refusedWith(t, readCallback({ method: 'POST', query: signed(), body: xml }, safeAccount, NOW), 'PLAIN_PUSH_REFUSED', 'plain push with a key')
  t.equal(readCallback({ method: 'POST', query: signed(), body: xml }, { ...safeAccount, allowPlainPushes: true }, NOW).kind, 'push', 'allowed while switching')
  refusedWith(t, readCallback({ method: 'POST', ...encrypted('safe') }, plainAccount, NOW), 'AES_KEY_MISSING', 'safe push without a key')
  refusedWith(t, readCallback({ method: 'POST', ...encrypted('safe', NOW_S - 400) }, safeAccount, NOW), 'STALE_TIMESTAMP', 'stale encrypted push')
  const other = new WxMpCrypto({ token: TOKEN, aesKey: KEY, appId: 'wxother' })
  const foreign = other.encrypt(xml)
  const foreignQuery = { ...signed(), encrypt_type: 'aes', msg_signature: other.sign(String(NOW_S), '42', foreign) }
  refusedWith(t, readCallback({ method: 'POST', query: foreignQuery, body: `<xml><Encrypt>${foreign}</Encrypt></xml>` }, safeAccount, NOW), 'APPID_MISMATCH', 'another appId')
  const { query } = encrypted('safe')
  refusedWith(t, readCallback({ method: 'POST', query, body: '<xml><ToUserName>gh</ToUserName></xml>' }, safeAccount, NOW), 'MALFORMED_XML', 'no Encrypt')
  refusedWith(t, readCallback({ method: 'POST', query: { ...query, msg_signature: 'f'.repeat(40) }, body: encrypted('safe').body }, safeAccount, NOW), 'INVALID_SIGNATURE', 'bad msg_signature')
  refusedWith(t, readCallback({ method: 'POST', query: signed(), body: '<xml><MsgType>text' }, plainAccount, NOW), 'MALFORMED_XML', 'malformed XML')
})

t.test('writeCallbackReply: success, plain XML, or the encrypted envelope', async (t) => {
  const reply = '<xml><Content><![CDATA[hi]]></Content></xml>'
  t.equal(writeCallbackReply(null, 'safe', safeAccount, { timestamp: NOW_S, nonce: '7' }), 'success')
  t.equal(writeCallbackReply(reply, 'plain', safeAccount, { timestamp: NOW_S, nonce: '7' }), reply)
  t.equal(writeCallbackReply(reply, 'compat', plainAccount, { timestamp: NOW_S, nonce: '7' }), reply, 'no key: plaintext')
  const body = writeCallbackReply(reply, 'safe', safeAccount, { timestamp: NOW_S, nonce: '7' })
  const encrypt = /<Encrypt><!\[CDATA\[(.+?)\]\]><\/Encrypt>/.exec(body)?.[1]
  t.ok(encrypt, 'an envelope')
  t.ok(crypto.verify(/<MsgSignature><!\[CDATA\[(\w+)\]\]>/.exec(body)![1]!, NOW_S, '7', encrypt!), 'signed')
  t.equal(crypto.decrypt(encrypt!), reply)
})
