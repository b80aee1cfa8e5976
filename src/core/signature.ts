/**
 * WeChat's SHA-1 signatures: the 3-part `signature` of every callback URL and the 4-part
 * `msg_signature` of encrypted pushes.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 *
 * @module
 */
import * as nodeCrypto from 'node:crypto'
import { createHash, timingSafeEqual } from 'node:crypto'

type OneShotHash = (algorithm: string, data: string, outputEncoding: 'hex') => string
/** `crypto.hash` (Node ≥ 20.12): one call instead of a Hash object per signature. */
const oneShotHash = (nodeCrypto as { hash?: OneShotHash }).hash
const sha1Hex: (data: string) => string = oneShotHash
  ? (data) => oneShotHash('sha1', data, 'hex')
  : (data) => createHash('sha1').update(data).digest('hex')

/**
 * `sha1(sort(parts).join(''))` as lowercase hex: the signature scheme shared by the URL `signature`
 * (token, timestamp, nonce) and the `msg_signature` (token, timestamp, nonce, Encrypt).
 *
 * Parts are sorted as strings (code-unit order, which equals byte order for the ASCII values
 * WeChat uses). Numbers are accepted and turned into their decimal string.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export function computeSignature(...parts: ReadonlyArray<string | number>): string {
  const sorted = parts.map(String).sort()
  return sha1Hex(sorted.join(''))
}

/**
 * Compares a received hex signature with the expected one in constant time.
 *
 * Case-insensitive (WeChat sends lowercase; some proxies and tools uppercase hex). A value of the
 * wrong length is rejected without comparing: the length of a SHA-1 hex digest is public.
 */
export function signatureMatches(received: string, expected: string): boolean {
  if (typeof received !== 'string' || received.length !== expected.length) return false
  const a = Buffer.from(received.toLowerCase(), 'latin1')
  const b = Buffer.from(expected, 'latin1')
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Checks the 3-part `signature` WeChat puts on every callback URL (URL verification and plain-mode
 * pushes): `sha1(sort([token, timestamp, nonce]).join(''))`, compared in constant time.
 *
 * Freshness of `timestamp` is a separate check (the server adapter does it); this function only
 * answers whether the signature was made with `token`.
 *
 * @example
 * ```ts
 * import { checkSignature } from 'wx-mp-svr'
 * if (!checkSignature(token, query.signature, query.timestamp, query.nonce)) reply.code(401)
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
 */
export function checkSignature(
  token: string,
  signature: string,
  timestamp: string | number,
  nonce: string | number,
): boolean {
  if (typeof token !== 'string' || token === '') return false
  if (typeof signature !== 'string' || timestamp == null || nonce == null) return false
  return signatureMatches(signature, computeSignature(token, timestamp, nonce))
}
