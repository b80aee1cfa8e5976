// WeChat's side of the crypto (issue #10): sealPush and openReply, against the official worked
// example byte for byte, and their refusals.
import t from 'tap'
import { WxMpCrypto, XmlBuilder, computeSignature, readElementText, signPushQuery, writeMessage } from '../../src/index.js'
import { officialVectors, thrown, throwsCode } from './helpers.js'

const decryptVector = officialVectors.find((v) => v.id === 'official-doc-safe-post-decrypt')!
const replyVector = officialVectors.find((v) => v.id === 'official-doc-reply-encrypt')!
const plainVector = officialVectors.find((v) => v.id === 'official-doc-plain-post-signature')!

function officialCrypto(): WxMpCrypto {
  return new WxMpCrypto({ token: decryptVector.token, aesKey: decryptVector.encoding_aes_key!, appId: decryptVector.receive_id! })
}

t.test('sealPush reproduces the official safe-mode push exactly', async (t) => {
  const sealed = officialCrypto().sealPush(decryptVector.expected_plaintext!, {
    timestamp: decryptVector.timestamp,
    nonce: decryptVector.nonce,
    random: Buffer.from(decryptVector.expected_random!, 'latin1'),
    // the example's plaintext is JSON: the header cannot be read from it
    toUserName: 'gh_97417a04a28d',
    openid: 'o9AgO5Kd5ggOC-bXrbNODIiE3bGY',
  })
  t.equal(new URLSearchParams({ ...sealed.query }).toString(), decryptVector.query, 'the query string, in WeChat\'s order')
  t.equal(readElementText(sealed.body, 'Encrypt'), decryptVector.encrypt, 'the Encrypt value')
  t.equal(readElementText(sealed.body, 'ToUserName'), 'gh_97417a04a28d')
})

t.test('signPushQuery reproduces the official plain-mode signature', async (t) => {
  const query = signPushQuery(plainVector.token, { timestamp: plainVector.timestamp, nonce: plainVector.nonce, openid: 'oUser' })
  t.same(query, { signature: plainVector.expected_signature, timestamp: plainVector.timestamp, nonce: plainVector.nonce, openid: 'oUser' })
  t.same(Object.keys(signPushQuery('t', { timestamp: 1, nonce: 2 })), ['signature', 'timestamp', 'nonce'], 'no openid when none is given')
})

t.test('openReply opens the official reply envelope', async (t) => {
  const crypto = officialCrypto()
  const envelope = new XmlBuilder()
    .add('Encrypt', replyVector.expected_encrypt!)
    .add('MsgSignature', replyVector.expected_msg_signature!)
    .add('TimeStamp', Number(replyVector.timestamp))
    .add('Nonce', replyVector.nonce)
    .toDocument()
  t.equal(crypto.openReply(envelope), replyVector.plaintext)
  t.equal(crypto.openReply(envelope, { timestamp: replyVector.timestamp, nonce: replyVector.nonce }), replyVector.plaintext, 'with the expected TimeStamp and Nonce')
  const made = crypto.encryptMessage(replyVector.plaintext!, { timestamp: replyVector.timestamp, nonce: replyVector.nonce, random: Buffer.from(replyVector.random!, 'latin1') })
  t.equal(made, envelope, 'encryptMessage writes exactly that envelope: the two are inverses')
})

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const crypto = new WxMpCrypto({ token: 'tok', aesKey: KEY, appId: 'wx1234567890abcdef' })
const other = new WxMpCrypto({ token: 'tok', aesKey: KEY, appId: 'wxfedcba0987654321' })
const xml = writeMessage({ toUserName: 'gh_1', fromUserName: 'oUser', createTime: 1700000000, msgType: 'text', content: 'hi', msgId: '1' })

t.test('openReply refuses what WeChat refuses, with typed errors', async (t) => {
  const good = crypto.encryptMessage('<xml/>', { timestamp: 1700000000, nonce: '42' })
  throwsCode(t, () => crypto.openReply('success'), 'MALFORMED_XML', '"success" is not an envelope')
  throwsCode(t, () => crypto.openReply(xml), 'MALFORMED_XML', 'a plaintext reply has no <Encrypt>')
  throwsCode(t, () => crypto.openReply(good.replace(/<Nonce>.*<\/Nonce>/, '')), 'MALFORMED_XML', 'no <Nonce>')
  throwsCode(t, () => crypto.openReply(good.replace(/<MsgSignature><!\[CDATA\[./, '<MsgSignature><![CDATA[x')), 'INVALID_SIGNATURE', 'a wrong MsgSignature')
  throwsCode(t, () => crypto.openReply(good, { nonce: '43' }), 'INVALID_SIGNATURE', 'another Nonce than expected')
  throwsCode(t, () => crypto.openReply(good, { timestamp: 1 }), 'INVALID_SIGNATURE', 'another TimeStamp than expected')
  throwsCode(t, () => crypto.openReply(other.encryptMessage('<xml/>', { timestamp: 1, nonce: 2 })), 'APPID_MISMATCH', 'encrypted for another appId')
  throwsCode(t, () => crypto.openReply('<!DOCTYPE x><xml/>'), 'DOCTYPE_FORBIDDEN', 'a DOCTYPE')
  throwsCode(t, () => crypto.openReply(undefined as never), 'MALFORMED_XML', 'not a string')
  t.equal(crypto.openReply(good), '<xml/>')
})

t.test('sealPush: modes, header defaults and refusals', async (t) => {
  const safe = crypto.sealPush(xml, { timestamp: 1700000000, nonce: '7' })
  t.same(Object.keys(safe.query), ['signature', 'timestamp', 'nonce', 'openid', 'encrypt_type', 'msg_signature'])
  t.equal(safe.query.signature, computeSignature('tok', 1700000000, '7'))
  t.equal(safe.query.openid, 'oUser', 'openid from the push')
  t.match(safe.body, /^<xml><ToUserName><!\[CDATA\[gh_1\]\]><\/ToUserName><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt><\/xml>$/)
  const compat = crypto.sealPush(xml, { timestamp: 1700000000, nonce: '7', mode: 'compat' })
  t.ok(compat.body.startsWith(xml.slice(0, -'</xml>'.length) + '<Encrypt>'), 'compat: the plaintext, then <Encrypt>')
  t.not(safe.query.msg_signature, crypto.sealPush(xml, { timestamp: 1700000000, nonce: '7' }).query.msg_signature, 'a fresh random prefix each time')
  throwsCode(t, () => crypto.sealPush('{"a":1}', { timestamp: 1, nonce: 2 }), 'MALFORMED_XML', 'no ToUserName for the safe envelope')
  throwsCode(t, () => crypto.sealPush('{"a":1}', { timestamp: 1, nonce: 2, mode: 'compat' }), 'MALFORMED_XML', 'compat needs an <xml> document')
  throwsCode(t, () => crypto.sealPush(xml, { timestamp: 1, nonce: 2, mode: 'plain' as never }), 'INVALID_CONFIG', 'plain is not sealed')
  t.ok(thrown(() => crypto.sealPush(xml, { timestamp: 1, nonce: 2, random: Buffer.alloc(3) })) instanceof RangeError, 'a random prefix of the wrong size')
})
