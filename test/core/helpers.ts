/**
 * Shared helpers of the test/core suite (not a test file: tap only runs `*.test.ts`).
 */
import { readFileSync } from 'node:fs'
import type { Test } from 'tap'
import { isWxMpError, type WxMpErrorCode } from '../../src/index.js'

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

/** A minimal XML envelope of a safe-mode push around an `Encrypt` value. */
export function envelope(encrypt: string, toUserName = 'gh_97417a04a28d'): string {
  return `<xml><ToUserName><![CDATA[${toUserName}]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`
}

/** A plain-text user message, as WeChat pushes it (CDATA for text, bare numbers). */
export function textPush(content: string, extra = ''): string {
  return (
    '<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName>' +
    '<FromUserName><![CDATA[oUser123]]></FromUserName>' +
    '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>' +
    `<Content><![CDATA[${content}]]></Content><MsgId>24123456789012345</MsgId>${extra}</xml>`
  )
}
