/**
 * Shared helpers of the test/core suite (not a test file: tap only runs `*.test.ts`).
 */
import { readFileSync } from 'node:fs'
import type { Test } from 'tap'
import { XmlBuilder, isWxMpError, writeMessage, type WxMpErrorCode } from '../../src/index.js'

/** Runs `fn` and returns what it threw (undefined when it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  return undefined
}

/** Asserts that `fn` throws a WxMpError (recognised by `isWxMpError`) with `code`. */
export function throwsCode(t: Test, fn: () => unknown, code: WxMpErrorCode, what: string): void {
  const err = thrown(fn)
  t.ok(isWxMpError(err), `${what}: throws a WxMpError`)
  t.equal((err as { code?: unknown } | undefined)?.code, code, `${what}: code ${code}`)
}

/** One entry of test/vectors/official-doc.json (only the fields the tests read). */
export interface OfficialVector {
  id: string
  kind: 'signature' | 'decrypt' | 'encrypt-roundtrip'
  token: string
  timestamp: string
  nonce: string
  parts?: string[]
  query?: string
  expected_signature?: string
  echostr?: string
  expected_response_body?: string
  encoding_aes_key?: string
  receive_id?: string
  msg_signature?: string
  encrypt?: string
  expected_plaintext?: string
  expected_random?: string
  expected_msg_len?: number
  expected_ciphertext_bytes?: number
  expected_fullstr_bytes?: number
  random?: string
  plaintext?: string
  expected_encrypt?: string
  expected_msg_signature?: string
  expected_reply_json?: string
  expect_valid: boolean
}

/**
 * The official worked examples (消息加解密说明 / 消息推送), kept in the repository so that a clone
 * anywhere runs them: test/vectors/official-doc.json.
 */
export const officialVectors: OfficialVector[] = JSON.parse(
  readFileSync(new URL('../vectors/official-doc.json', import.meta.url), 'utf8'),
) as OfficialVector[]

/**
 * The safe-mode envelope `<xml><ToUserName/><Encrypt/></xml>` around a given `Encrypt` value (which
 * may be deliberately broken, so not sealed here: `WxMpCrypto.sealPush` makes real ones).
 */
export function envelope(encrypt: string, toUserName = 'gh_97417a04a28d'): string {
  return new XmlBuilder().add('ToUserName', toUserName).add('Encrypt', encrypt).toDocument()
}

/**
 * A plain-text user message as WeChat pushes it (written by the core's writeMessage: CDATA for
 * text, bare numbers); `extra` is XML appended inside the root, for tests of odd documents.
 */
export function textPush(content: string, extra = ''): string {
  const xml = writeMessage({
    toUserName: 'gh_123456789abc',
    fromUserName: 'oUser123',
    createTime: 1700000000,
    msgType: 'text',
    content,
    msgId: '24123456789012345',
  })
  return extra === '' ? xml : xml.slice(0, -'</xml>'.length) + extra + '</xml>'
}
