/**
 * The callback protocol as plain functions: what WeChat's request to the callback URL means
 * ({@link readCallback}) and what the answer's body is ({@link writeCallbackReply}). No HTTP
 * framework, no clock, no randomness: the adapters (the Fastify plugin, serverless functions, the
 * playground) pass the request's parts and the time in, and decide the HTTP status from the
 * refusal's {@link WxMpError.code}.
 *
 * Order of checks: method → body size → signature → timestamp freshness → mode (plain pushes
 * are refused while an EncodingAESKey is set) → decryption → parsing. Nothing is decrypted or
 * parsed before the signature holds.
 *
 * Official reference (signature, URL verification and the three modes):
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 *
 * @module
 */
import type { WxMpCrypto } from './crypto.js'
import { WxMpError, isWxMpError } from './errors.js'
import type { Message } from './messages.js'
import { parseMessage } from './parse.js'
import { checkSignature } from './signature.js'

/**
 * How a push is protected, as chosen on the admin page (消息加解密方式): 明文模式 `plain`,
 * 兼容模式 `compat` (plaintext and ciphertext side by side) or 安全模式 `safe`.
 */
export type EncryptionMode = 'plain' | 'compat' | 'safe'

/** The account as the protocol needs it: validated configuration, never raw environment. */
export interface CallbackAccount {
  /** The Token (令牌). */
  token: string
  /** The account's crypto when an EncodingAESKey is configured (safe mode); else plain mode. */
  crypto?: WxMpCrypto | undefined
  /** Allowed difference between `timestamp` and now, in seconds; 0 turns the check off. */
  timestampToleranceS: number
  /** With a crypto, also accept plain pushes (only while switching the admin page's mode). */
  allowPlainPushes: boolean
  /** Largest body accepted, in bytes (UTF-8). Default: no limit here (the adapter enforces one). */
  bodyLimitBytes?: number | undefined
}

/** WeChat's request, as any HTTP adapter can hand it over. */
export interface CallbackInput {
  /** The HTTP method, upper case. */
  method: string
  /** The parsed query string (`signature`, `timestamp`, `nonce`, `echostr`, `encrypt_type`, `msg_signature`, …). */
  query: Readonly<Record<string, unknown>>
  /** The raw body of a POST. */
  body?: string | undefined
}

/** What the request is: URL verification, a push to dispatch, or a refusal. */
export type CallbackDecision =
  | {
      kind: 'verify'
      /** Answer exactly this string (the `echostr` parameter) to complete URL verification. */
      echostr: string
    }
  | {
      kind: 'push'
      /** The authenticated, decrypted and parsed push. */
      message: Message
      /** How it came: a reply to it is encrypted unless `plain`. */
      mode: EncryptionMode
      /**
       * A compatible-mode push read from its plaintext because this server has no EncodingAESKey
       * (its reply cannot be encrypted; the adapter may warn once).
       */
      readFromPlaintext: boolean
    }
  | {
      kind: 'refuse'
      /** Why, as a stable code; the message (for the log) says how to fix it and holds no secret. */
      error: WxMpError
    }

/** The query parameter as a string, or `undefined` (absent, repeated or not a string). */
function param(query: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = query[name]
  return typeof value === 'string' ? value : undefined
}

function refuse(code: WxMpError['code'], message: string, cause?: unknown): CallbackDecision {
  return { kind: 'refuse', error: new WxMpError(code, message, cause === undefined ? undefined : { cause }) }
}

const TOKEN_MISMATCH = 'WX_MP_TOKEN differs from the Token (令牌) on the admin page'

/** `undefined` when `timestamp` is fresh, else the refusal. */
function staleness(timestamp: string, account: CallbackAccount, nowMs: number): CallbackDecision | undefined {
  const tolerance = account.timestampToleranceS
  if (tolerance === 0) return undefined
  if (/^\d{1,12}$/.test(timestamp)) {
    const skewS = Number(timestamp) - nowMs / 1000
    if (Math.abs(skewS) <= tolerance) return undefined
    return refuse(
      'STALE_TIMESTAMP',
      `timestamp is ${Math.round(skewS)} s off this server's clock, outside the tolerance of ${tolerance} s ` +
        '(a replay, or this server\'s clock is off: check NTP, or raise WX_MP_TIMESTAMP_TOLERANCE_S)',
    )
  }
  return refuse('STALE_TIMESTAMP', 'timestamp is not a number of seconds: not a request from WeChat')
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** A compatible-mode envelope carries the plaintext fields next to `<Encrypt>`. */
function hasPlaintextFields(body: string): boolean {
  return body.includes('<MsgType>')
}

/** The reason of a core error for the log: its code and message. */
function describe(err: unknown): string {
  return isWxMpError(err) ? `${err.code}: ${err.message}` : String(err)
}

/**
 * Reads one request to the callback URL. Pure: the same input and `nowMs` give the same decision;
 * never throws.
 *
 * - `GET`/`HEAD` with a valid `signature` → `verify` (answer `echostr`).
 * - `POST` → `push` with the parsed message and its {@link EncryptionMode}, after the signature
 *   (`msg_signature` over `<Encrypt>` in compatible and safe mode), the timestamp and the mode.
 * - anything else → `refuse` with a coded {@link WxMpError}: `METHOD_NOT_ALLOWED`,
 *   `PAYLOAD_TOO_LARGE`, `MISSING_PARAMETER`, `INVALID_SIGNATURE`, `STALE_TIMESTAMP`,
 *   `PLAIN_PUSH_REFUSED`, `AES_KEY_MISSING`, a decryption code (`INVALID_CIPHERTEXT`,
 *   `BAD_PADDING`, `APPID_MISMATCH`), `MALFORMED_XML` or `DOCTYPE_FORBIDDEN`.
 *
 * @param nowMs the current time, epoch milliseconds (for the timestamp check).
 *
 * @example
 * ```ts
 * const decision = readCallback({ method: 'POST', query, body }, { token, crypto, timestampToleranceS: 300, allowPlainPushes: false }, Date.now())
 * if (decision.kind === 'push') {
 *   const xml = renderReply(reply.text('hi'), decision.message)
 *   return writeCallbackReply(xml, decision.mode, { crypto }, { timestamp: Math.floor(Date.now() / 1000), nonce: '1234' })
 * }
 * ```
 */
export function readCallback(input: CallbackInput, account: CallbackAccount, nowMs: number): CallbackDecision {
  const { method, query } = input
  if (method === 'GET' || method === 'HEAD') return readVerification(query, account, nowMs)
  if (method !== 'POST') return refuse('METHOD_NOT_ALLOWED', `method ${method} on the callback URL: WeChat uses GET and POST only`)
  const body = input.body ?? ''
  const limit = account.bodyLimitBytes
  // A UTF-8 character is at most 3 bytes per UTF-16 unit: measure only when it could matter.
  if (limit !== undefined && body.length * 3 > limit && utf8Length(body) > limit) {
    return refuse('PAYLOAD_TOO_LARGE', `body of ${utf8Length(body)} bytes is over the limit of ${limit} bytes (WeChat's pushes are a few KiB)`)
  }
  return readPush(body, query, account, nowMs)
}

function readVerification(query: Readonly<Record<string, unknown>>, account: CallbackAccount, nowMs: number): CallbackDecision {
  const signature = param(query, 'signature')
  const timestamp = param(query, 'timestamp')
  const nonce = param(query, 'nonce')
  const echostr = param(query, 'echostr')
  if (signature === undefined || timestamp === undefined || nonce === undefined || echostr === undefined) {
    return refuse('MISSING_PARAMETER', 'URL verification without signature, timestamp, nonce and echostr')
  }
  if (!checkSignature(account.token, signature, timestamp, nonce)) {
    return refuse('INVALID_SIGNATURE', `URL verification signature does not match: ${TOKEN_MISMATCH}`)
  }
  return staleness(timestamp, account, nowMs) ?? { kind: 'verify', echostr }
}

function readPush(body: string, query: Readonly<Record<string, unknown>>, account: CallbackAccount, nowMs: number): CallbackDecision {
  const timestamp = param(query, 'timestamp')
  const nonce = param(query, 'nonce')
  if (timestamp === undefined || nonce === undefined) return refuse('MISSING_PARAMETER', 'push without timestamp and nonce')
  const encrypted = param(query, 'encrypt_type') === 'aes'
  const { crypto } = account
  let mode: EncryptionMode = 'plain'
  let readFromPlaintext = false
  let xml: string
  if (encrypted && crypto) {
    const msgSignature = param(query, 'msg_signature')
    if (msgSignature === undefined) return refuse('MISSING_PARAMETER', 'encrypted push without msg_signature')
    let encrypt: string
    try {
      encrypt = crypto.readEncrypt(body)
    } catch (err) {
      return refuse(isWxMpError(err) ? err.code : 'MALFORMED_XML', describe(err), err)
    }
    if (!crypto.verify(msgSignature, timestamp, nonce, encrypt)) {
      return refuse('INVALID_SIGNATURE', `msg_signature does not match: ${TOKEN_MISMATCH}`)
    }
    const stale = staleness(timestamp, account, nowMs)
    if (stale) return stale
    try {
      xml = crypto.decrypt(encrypt)
    } catch (err) {
      return refuse(isWxMpError(err) ? err.code : 'INVALID_CIPHERTEXT', describe(err), err)
    }
    mode = hasPlaintextFields(body) ? 'compat' : 'safe'
  } else {
    if (crypto && !encrypted && !account.allowPlainPushes) {
      // The URL signature does not cover the body: with a key configured, only encrypted pushes
      // are authentic (anyone who saw one push URL could otherwise forge plain ones).
      return refuse(
        'PLAIN_PUSH_REFUSED',
        'plain-mode push refused: WX_MP_AES_KEY is set, so only 兼容模式/安全模式 pushes are accepted. Switch the admin page to 安全模式, ' +
          'or unset WX_MP_AES_KEY for 明文模式 (WX_MP_ALLOW_PLAIN_PUSHES=1 accepts both while you switch)',
      )
    }
    const signature = param(query, 'signature')
    if (signature === undefined) return refuse('MISSING_PARAMETER', 'push without signature')
    if (!checkSignature(account.token, signature, timestamp, nonce)) {
      return refuse('INVALID_SIGNATURE', `signature does not match: ${TOKEN_MISMATCH}`)
    }
    const stale = staleness(timestamp, account, nowMs)
    if (stale) return stale
    if (encrypted) {
      // Encrypted push, but no key configured: compatible mode still carries the plaintext.
      if (!hasPlaintextFields(body)) {
        return refuse('AES_KEY_MISSING', 'safe-mode push but WX_MP_AES_KEY is not set: set WX_MP_AES_KEY and WX_MP_APPID')
      }
      mode = 'compat'
      readFromPlaintext = true
    }
    xml = body
  }
  try {
    return { kind: 'push', message: parseMessage(xml), mode, readFromPlaintext }
  } catch (err) {
    return refuse(isWxMpError(err) ? err.code : 'MALFORMED_XML', `${describe(err)} (mode ${mode})`, err)
  }
}

/** The `timestamp` and `nonce` of an encrypted reply's envelope. */
export interface ReplyEnvelopeParams {
  /** Seconds since the epoch. */
  timestamp: number | string
  /** Any string of digits; WeChat's samples use a random number. */
  nonce: string
}

/**
 * The body that answers a push: `success` when there is no reply (`null`), the reply XML in plain
 * mode, and WeChat's encrypted envelope in compatible and safe mode (when a crypto is configured).
 *
 * @param replyXml a rendered passive reply (`renderReply`), or `null` for none.
 */
export function writeCallbackReply(
  replyXml: string | null,
  mode: EncryptionMode,
  account: Pick<CallbackAccount, 'crypto'>,
  envelope: ReplyEnvelopeParams,
): string {
  if (replyXml === null) return 'success'
  if (mode === 'plain' || !account.crypto) return replyXml
  return account.crypto.encryptMessage(replyXml, envelope)
}
