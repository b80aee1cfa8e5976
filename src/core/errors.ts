/**
 * Typed errors of the protocol core.
 *
 * Every failure the core can report is a {@link WxMpError} with a stable string {@link WxMpError.code}.
 * The core never decides what HTTP status a failure deserves: adapters (the Fastify plugin, the CLI)
 * map codes to statuses and exit codes.
 *
 * Official reference (the numeric codes of WXBizMsgCrypt):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 *
 * @module
 */

/**
 * The string codes a {@link WxMpError} can carry.
 *
 * - `INVALID_SIGNATURE`: `signature` or `msg_signature` does not match the token.
 * - `INVALID_AES_KEY`: the EncodingAESKey is not 43 characters of `[A-Za-z0-9]`.
 * - `INVALID_CIPHERTEXT`: `<Encrypt>` is not base64 of whole AES blocks, or its length field is out of bounds.
 * - `BAD_PADDING`: the decrypted PKCS#7 padding is not 1..32 equal bytes (wrong key, or tampered data).
 * - `APPID_MISMATCH`: the ciphertext was made for another appId.
 * - `MALFORMED_XML`: the document is not a WeChat `<xml>` message.
 * - `DOCTYPE_FORBIDDEN`: the document carries a DOCTYPE or entity declaration.
 * - `INVALID_REPLY`: a reply object cannot be rendered (unknown type, missing field, over a limit).
 * - `INVALID_MESSAGE`: a message object cannot be written as a push (a value of the wrong type, an
 *   unknown kind without `raw`).
 * - `INVALID_CONFIG`: an option or environment variable is missing or malformed.
 *
 * Refusals of the callback protocol (see `readCallback`), besides `INVALID_SIGNATURE`, the
 * decryption codes and `MALFORMED_XML` above:
 * - `METHOD_NOT_ALLOWED`: the callback URL answers GET (and HEAD) and POST only.
 * - `MISSING_PARAMETER`: a query parameter WeChat always sends (`signature`, `timestamp`, `nonce`,
 *   `echostr`, `msg_signature`) is absent.
 * - `STALE_TIMESTAMP`: `timestamp` is outside the tolerance (a replay, or a clock that is off).
 * - `PLAIN_PUSH_REFUSED`: a plain (明文) push reached a server that has an EncodingAESKey.
 * - `AES_KEY_MISSING`: a safe-mode (安全模式) push reached a server without an EncodingAESKey.
 * - `PAYLOAD_TOO_LARGE`: the body is over the limit (WeChat's pushes are a few KiB).
 * - `STORE_UNAVAILABLE`: the shared store (Redis) cannot be reached or did not answer in time; the
 *   call was not done (or its outcome is unknown). Retry later, or degrade.
 */
export type WxMpErrorCode =
  | 'INVALID_SIGNATURE'
  | 'INVALID_AES_KEY'
  | 'INVALID_CIPHERTEXT'
  | 'BAD_PADDING'
  | 'APPID_MISMATCH'
  | 'MALFORMED_XML'
  | 'DOCTYPE_FORBIDDEN'
  | 'INVALID_REPLY'
  | 'INVALID_MESSAGE'
  | 'INVALID_CONFIG'
  | 'METHOD_NOT_ALLOWED'
  | 'MISSING_PARAMETER'
  | 'STALE_TIMESTAMP'
  | 'PLAIN_PUSH_REFUSED'
  | 'AES_KEY_MISSING'
  | 'PAYLOAD_TOO_LARGE'
  | 'STORE_UNAVAILABLE'

/**
 * The numeric error codes of WeChat's own WXBizMsgCrypt samples, where one corresponds.
 * Useful when comparing logs with the official SDKs.
 */
const officialCodes: Partial<Record<WxMpErrorCode, number>> = {
  INVALID_SIGNATURE: -40001,
  MALFORMED_XML: -40002,
  DOCTYPE_FORBIDDEN: -40002,
  INVALID_AES_KEY: -40004,
  APPID_MISMATCH: -40005,
  BAD_PADDING: -40007,
  INVALID_CIPHERTEXT: -40008,
}

/**
 * The one error class of wx-mp-svr's protocol core.
 *
 * Switch on {@link WxMpError.code}, never on the message text: messages are written for humans and
 * say how to fix the problem; codes are the stable contract.
 *
 * @example
 * ```ts
 * try {
 *   crypto.decryptMessage(body, query)
 * } catch (err) {
 *   if (isWxMpError(err) && err.code === 'APPID_MISMATCH') { ... }
 * }
 * ```
 */
export class WxMpError extends Error {
  override readonly name = 'WxMpError' as const
  /** Stable machine-readable code; see {@link WxMpErrorCode}. */
  readonly code: WxMpErrorCode
  /** The code WeChat's WXBizMsgCrypt samples use for the same failure (e.g. -40001), when there is one. */
  readonly officialCode: number | undefined

  constructor(code: WxMpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.officialCode = officialCodes[code]
  }
}

/**
 * Type guard for {@link WxMpError}; also recognises errors from another copy of the package
 * (two versions installed side by side), by shape rather than by `instanceof`.
 */
export function isWxMpError(value: unknown): value is WxMpError {
  return (
    value instanceof WxMpError ||
    (value instanceof Error && value.name === 'WxMpError' && typeof (value as { code?: unknown }).code === 'string')
  )
}
