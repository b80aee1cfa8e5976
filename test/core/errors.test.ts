import t from 'tap'
import { WxMpError, isWxMpError, WxMpCrypto, computeSignature, parseMessage, parseXmlDocument, readCallback, renderReply, writeMessage, type CallbackInput, type WxMpErrorCode } from '../../src/index.js'
import { createRedisStore } from '../../src/store/index.js'
import { envelope, thrown } from './helpers.js'

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const wx = new WxMpCrypto({ token: 'pamtest', aesKey: KEY, appId: 'wxb11529c136998cb6' })
const other = new WxMpCrypto({ token: 'pamtest', aesKey: KEY, appId: 'wx2c2769f8efd9abc2' })
const wrongKey = new WxMpCrypto({ token: 'pamtest', aesKey: 'A'.repeat(43), appId: 'wxb11529c136998cb6' })
const to = { toUserName: 'gh_1', fromUserName: 'o1', msgType: 'text' }

/** The callback protocol's refusal for `input`, thrown (its decisions are values, not throws). */
function refusal(input: CallbackInput, crypto?: WxMpCrypto, bodyLimitBytes?: number): unknown {
  const decision = readCallback(input, { token: 'pamtest', crypto, timestampToleranceS: 300, allowPlainPushes: false, bodyLimitBytes }, 1_000_000_000_000)
  if (decision.kind === 'refuse') throw decision.error
  return decision
}
const signed = (timestamp = '1000000000') => ({ signature: computeSignature('pamtest', timestamp, '1'), timestamp, nonce: '1' })

/** One way to reach every code from the public API (more cases per code live in the module tests). */
const triggers: Record<WxMpErrorCode, () => unknown> = {
  INVALID_SIGNATURE: () => wx.decryptMessage(envelope(wx.encrypt('<xml/>')), { msgSignature: 'f'.repeat(40), timestamp: '1', nonce: '2' }),
  INVALID_AES_KEY: () => new WxMpCrypto({ token: 't', aesKey: KEY.slice(1), appId: 'wx1' }),
  INVALID_CIPHERTEXT: () => wx.decrypt('%%%'),
  BAD_PADDING: () => wrongKey.decrypt(wx.encrypt('<xml/>', Buffer.from('aaaabbbbccccdddd'))),
  APPID_MISMATCH: () => wx.decrypt(other.encrypt('<xml/>')),
  MALFORMED_XML: () => parseMessage('not xml'),
  DOCTYPE_FORBIDDEN: () => parseMessage('<!DOCTYPE x [<!ENTITY a "b">]><xml><MsgType>text</MsgType></xml>'),
  INVALID_REPLY: () => renderReply({ msgType: 'sticker' } as never, to),
  INVALID_CONFIG: () => new WxMpCrypto({ token: '', aesKey: KEY, appId: 'wx1' }),
  METHOD_NOT_ALLOWED: () => refusal({ method: 'TRACE', query: {} }),
  MISSING_PARAMETER: () => refusal({ method: 'GET', query: {} }),
  STALE_TIMESTAMP: () => refusal({ method: 'GET', query: { ...signed('999999000'), echostr: 'e' } }),
  PLAIN_PUSH_REFUSED: () => refusal({ method: 'POST', query: signed(), body: '<xml/>' }, wx),
  AES_KEY_MISSING: () => refusal({ method: 'POST', query: { ...signed(), encrypt_type: 'aes', msg_signature: 'x' }, body: '<xml><Encrypt>x</Encrypt></xml>' }),
  PAYLOAD_TOO_LARGE: () => refusal({ method: 'POST', query: signed(), body: 'x'.repeat(100) }, undefined, 10),
  // A store call that cannot be done (here: before connect(); the outage cases live in test/store).
  STORE_UNAVAILABLE: () => createRedisStore({ url: 'redis://127.0.0.1:6379' }).get('k'),
  INVALID_MESSAGE: () => writeMessage({ ...to, createTime: 1, msgType: 'text', content: 42 } as never),
}

/** What a trigger throws, or the reason its promise rejects with. */
async function failure(trigger: () => unknown): Promise<unknown> {
  let result: unknown
  try {
    result = trigger()
  } catch (err) {
    return err
  }
  if (result instanceof Promise) return result.then(() => undefined, (err: unknown) => err)
  return undefined
}

const officialCodes: Partial<Record<WxMpErrorCode, number>> = {
  INVALID_SIGNATURE: -40001,
  MALFORMED_XML: -40002,
  INVALID_AES_KEY: -40004,
  APPID_MISMATCH: -40005,
  BAD_PADDING: -40007,
  INVALID_CIPHERTEXT: -40008,
}

t.test('every error code has a negative test', async (t) => {
  for (const [code, trigger] of Object.entries(triggers) as [WxMpErrorCode, () => unknown][]) {
    const err = await failure(trigger)
    t.ok(isWxMpError(err), `${code}: isWxMpError`)
    t.ok(err instanceof WxMpError, `${code}: instanceof WxMpError`)
    t.ok(err instanceof Error, `${code}: an Error`)
    if (!(err instanceof WxMpError)) continue
    t.equal(err.code, code, `${code}: code`)
    t.equal(err.name, 'WxMpError', `${code}: name`)
    t.ok(err.message.length > 20, `${code}: a message that says what to do`)
    t.type(err.stack, 'string')
    if (code in officialCodes) t.equal(err.officialCode, officialCodes[code], `${code}: the WXBizMsgCrypt code`)
  }
})

t.test('WxMpError', async (t) => {
  const cause = new Error('low level')
  const err = new WxMpError('INVALID_CONFIG', 'set WX_MP_TOKEN', { cause })
  t.equal(err.cause, cause, 'cause kept')
  t.equal(err.code, 'INVALID_CONFIG')
  t.equal(err.officialCode, undefined, 'no official code for config errors')
  t.equal(new WxMpError('DOCTYPE_FORBIDDEN', 'x').officialCode, -40002)
  t.equal(String(err), 'WxMpError: set WX_MP_TOKEN')
  // a parser failure carries the parser's error as cause
  const parseErr = thrown(() => parseXmlDocument('<xml><a b="1>1</a></xml>'))
  t.match(parseErr, { code: 'MALFORMED_XML' })
  t.ok((parseErr as Error).cause instanceof Error, 'the parser error is the cause')
})

t.test('isWxMpError', async (t) => {
  t.ok(isWxMpError(new WxMpError('BAD_PADDING', 'x')))
  // another copy of the package (two versions installed): recognised by shape
  const foreign = Object.assign(new Error('x'), { name: 'WxMpError', code: 'BAD_PADDING' })
  t.ok(isWxMpError(foreign), 'same shape from another copy')
  t.notOk(isWxMpError(new Error('x')))
  t.notOk(isWxMpError(Object.assign(new Error('x'), { code: 'BAD_PADDING' })), 'code alone is not enough')
  t.notOk(isWxMpError(Object.assign(new Error('x'), { name: 'WxMpError' })), 'name alone is not enough')
  t.notOk(isWxMpError({ name: 'WxMpError', code: 'BAD_PADDING', message: 'x' }), 'a plain object is not an error')
  t.notOk(isWxMpError(undefined))
  t.notOk(isWxMpError('WxMpError'))
  t.notOk(isWxMpError(new RangeError('random must be a Buffer')), 'programming errors stay ordinary errors')
})
