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

/**
 * The query string WeChat puts on a push, in WeChat's order: `signature`, `timestamp`, `nonce`,
 * `openid`, and for an encrypted push `encrypt_type` and `msg_signature` (see
 * {@link WxMpCrypto.sealPush}). Insertion-ordered, so `new URLSearchParams(query)` writes it as
 * WeChat does.
 */
export interface PushQuery {
  signature: string
  timestamp: string
  nonce: string
  /** The sender's OpenID (the push's `FromUserName`); absent when the push has none. */
  openid?: string
  encrypt_type?: 'aes'
  msg_signature?: string
}

/**
 * Signs a plain-mode (明文模式) push the way WeChat does: the query
 * `signature=sha1(sort([token, timestamp, nonce]))&timestamp&nonce&openid`. The body is the
 * plaintext XML itself, unsigned. (The same `signature` is on an encrypted push's URL;
 * {@link WxMpCrypto.sealPush} adds it.)
 *
 * @example
 * ```ts
 * const query = signPushQuery(token, { timestamp: 1714037059, nonce: '486452656', openid })
 * await fetch(`${url}?${new URLSearchParams({ ...query })}`, { method: 'POST', body: xml })
 * ```
 */
export function signPushQuery(token: string, params: { timestamp: string | number; nonce: string | number; openid?: string }): PushQuery {
  const timestamp = String(params.timestamp)
  const nonce = String(params.nonce)
  const query: PushQuery = { signature: computeSignature(token, timestamp, nonce), timestamp, nonce }
  if (params.openid !== undefined) query.openid = params.openid
  return query
}
