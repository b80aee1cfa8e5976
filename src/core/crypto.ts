/**
 * Safe-mode (安全模式) and compatible-mode (兼容模式) message encryption: WeChat's WXBizMsgCrypt
 * scheme, AES-256-CBC with PKCS#7 padding to 32-byte blocks.
 *
 * Plaintext layout: 16 random bytes ‖ uint32 BE byte length of the XML ‖ XML (UTF-8) ‖ appId.
 * Key: base64(EncodingAESKey + '='), 32 bytes; IV: the key's first 16 bytes.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 *
 * @module
 */
import { createCipheriv, createDecipheriv, randomFillSync, timingSafeEqual } from 'node:crypto'
import { WxMpError } from './errors.js'
import { computeSignature, signPushQuery, signatureMatches, type PushQuery } from './signature.js'
import { XmlBuilder, parseXmlDocument, readElementText } from './xml.js'

/** Options of {@link WxMpCrypto}. */
export interface WxMpCryptoOptions {
  /** The Token (令牌) from the admin page: 3–32 letters and digits. */
  token: string
  /** The EncodingAESKey (消息加解密密钥) from the admin page: 43 letters and digits. */
  aesKey: string
  /** The account's AppID (`wx…`); a WeCom corp id (`ww…`) works the same way. */
  appId: string
  /**
   * EncodingAESKeys that were valid before `aesKey`. Pushes encrypted with them are still
   * decrypted, so that rotating the key on the admin page drops no message; replies are always
   * encrypted with `aesKey`.
   */
  previousAesKeys?: readonly string[]
}

/** The query parameters WeChat adds to an encrypted push. */
export interface EncryptedPushParams {
  msgSignature: string
  timestamp: string | number
  nonce: string | number
}

/** Parameters of {@link WxMpCrypto.encryptMessage}. */
export interface EncryptReplyParams {
  timestamp: string | number
  nonce: string | number
  /** The 16-byte random prefix; injectable for known-answer tests. Defaults to 16 bytes from the CSPRNG. */
  random?: Buffer
}

/** Options of {@link WxMpCrypto.sealPush}. */
export interface SealPushOptions {
  /** Seconds since the epoch, as WeChat puts it on the URL. */
  timestamp: string | number
  nonce: string | number
  /**
   * `safe` (安全模式, default): the body is `<xml><ToUserName/><Encrypt/></xml>`; `compat`
   * (兼容模式): the plaintext elements followed by `<Encrypt>`.
   */
  mode?: 'safe' | 'compat'
  /** The 16-byte random prefix; injectable for known-answer tests. Defaults to 16 bytes from the CSPRNG. */
  random?: Buffer
  /** `ToUserName` of the safe-mode envelope; default: the plaintext's own `<ToUserName>`. */
  toUserName?: string
  /** The `openid` query parameter; default: the plaintext's `<FromUserName>` (absent when it has none). */
  openid?: string
}

/** A push as WeChat sends it: the query parameters of the URL and the request body (`text/xml`). */
export interface SealedPush {
  body: string
  query: PushQuery
}

/** Options of {@link WxMpCrypto.openReply}. */
export interface OpenReplyOptions {
  /** When given, the envelope's `<TimeStamp>` must be exactly this. */
  timestamp?: string | number
  /** When given, the envelope's `<Nonce>` must be exactly this. */
  nonce?: string | number
}

interface AesKey {
  key: Buffer
  iv: Buffer
}

const BLOCK = 32
const RANDOM_BYTES = 16
const HEADER_BYTES = RANDOM_BYTES + 4
const aesKeyForm = /^[A-Za-z0-9]{43}$/
const base64Form = /^[A-Za-z0-9+/]+={0,2}$/

/** CSPRNG bytes fetched 4 KiB at a time, as Node's own randomUUID does: one call per 256 replies, not one per reply. */
const randomPool = Buffer.alloc(4096)
let randomPoolAt = randomPool.length

/** 16 fresh bytes from the CSPRNG (a copy: each is used once, never shared). */
function randomPrefix(): Buffer {
  if (randomPoolAt + RANDOM_BYTES > randomPool.length) {
    randomFillSync(randomPool)
    randomPoolAt = 0
  }
  const bytes = Buffer.from(randomPool.subarray(randomPoolAt, randomPoolAt + RANDOM_BYTES))
  randomPoolAt += RANDOM_BYTES
  return bytes
}

/**
 * Turns an EncodingAESKey into the AES key and IV, after checking its form (Node's base64 decoder
 * silently skips characters it does not know, so a mistyped key would otherwise "work" and fail
 * every push).
 *
 * @param label what to call the key in the error (`aesKey`, `previousAesKeys[0]`, …).
 */
function importAesKey(aesKey: unknown, label: string): AesKey {
  if (typeof aesKey !== 'string' || !aesKeyForm.test(aesKey)) {
    const got = typeof aesKey === 'string' ? `${aesKey.length} characters` : typeof aesKey
    throw new WxMpError(
      'INVALID_AES_KEY',
      `${label} must be the EncodingAESKey (消息加解密密钥) from the admin page: exactly 43 letters and digits (got ${got}). ` +
        'Copy it again from 设置与开发 → 基本配置 → 服务器配置, or generate a new one there ("随机生成").',
    )
  }
  const key = Buffer.from(aesKey + '=', 'base64')
  if (key.length !== 32) throw new WxMpError('INVALID_AES_KEY', `${label} does not decode to 32 bytes.`)
  return { key, iv: key.subarray(0, 16) }
}

/**
 * Encrypts, decrypts and signs WeChat safe-mode messages for one account.
 *
 * Create one instance per account and reuse it: the key is validated and decoded once, in the
 * constructor, which throws `INVALID_AES_KEY` with instructions when the key is malformed.
 *
 * @example
 * ```ts
 * import { WxMpCrypto, parseMessage } from 'wx-mp-svr'
 * const crypto = new WxMpCrypto({ token, aesKey, appId })
 * const xml = crypto.decryptMessage(body, { msgSignature, timestamp, nonce })
 * const msg = parseMessage(xml)
 * const envelope = crypto.encryptMessage(replyXml, { timestamp, nonce })
 * ```
 *
 * It also speaks WeChat's side of the exchange, for emulators, tests and load generators:
 * {@link WxMpCrypto.sealPush} (the inverse of `decryptMessage`) and {@link WxMpCrypto.openReply}
 * (the inverse of `encryptMessage`).
 */
export class WxMpCrypto {
  readonly #token: string
  readonly #appId: Buffer
  readonly #keys: readonly AesKey[]

  constructor(options: WxMpCryptoOptions) {
    const { token, aesKey, appId, previousAesKeys = [] } = options ?? ({} as WxMpCryptoOptions)
    if (typeof token !== 'string' || token === '') {
      throw new WxMpError('INVALID_CONFIG', 'token must be the Token (令牌) from the admin page, a non-empty string.')
    }
    if (typeof appId !== 'string' || appId === '') {
      throw new WxMpError('INVALID_CONFIG', 'appId must be the account AppID (开发者ID, starts with "wx"), a non-empty string.')
    }
    this.#token = token
    this.#appId = Buffer.from(appId, 'utf8')
    this.#keys = [
      importAesKey(aesKey, 'aesKey'),
      ...previousAesKeys.map((k, i) => importAesKey(k, `previousAesKeys[${i}]`)),
    ]
  }

  /** The msg_signature of an encrypted message: `sha1(sort([token, timestamp, nonce, encrypt]).join(''))`. */
  sign(timestamp: string | number, nonce: string | number, encrypt: string): string {
    return computeSignature(this.#token, timestamp, nonce, encrypt)
  }

  /** Checks a msg_signature in constant time. */
  verify(msgSignature: string, timestamp: string | number, nonce: string | number, encrypt: string): boolean {
    if (typeof msgSignature !== 'string' || timestamp == null || nonce == null || typeof encrypt !== 'string') return false
    return signatureMatches(msgSignature, this.sign(timestamp, nonce, encrypt))
  }

  /**
   * Encrypts an XML (or any UTF-8) plaintext and returns the base64 `Encrypt` value.
   *
   * @param random the 16-byte random prefix; pass it only for deterministic known-answer tests.
   */
  encrypt(xml: string, random: Buffer = randomPrefix()): string {
    if (!Buffer.isBuffer(random) || random.length !== RANDOM_BYTES) {
      throw new RangeError('random must be a Buffer of exactly 16 bytes')
    }
    const body = Buffer.from(xml, 'utf8')
    const length = Buffer.allocUnsafe(4)
    length.writeUInt32BE(body.length, 0)
    const unpadded = RANDOM_BYTES + 4 + body.length + this.#appId.length
    const pad = BLOCK - (unpadded % BLOCK)
    const plain = Buffer.concat([random, length, body, this.#appId, Buffer.alloc(pad, pad)], unpadded + pad)
    const { key, iv } = this.#keys[0]!
    const cipher = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false)
    return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64')
  }

  /**
   * Decrypts a base64 `Encrypt` value and returns the XML plaintext, after checking the padding,
   * the length field and that the message was made for this appId. With `previousAesKeys`, each
   * older key is tried in turn when the current one does not fit.
   *
   * @throws {WxMpError} `INVALID_CIPHERTEXT`, `BAD_PADDING` or `APPID_MISMATCH`.
   */
  decrypt(encrypt: string): string {
    if (typeof encrypt !== 'string' || !base64Form.test(encrypt)) {
      throw new WxMpError('INVALID_CIPHERTEXT', 'The Encrypt value is not base64.')
    }
    const data = Buffer.from(encrypt, 'base64')
    if (data.length < BLOCK || data.length % 16 !== 0) {
      throw new WxMpError('INVALID_CIPHERTEXT', `The Encrypt value is ${data.length} bytes, not a whole number of AES blocks of at least ${BLOCK} bytes.`)
    }
    let firstError: unknown
    for (const key of this.#keys) {
      try {
        return this.#decryptWith(key, data)
      } catch (err) {
        firstError ??= err
      }
    }
    throw firstError
  }

  #decryptWith({ key, iv }: AesKey, data: Buffer): string {
    const decipher = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false)
    const plain = Buffer.concat([decipher.update(data), decipher.final()])
    const pad = plain[plain.length - 1]!
    if (pad < 1 || pad > BLOCK) {
      throw new WxMpError('BAD_PADDING', 'Decryption produced invalid padding: the EncodingAESKey does not match the one on the admin page, or the message was altered.')
    }
    for (let i = plain.length - pad; i < plain.length; i++) {
      if (plain[i] !== pad) {
        throw new WxMpError('BAD_PADDING', 'Decryption produced invalid padding: the EncodingAESKey does not match the one on the admin page, or the message was altered.')
      }
    }
    const end = plain.length - pad
    if (end < HEADER_BYTES) throw new WxMpError('INVALID_CIPHERTEXT', 'The decrypted message is too short to hold its length field.')
    const xmlLength = plain.readUInt32BE(RANDOM_BYTES)
    const xmlEnd = HEADER_BYTES + xmlLength
    if (xmlEnd > end) {
      throw new WxMpError('INVALID_CIPHERTEXT', `The decrypted length field (${xmlLength} bytes) exceeds the message.`)
    }
    const appId = plain.subarray(xmlEnd, end)
    if (appId.length !== this.#appId.length || !timingSafeEqual(appId, this.#appId)) {
      throw new WxMpError(
        'APPID_MISMATCH',
        `The message was encrypted for appId "${appId.toString('utf8').slice(0, 64)}", not for this account's appId. Check WX_MP_APPID.`,
      )
    }
    return plain.toString('utf8', HEADER_BYTES, xmlEnd)
  }

  /**
   * Authenticates and decrypts an encrypted push (safe or compatible mode): reads `<Encrypt>` from
   * the body without parsing the envelope, checks `msg_signature` over it, then decrypts.
   *
   * The inverse of {@link WxMpCrypto.sealPush}.
   *
   * @throws {WxMpError} `MALFORMED_XML` (no `<Encrypt>`), `DOCTYPE_FORBIDDEN`, `INVALID_SIGNATURE`,
   * then any error of {@link WxMpCrypto.decrypt}.
   */
  decryptMessage(body: string, params: EncryptedPushParams): string {
    const encrypt = this.readEncrypt(body)
    if (!this.verify(params?.msgSignature, params?.timestamp, params?.nonce, encrypt)) {
      throw new WxMpError('INVALID_SIGNATURE', 'msg_signature does not match: check that the Token equals the one on the admin page.')
    }
    return this.decrypt(encrypt)
  }

  /**
   * Reads the `<Encrypt>` value of an envelope.
   *
   * @throws {WxMpError} `MALFORMED_XML` when there is none, `DOCTYPE_FORBIDDEN` for declarations.
   */
  readEncrypt(body: string): string {
    if (typeof body !== 'string') throw new WxMpError('MALFORMED_XML', 'Expected the request body as a string.')
    const encrypt = readElementText(body, 'Encrypt')
    if (encrypt === undefined || encrypt === '') {
      throw new WxMpError('MALFORMED_XML', 'The encrypted push has no <Encrypt> element.')
    }
    return encrypt
  }

  /**
   * Encrypts a reply and wraps it in WeChat's envelope
   * `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`. The inverse of
   * {@link WxMpCrypto.openReply}.
   */
  encryptMessage(xml: string, params: EncryptReplyParams): string {
    const { timestamp, nonce, random } = params
    const encrypt = this.encrypt(xml, random)
    const ts = String(timestamp)
    return new XmlBuilder()
      .add('Encrypt', encrypt)
      .add('MsgSignature', this.sign(ts, nonce, encrypt))
      .add('TimeStamp', /^\d+$/.test(ts) && ts.length < 16 ? Number(ts) : ts)
      .add('Nonce', String(nonce))
      .toDocument()
  }

  /**
   * Seals a plaintext push the way WeChat sends it in safe or compatible mode: the query
   * (`signature`, `timestamp`, `nonce`, `openid`, `encrypt_type=aes`, `msg_signature` over the
   * Encrypt value) and the body (safe: `<xml><ToUserName/><Encrypt/></xml>`; compat: the plaintext
   * elements followed by `<Encrypt>`). The inverse of {@link WxMpCrypto.decryptMessage}; with
   * `random` fixed the result is byte-exact (the official worked example reproduces).
   *
   * For a plain-mode push, sign the query with {@link signPushQuery} and send the XML as it is.
   *
   * @throws {WxMpError} `MALFORMED_XML` when the safe envelope's ToUserName cannot be found (pass
   * `toUserName`), or when a compat push is not an `<xml>` document.
   *
   * @example
   * ```ts
   * const { body, query } = crypto.sealPush(writeMessage(msg), { timestamp, nonce })
   * await fetch(`${url}?${new URLSearchParams({ ...query })}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } })
   * ```
   */
  sealPush(xml: string, options: SealPushOptions): SealedPush {
    if (typeof xml !== 'string') throw new WxMpError('MALFORMED_XML', 'sealPush needs the plaintext push as a string.')
    const { timestamp, nonce, mode = 'safe', random } = options
    // The plaintext's own header, read by the real parser (CDATA split around "]]>" included);
    // a JSON plaintext (the official worked example) has none: pass toUserName/openid then.
    const needsHeader = options.openid === undefined || (mode === 'safe' && options.toUserName === undefined)
    const header = needsHeader && xml.trimStart().startsWith('<') ? parseXmlDocument(xml) : undefined
    const headerText = (tag: string): string | undefined => {
      const value = header?.[tag]
      return typeof value === 'string' ? value : undefined
    }
    const openid = options.openid ?? headerText('FromUserName')
    const encrypt = this.encrypt(xml, random)
    const query = signPushQuery(this.#token, { timestamp, nonce, ...(openid === undefined ? {} : { openid }) })
    query.encrypt_type = 'aes'
    query.msg_signature = this.sign(query.timestamp, query.nonce, encrypt)
    let body: string
    if (mode === 'compat') {
      const end = xml.trimEnd()
      if (!end.endsWith('</xml>')) throw new WxMpError('MALFORMED_XML', 'A compat-mode push is an <xml> document: its plaintext elements and <Encrypt> share the root.')
      body = end.slice(0, -'</xml>'.length) + new XmlBuilder().add('Encrypt', encrypt).toString() + '</xml>'
    } else if (mode === 'safe') {
      const toUserName = options.toUserName ?? headerText('ToUserName')
      if (toUserName === undefined) throw new WxMpError('MALFORMED_XML', 'The push has no <ToUserName> for the safe-mode envelope: pass toUserName.')
      body = new XmlBuilder().add('ToUserName', toUserName).add('Encrypt', encrypt).toDocument()
    } else {
      throw new WxMpError('INVALID_CONFIG', `sealPush mode must be safe or compat (got ${JSON.stringify(mode)}); sign a plain push with signPushQuery.`)
    }
    return { body, query }
  }

  /**
   * Opens an encrypted reply `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>` the way
   * WeChat does: checks MsgSignature over the envelope's TimeStamp, Nonce and Encrypt (in
   * constant time), decrypts, checks the appId, and returns the reply's plaintext XML (read it
   * with {@link parseReply}). The inverse of {@link WxMpCrypto.encryptMessage}.
   *
   * "No reply" (`success` or an empty body) is never encrypted, so it is not an envelope either:
   * check for it before calling this.
   *
   * @throws {WxMpError} `MALFORMED_XML` (not XML, no `<Encrypt>`, or a missing `<MsgSignature>`,
   * `<TimeStamp>` or `<Nonce>`), `DOCTYPE_FORBIDDEN`, `INVALID_SIGNATURE` (MsgSignature does not
   * match, or TimeStamp/Nonce differ from the expected ones), then any error of
   * {@link WxMpCrypto.decrypt} (`APPID_MISMATCH`, `BAD_PADDING`, `INVALID_CIPHERTEXT`).
   */
  openReply(body: string, options: OpenReplyOptions = {}): string {
    if (typeof body !== 'string') throw new WxMpError('MALFORMED_XML', 'Expected the reply body as a string.')
    const envelope = parseXmlDocument(body)
    const part = (tag: string): string | undefined => {
      const node = envelope[tag]
      const value = Array.isArray(node) ? node[0] : node
      if (value === undefined) return undefined
      if (typeof value !== 'string') throw new WxMpError('MALFORMED_XML', `The reply envelope's <${tag}> must hold text.`)
      return value
    }
    const encrypt = part('Encrypt')
    if (encrypt === undefined || encrypt === '') throw new WxMpError('MALFORMED_XML', 'The reply is not encrypted: it has no <Encrypt> element.')
    const parts: Record<string, string | undefined> = { MsgSignature: part('MsgSignature'), TimeStamp: part('TimeStamp'), Nonce: part('Nonce') }
    const missing = Object.keys(parts).filter((tag) => parts[tag] === undefined)
    if (missing.length > 0) {
      throw new WxMpError('MALFORMED_XML', `The encrypted reply lacks <${missing.join('>, <')}>: the envelope is <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>.`)
    }
    const timestamp = parts['TimeStamp']!
    const nonce = parts['Nonce']!
    for (const [tag, got, expected] of [['TimeStamp', timestamp, options.timestamp], ['Nonce', nonce, options.nonce]] as const) {
      if (expected !== undefined && got !== String(expected)) {
        throw new WxMpError('INVALID_SIGNATURE', `The reply is signed with ${tag} ${JSON.stringify(got.slice(0, 32))}, not the expected ${JSON.stringify(String(expected))}.`)
      }
    }
    if (!this.verify(parts['MsgSignature']!, timestamp, nonce, encrypt)) {
      throw new WxMpError(
        'INVALID_SIGNATURE',
        'The reply\'s MsgSignature is not sha1(sort([token, TimeStamp, Nonce, Encrypt]).join("")): sign with the same Token, over the Encrypt value sent and the TimeStamp/Nonce in the envelope.',
      )
    }
    return this.decrypt(encrypt)
  }
}
