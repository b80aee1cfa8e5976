/**
 * Shared helpers of the test/server suite (not a test file: tap only runs `*.test.ts`).
 *
 * Requests are built with the protocol core (computeSignature, WxMpCrypto, XmlBuilder), so a
 * request the server accepts is one WeChat could have sent. Time is a {@link FakeClock}: nothing
 * in this suite sleeps or asserts on elapsed time.
 */
import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions } from 'fastify'
import type { Test } from 'tap'
import {
  WxMpCrypto,
  XmlBuilder,
  computeSignature,
  createLogger,
  createServer,
  parseXmlDocument,
  type Clock,
  type CreateServerOptions,
  type XmlElement,
} from '../../src/index.js'

// ---------------------------------------------------------------------------------------------
// Account

export const TOKEN = 'tokS3cretQ9z'
export const AES_KEY = 'Zq7WxMpSvrTestKey0123456789abcdefghijklmnoP' // 43 characters
export const APP_ID = 'wx1234567890abcdef'
export const OTHER_APP_ID = 'wxfedcba0987654321'
export const PATH = '/wx'
/** The account (ToUserName of every push). */
export const ACCOUNT = 'gh_0123456789ab'
export const USER = 'oUser_A'
export const USER_B = 'oUser_B'

/** The fake clock's start: a fixed instant, in ms. */
export const T0 = 1_700_000_000_000
export const T0_S = T0 / 1000

// ---------------------------------------------------------------------------------------------
// Time

/** A {@link Clock} that moves only when told to. Timers fire in due order during {@link advance}. */
export class FakeClock implements Clock {
  #now: number
  #seq = 0
  readonly #timers = new Map<number, { at: number; callback: () => void }>()

  constructor(start = T0) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.#seq
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), callback })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number)
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry
      }
      if (next === undefined) break
      this.#timers.delete(next[0])
      this.#now = Math.max(this.#now, next[1].at)
      next[1].callback()
    }
    this.#now = target
  }
}

/**
 * Lets the event loop run until `condition` holds (counting event-loop turns, not time), so a
 * test can wait for a request to reach a handler or a timer to be scheduled.
 */
export async function until(condition: () => boolean, what: string, maxTurns = 5000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (condition()) return
    await new Promise<void>((resolve) => setImmediate(resolve))
  }
  throw new Error(`timed out (in event-loop turns) waiting for: ${what}`)
}

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve: (value: T) => void
  reject: (reason: unknown) => void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

// ---------------------------------------------------------------------------------------------
// Logs

/** A pino logger (through `createLogger`) writing JSON lines into memory. */
export function captureLogger(level = 'info'): {
  logger: ReturnType<typeof createLogger>
  lines: Array<Record<string, unknown>>
  raw: string[]
} {
  const lines: Array<Record<string, unknown>> = []
  const raw: string[] = []
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      const text = chunk.toString()
      for (const line of text.split('\n')) {
        if (line === '') continue
        raw.push(line)
        lines.push(JSON.parse(line) as Record<string, unknown>)
      }
      callback()
    },
  })
  return { logger: createLogger({ destination, pretty: false, level }), lines, raw }
}

// ---------------------------------------------------------------------------------------------
// Apps

export interface TestApp {
  app: FastifyInstance
  clock: FakeClock
  lines: Array<Record<string, unknown>>
  raw: string[]
  /**
   * A promise a handler can wait on; every gate still open is resolved (with `undefined`) at
   * teardown before the app closes, so a failing test cannot leave a handler hanging in `close()`.
   */
  gate<T = void>(): Deferred<T>
}

/**
 * A fresh `createServer` app with the test account, a {@link FakeClock}, an empty `env` (the
 * machine's `WX_MP_*` never leak in) and a logger writing into `lines`; closed at teardown.
 */
export async function makeApp(t: Test, options: Partial<CreateServerOptions> = {}): Promise<TestApp> {
  const clock = options.clock instanceof FakeClock ? options.clock : new FakeClock()
  const { logger, lines, raw } = captureLogger()
  const app = await createServer({ token: TOKEN, env: {}, clock, logger, ...options })
  const gates: Array<Deferred<unknown>> = []
  t.teardown(async () => {
    for (const g of gates) g.resolve(undefined)
    await app.close()
  })
  const gate = <T = void>(): Deferred<T> => {
    const d = deferred<T>()
    gates.push(d as Deferred<unknown>)
    return d
  }
  return { app, clock, lines, raw, gate }
}

/** Options of a safe-mode account. */
export const safeAccount = { token: TOKEN, aesKey: AES_KEY, appId: APP_ID } as const

/** A safe-mode account that also accepts plain pushes (`allowPlainPushes`), for tests that mix modes. */
export const mixedAccount = { ...safeAccount, allowPlainPushes: true } as const

export function accountCrypto(appId: string = APP_ID, token: string = TOKEN, aesKey: string = AES_KEY): WxMpCrypto {
  return new WxMpCrypto({ token, aesKey, appId })
}

// ---------------------------------------------------------------------------------------------
// Push bodies

export interface TextPush {
  from?: string
  to?: string
  content?: string
  msgId?: string
  createTime?: number
}

/** A text message as WeChat pushes it. */
export function textXml(p: TextPush = {}): string {
  return new XmlBuilder()
    .add('ToUserName', p.to ?? ACCOUNT)
    .add('FromUserName', p.from ?? USER)
    .add('CreateTime', p.createTime ?? T0_S)
    .add('MsgType', 'text')
    .add('Content', p.content ?? 'hello')
    .add('MsgId', p.msgId ?? '23456789012345678')
    .toDocument()
}

export interface EventPush {
  event: string
  eventKey?: string
  from?: string
  createTime?: number
}

/** An event push. */
export function eventXml(p: EventPush): string {
  return new XmlBuilder()
    .add('ToUserName', ACCOUNT)
    .add('FromUserName', p.from ?? USER)
    .add('CreateTime', p.createTime ?? T0_S)
    .add('MsgType', 'event')
    .add('Event', p.event)
    .add('EventKey', p.eventKey)
    .toDocument()
}

// ---------------------------------------------------------------------------------------------
// Requests

export interface SignOptions {
  token?: string
  /** Seconds; default the fake clock's start. */
  timestamp?: number | string
  nonce?: string
  path?: string
}

function url(path: string, params: Record<string, string>): string {
  return `${path}?${new URLSearchParams(params).toString()}`
}

/** The URL-verification GET. */
export function verifyRequest(echostr: string, o: SignOptions = {}): InjectOptions {
  const timestamp = String(o.timestamp ?? T0_S)
  const nonce = o.nonce ?? '1514711492'
  const signature = computeSignature(o.token ?? TOKEN, timestamp, nonce)
  return { method: 'GET', url: url(o.path ?? PATH, { signature, timestamp, nonce, echostr }) }
}

/** A plain-mode (明文模式) push of `xml`. */
export function plainPush(xml: string, o: SignOptions & { contentType?: string | null } = {}): InjectOptions {
  const timestamp = String(o.timestamp ?? T0_S)
  const nonce = o.nonce ?? '1320562132'
  const signature = computeSignature(o.token ?? TOKEN, timestamp, nonce)
  const headers: Record<string, string> = {}
  if (o.contentType !== null) headers['content-type'] = o.contentType ?? 'text/xml'
  return {
    method: 'POST',
    url: url(o.path ?? PATH, { signature, timestamp, nonce, openid: USER }),
    payload: xml,
    headers,
  }
}

export interface EncryptedOptions extends SignOptions {
  /** `safe` (ToUserName + Encrypt) or `compat` (plaintext fields + Encrypt). Default safe. */
  mode?: 'safe' | 'compat'
  crypto?: WxMpCrypto
  /** Use this Encrypt value instead of encrypting `xml`. */
  encrypt?: string
  /** Use this msg_signature instead of signing the Encrypt value. */
  msgSignature?: string
}

/**
 * An encrypted push: WeChat's query (`signature`, `timestamp`, `nonce`, `openid`,
 * `encrypt_type=aes`, `msg_signature` over the Encrypt value) and the envelope of the mode.
 */
export function encryptedPush(xml: string, o: EncryptedOptions = {}): InjectOptions {
  const token = o.token ?? TOKEN
  const crypto = o.crypto ?? accountCrypto(APP_ID, token)
  const timestamp = String(o.timestamp ?? T0_S)
  const nonce = o.nonce ?? '1320562132'
  const encrypt = o.encrypt ?? crypto.encrypt(xml)
  const msgSignature = o.msgSignature ?? computeSignature(token, timestamp, nonce, encrypt)
  const signature = computeSignature(token, timestamp, nonce)
  let body: string
  if ((o.mode ?? 'safe') === 'compat') {
    // The plaintext fields of the message, then <Encrypt>, inside the same <xml> root.
    body = xml.replace(/<\/xml>$/, new XmlBuilder().add('Encrypt', encrypt).toString() + '</xml>')
  } else {
    const to = parseXmlDocument(xml)['ToUserName']
    body = new XmlBuilder()
      .add('ToUserName', typeof to === 'string' ? to : ACCOUNT)
      .add('Encrypt', encrypt)
      .toDocument()
  }
  return {
    method: 'POST',
    url: url(o.path ?? PATH, { signature, timestamp, nonce, openid: USER, encrypt_type: 'aes', msg_signature: msgSignature }),
    payload: body,
    headers: { 'content-type': 'text/xml' },
  }
}

// ---------------------------------------------------------------------------------------------
// Replies

/** The elements of a plaintext reply. */
export function replyFields(body: string): XmlElement {
  return parseXmlDocument(body)
}

/** The text of a reply element (throws when it is not text). */
export function field(doc: XmlElement, name: string): string {
  const value = doc[name]
  if (typeof value !== 'string') throw new Error(`reply has no text element <${name}>: ${JSON.stringify(doc)}`)
  return value
}

export interface DecryptedReply {
  /** The decrypted reply XML. */
  xml: string
  encrypt: string
  timestamp: string
  nonce: string
  /** Whether MsgSignature matches sha1(sort([token, TimeStamp, Nonce, Encrypt])). */
  signatureOk: boolean
}

/** Opens an encrypted reply envelope `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`. */
export function openEncryptedReply(body: string, crypto: WxMpCrypto = accountCrypto()): DecryptedReply {
  const doc = parseXmlDocument(body)
  const encrypt = field(doc, 'Encrypt')
  const timestamp = field(doc, 'TimeStamp')
  const nonce = field(doc, 'Nonce')
  const signatureOk = crypto.verify(field(doc, 'MsgSignature'), timestamp, nonce, encrypt)
  return { xml: crypto.decrypt(encrypt), encrypt, timestamp, nonce, signatureOk }
}

/** Fails the test if an unhandled rejection fires while it runs. */
export function failOnUnhandledRejection(t: Test): void {
  const listener = (reason: unknown): void => {
    t.fail(`unhandled rejection: ${String(reason)}`)
  }
  process.on('unhandledRejection', listener)
  t.teardown(() => {
    process.off('unhandledRejection', listener)
  })
}

/** Lets `n` event-loop turns pass (to show that something does NOT happen without the clock moving). */
export async function turns(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve))
}
