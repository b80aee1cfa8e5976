/**
 * Shared helpers of the test/server suite (not a test file: tap only runs `*.test.ts`).
 *
 * Requests are built with the protocol core's WeChat side (writeMessage, signPushQuery,
 * WxMpCrypto.sealPush, WxMpCrypto.openReply), so a request the server accepts is one WeChat could
 * have sent. Time is a {@link FakeClock}: nothing
 * in this suite sleeps or asserts on elapsed time.
 */
import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions } from 'fastify'
import type { Test } from 'tap'
import {
  WxMpCrypto,
  catalogue,
  computeSignature,
  createLogger,
  createServer,
  isWxMpError,
  parseXmlDocument,
  signPushQuery,
  writeMessage,
  type Clock,
  type CreateServerOptions,
  type MessageToWrite,
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
  return writeMessage({
    toUserName: p.to ?? ACCOUNT,
    fromUserName: p.from ?? USER,
    createTime: p.createTime ?? T0_S,
    msgType: 'text',
    content: p.content ?? 'hello',
    msgId: p.msgId ?? '23456789012345678',
  })
}

export interface EventPush {
  event: string
  eventKey?: string
  from?: string
  createTime?: number
}

/** An event push. */
export function eventXml(p: EventPush): string {
  const head = { toUserName: ACCOUNT, fromUserName: p.from ?? USER, createTime: p.createTime ?? T0_S }
  // EventKey goes in raw too: written as the catalogue field where the event has one, after the
  // header otherwise (and for events the catalogue does not know).
  const raw: XmlElement = p.eventKey === undefined ? {} : { EventKey: p.eventKey }
  const message = Object.hasOwn(catalogue.events, p.event)
    ? { ...head, msgType: 'event', event: p.event, ...(p.eventKey === undefined ? {} : { eventKey: p.eventKey }), raw }
    : { ...head, msgType: 'event', event: 'unknown', originalEvent: p.event, raw }
  return writeMessage(message as MessageToWrite)
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
  const { signature, timestamp, nonce } = signPushQuery(o.token ?? TOKEN, { timestamp: o.timestamp ?? T0_S, nonce: o.nonce ?? '1514711492' })
  return { method: 'GET', url: url(o.path ?? PATH, { signature, timestamp, nonce, echostr }) }
}

/** A plain-mode (明文模式) push of `xml`. */
export function plainPush(xml: string, o: SignOptions & { contentType?: string | null } = {}): InjectOptions {
  const query = signPushQuery(o.token ?? TOKEN, { timestamp: o.timestamp ?? T0_S, nonce: o.nonce ?? '1320562132', openid: USER })
  const headers: Record<string, string> = {}
  if (o.contentType !== null) headers['content-type'] = o.contentType ?? 'text/xml'
  return { method: 'POST', url: url(o.path ?? PATH, { ...query }), payload: xml, headers }
}

export interface EncryptedOptions extends SignOptions {
  /** `safe` (ToUserName + Encrypt) or `compat` (plaintext fields + Encrypt). Default safe. */
  mode?: 'safe' | 'compat'
  crypto?: WxMpCrypto
  /** Put this Encrypt value in the body instead of the real one (a tampered push). */
  encrypt?: string
  /** Put this msg_signature on the URL instead of the real one. */
  msgSignature?: string
}

/**
 * An encrypted push, sealed by the core (`WxMpCrypto.sealPush`): WeChat's query (`signature`,
 * `timestamp`, `nonce`, `openid`, `encrypt_type=aes`, `msg_signature` over the Encrypt value) and
 * the envelope of the mode. `encrypt` / `msgSignature` tamper with the sealed push afterwards.
 */
export function encryptedPush(xml: string, o: EncryptedOptions = {}): InjectOptions {
  const token = o.token ?? TOKEN
  const crypto = o.crypto ?? accountCrypto(APP_ID, token)
  const to = parseXmlDocument(xml)['ToUserName']
  const sealed = crypto.sealPush(xml, {
    timestamp: o.timestamp ?? T0_S,
    nonce: o.nonce ?? '1320562132',
    mode: o.mode ?? 'safe',
    openid: USER,
    toUserName: typeof to === 'string' ? to : ACCOUNT,
  })
  let body = sealed.body
  const query = { ...sealed.query }
  if (o.encrypt !== undefined) {
    const real = crypto.readEncrypt(sealed.body)
    body = body.replace(real, () => o.encrypt!)
    query.msg_signature = computeSignature(token, query.timestamp, query.nonce, o.encrypt)
  }
  if (o.msgSignature !== undefined) query.msg_signature = o.msgSignature
  return { method: 'POST', url: url(o.path ?? PATH, { ...query }), payload: body, headers: { 'content-type': 'text/xml' } }
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

/**
 * Opens an encrypted reply envelope `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`
 * with the core's `WxMpCrypto.openReply`; a reply whose MsgSignature does not match is still
 * decrypted, with `signatureOk: false`, so a test can say what is wrong with it.
 */
export function openEncryptedReply(body: string, crypto: WxMpCrypto = accountCrypto()): DecryptedReply {
  const doc = parseXmlDocument(body)
  const parts = { encrypt: field(doc, 'Encrypt'), timestamp: field(doc, 'TimeStamp'), nonce: field(doc, 'Nonce') }
  try {
    return { xml: crypto.openReply(body), ...parts, signatureOk: true }
  } catch (err) {
    if (!isWxMpError(err) || err.code !== 'INVALID_SIGNATURE') throw err
    return { xml: crypto.decrypt(parts.encrypt), ...parts, signatureOk: false }
  }
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
