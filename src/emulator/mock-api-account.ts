/**
 * The account behind the emulator's mock WeChat API: its access tokens, its permissions (one of
 * three presets), the customer-service quota of each user, the typing indicator, and a record of
 * every customer-service message delivered. A pure model: requests in, JSON answers out, time
 * from an injected clock. The HTTP server around it is in `mock-api.ts`.
 *
 * The rules it enforces (WeChat's, as of 2025):
 * - `GET /cgi-bin/token` issues a new token each call; earlier ones stay valid 5 minutes.
 *   `POST /cgi-bin/stable_token` returns the current token unless `force_refresh` is set.
 *   Tokens last 7200 s. A missing token is 41001, a wrong or replaced one 40001, an expired one
 *   42001.
 * - Customer-service messages need an open window: a user message opens 5 messages for 48 h
 *   (verified accounts; it was 20 before mid-2023), a menu click, subscribe or scan opens 3 for
 *   1 minute. No window: 45015; the window's messages spent: 45047. Unverified personal
 *   subscription accounts have no customer-service permission at all: 48001.
 * - Typing: only within 30 s of the user's last interaction (45080), not again while shown
 *   (45081); it lasts 15 s and a message to the user ends it.
 *
 * Official references:
 * - https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 * - https://developers.weixin.qq.com/doc/service/api/customer/message/api_typing
 * - https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { BuiltPush } from './push.js'

/**
 * The account kinds the mock can play.
 *
 * - `test`: a 测试号 (sandbox account): customer-service messages work, no quota (the 48 h window
 *   still applies); typing rules apply.
 * - `personal`: an unverified personal subscription account (个人订阅号): `custom/send` and
 *   `custom/typing` answer 48001.
 * - `verified`: a verified account (认证号): 5 messages per 48 h after a user message, 3 within
 *   1 min after a menu click / subscribe / scan; typing rules apply.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export const mockApiPresets = ['test', 'personal', 'verified'] as const

/**
 * One of {@link mockApiPresets}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export type MockApiPreset = (typeof mockApiPresets)[number]

const presetRules: Record<MockApiPreset, { customService: boolean; quota: boolean; label: string }> = {
  test: { customService: true, quota: false, label: '测试号 (sandbox): customer-service messages work, no quota' },
  personal: { customService: false, quota: false, label: '个人订阅号 (personal, unverified): no customer-service permission (48001)' },
  verified: { customService: true, quota: true, label: '认证号 (verified): 5 customer-service messages per 48 h after a user message, 3 per minute after a click/subscribe/scan' },
}

/**
 * A one-line description of a preset, for banners.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export function describePreset(preset: MockApiPreset): string {
  return presetRules[preset].label
}

/**
 * The AppID the mock accepts when none is given (clearly not a real one).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export const MOCK_APP_ID = 'wx0000000000000000'
/**
 * The AppSecret the mock accepts when none is given.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export const MOCK_APP_SECRET = '00000000000000000000000000000000'

/** Lifetime of an access token, in seconds. */
const TOKEN_TTL_S = 7200
/** How long a replaced token keeps working. */
const TOKEN_GRACE_MS = 5 * 60_000
const HOUR = 3_600_000
/** Customer-service windows: after a user message, and after a click / subscribe / scan. */
const MESSAGE_WINDOW = { ms: 48 * HOUR, limit: 5 }
const EVENT_WINDOW = { ms: 60_000, limit: 3 }
/** Typing may be started only this long after the user's last interaction, and lasts this long. */
const TYPING_AFTER_MS = 30_000
const TYPING_LASTS_MS = 15_000
/** WeChat's limit on the content of a text customer-service message. */
const TEXT_MAX_BYTES = 2048

/**
 * What a push does to the customer-service window of its user: a user message opens the 48 h
 * window, a menu click (click and scancode buttons) / subscribe / scan opens the 1-minute one, an
 * unsubscribe closes every window, other events change nothing.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export type Interaction = 'message' | 'event' | 'unsubscribe'

const userMessageTypes: ReadonlySet<string> = new Set(['text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link'])
const windowEvents: ReadonlySet<string> = new Set(['subscribe', 'SCAN', 'CLICK', 'scancode_push', 'scancode_waitmsg'])

/**
 * The {@link Interaction} a push is, or `undefined` when it opens no window.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export function interactionOf(push: Pick<BuiltPush, 'msgType' | 'event'>): Interaction | undefined {
  if (userMessageTypes.has(push.msgType)) return 'message'
  if (push.msgType !== 'event' || push.event === undefined) return undefined
  if (push.event === 'unsubscribe') return 'unsubscribe'
  return windowEvents.has(push.event) ? 'event' : undefined
}

/**
 * One customer-service message the mock delivered: to whom, when (the mock's clock, epoch ms),
 * its type, what the phone shows (`text` for a text, a description such as `[image media_id=…]`
 * otherwise), and the request body as sent.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export interface MockApiMessage {
  at: number
  openId: string
  msgType: string
  text: string
  body: Record<string, unknown>
}

/**
 * One call the mock answered: when, which endpoint, and the errcode it answered (0 for success).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export interface MockApiCall {
  at: number
  method: string
  path: string
  errcode: number
  /** For custom/send and custom/typing: the `touser`. */
  openId?: string
  /** For custom/typing: the `command`. */
  command?: string
}

/**
 * A request as the mock reads it.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export interface MockApiRequest {
  method: string
  /** The path without the query string, e.g. `/cgi-bin/message/custom/send`. */
  path: string
  query: URLSearchParams
  body: string
}

/**
 * The mock's answer: an HTTP status and a JSON body (WeChat answers errors with HTTP 200 and an
 * `errcode`).
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export interface MockApiAnswer {
  status: number
  json: Record<string, unknown>
}

/**
 * Options of {@link MockAccount}.
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
 */
export interface MockAccountOptions {
  /** Default `test`. */
  preset?: MockApiPreset
  /** The AppID the token endpoints accept; default {@link MOCK_APP_ID}. */
  appId?: string
  /** The AppSecret the token endpoints accept; default {@link MOCK_APP_SECRET}. */
  appSecret?: string
  /** Clock in epoch ms; default `Date.now`. Share it with the emulator for consistent times. */
  now?: () => number
}

interface Window {
  closesAt: number
  used: number
  limit: number
}

interface UserState {
  messageWindow?: Window
  eventWindow?: Window
  lastInteraction?: number
  typingUntil: number
}

interface IssuedToken {
  expiresAt: number
  /** Replaced tokens stop working at this time. */
  validUntil: number
}

const errmsgs: Record<number, string> = {
  0: 'ok',
  40001: 'invalid credential, access_token is invalid or not latest',
  40002: 'invalid grant_type',
  40003: 'invalid openid',
  40007: 'invalid media_id',
  40008: 'invalid message type',
  40013: 'invalid appid',
  40097: 'invalid args',
  40125: 'invalid appsecret',
  41001: 'access_token missing',
  41002: 'appid missing',
  41004: 'appsecret missing',
  42001: 'access_token expired',
  43001: 'require GET method',
  43002: 'require POST method',
  44002: 'empty post data',
  44003: 'empty news data',
  44004: 'empty content',
  45002: 'content size out of limit',
  45008: 'article size out of limit',
  45015: 'response out of time limit or subscription is canceled',
  45047: 'out of response count limit',
  45080: 'has not sent message to user in the past 30 seconds',
  45081: 'already in typing status',
  47001: 'data format error',
  48001: 'api unauthorized',
}

function answer(errcode: number, detail?: string): MockApiAnswer {
  const errmsg = (errmsgs[errcode] ?? 'error') + (detail ? ` (mock: ${detail})` : '')
  return { status: 200, json: { errcode, errmsg } }
}

const mediaTypes: Readonly<Record<string, string>> = { image: 'image', voice: 'voice', mpnews: 'mpnews', video: 'video' }

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== ''
}

/** Checks a custom/send body; the errcode WeChat answers for it and what the phone would show. */
function readCustomMessage(body: Record<string, unknown>): { errcode: number; detail?: string; text?: string } {
  const msgtype = body['msgtype']
  if (!nonEmptyString(msgtype)) return { errcode: 40008, detail: 'msgtype is missing' }
  const payload = record(body[msgtype])
  switch (msgtype) {
    case 'text': {
      const content = payload?.['content']
      if (!nonEmptyString(content)) return { errcode: 44004, detail: 'text.content is missing or empty' }
      const bytes = Buffer.byteLength(content, 'utf8')
      if (bytes > TEXT_MAX_BYTES) return { errcode: 45002, detail: `text.content is ${bytes} bytes of UTF-8; the limit is ${TEXT_MAX_BYTES}` }
      return { errcode: 0, text: content }
    }
    case 'image':
    case 'voice':
    case 'mpnews':
    case 'video': {
      const id = payload?.['media_id']
      if (!nonEmptyString(id)) return { errcode: 40007, detail: `${msgtype}.media_id is missing` }
      return { errcode: 0, text: `[${mediaTypes[msgtype]} media_id=${id}]` }
    }
    case 'music': {
      if (!payload || !nonEmptyString(payload['thumb_media_id'])) return { errcode: 40007, detail: 'music.thumb_media_id is missing' }
      if (!nonEmptyString(payload['musicurl']) || !nonEmptyString(payload['hqmusicurl'])) return { errcode: 47001, detail: 'music needs musicurl and hqmusicurl' }
      return { errcode: 0, text: `[music ${typeof payload['title'] === 'string' && payload['title'] ? payload['title'] : '(untitled)'}]` }
    }
    case 'news': {
      const articles = payload?.['articles']
      if (!Array.isArray(articles) || articles.length === 0) return { errcode: 44003, detail: 'news.articles is missing or empty' }
      if (articles.length > 1) return { errcode: 45008, detail: `news takes 1 article (got ${articles.length})` }
      const title = record(articles[0])?.['title']
      if (!nonEmptyString(title)) return { errcode: 47001, detail: 'the article has no title' }
      return { errcode: 0, text: `[news] ${title}` }
    }
    case 'mpnewsarticle': {
      const id = payload?.['article_id']
      if (!nonEmptyString(id)) return { errcode: 47001, detail: 'mpnewsarticle.article_id is missing' }
      return { errcode: 0, text: `[mpnewsarticle ${id}]` }
    }
    case 'msgmenu': {
      const list = payload?.['list']
      if (!Array.isArray(list) || list.length === 0) return { errcode: 47001, detail: 'msgmenu.list is missing or empty' }
      const items = list.map((item) => String(record(item)?.['content'] ?? ''))
      const head = typeof payload?.['head_content'] === 'string' ? payload['head_content'] : ''
      const tail = typeof payload?.['tail_content'] === 'string' ? payload['tail_content'] : ''
      return { errcode: 0, text: [head, ...items.map((c) => `[${c}]`), tail].filter((l) => l !== '').join('\n') }
    }
    case 'miniprogrampage': {
      if (!payload || !nonEmptyString(payload['appid']) || !nonEmptyString(payload['pagepath'])) {
        return { errcode: 47001, detail: 'miniprogrampage needs appid and pagepath' }
      }
      return { errcode: 0, text: `[miniprogram ${typeof payload['title'] === 'string' ? payload['title'] : payload['pagepath']}]` }
    }
    default:
      return { errcode: 40008, detail: `unknown msgtype ${JSON.stringify(msgtype)}` }
  }
}

const openIdShape = /^[A-Za-z0-9_-]{1,64}$/

/**
 * The mock account: tokens, permissions, quotas, typing and the record of delivered messages.
 * Drive it with {@link MockAccount.handle} (the HTTP server does) and tell it about the user's
 * pushes with {@link MockAccount.interact} (the emulator does, for every push it delivers).
 *
 * @example
 * ```ts
 * const account = new MockAccount({ preset: 'verified', now: () => clock })
 * account.interact('oUser', 'message')
 * account.handle({ method: 'POST', path: '/cgi-bin/message/custom/send', query, body })
 * ```
 *
 * Official reference:
 * https://developers.weixin.qq.com/doc/service/api/customer/message/api_sendcustommessage
 */
export class MockAccount {
  /** The account kind it plays. */
  readonly preset: MockApiPreset
  /** The AppID its token endpoints accept. */
  readonly appId: string
  /** The AppSecret its token endpoints accept. */
  readonly appSecret: string
  /** Every customer-service message delivered, in order. */
  readonly messages: MockApiMessage[] = []
  /** Every call answered, in order, with its errcode. */
  readonly history: MockApiCall[] = []
  /** Calls per endpoint path (`/cgi-bin/token`, …), errors included. */
  readonly calls: Record<string, number> = {}
  readonly #now: () => number
  readonly #users = new Map<string, UserState>()
  readonly #tokens = new Map<string, IssuedToken>()
  #stable: string | undefined
  readonly #listeners = new Set<(message: MockApiMessage) => void>()
  readonly #typingListeners = new Set<(openId: string, typing: boolean) => void>()

  constructor(options: MockAccountOptions = {}) {
    const preset = options.preset ?? 'test'
    if (!mockApiPresets.includes(preset)) {
      throw new TypeError(`wx-mp-svr: the mock API account must be one of ${mockApiPresets.join(', ')} (got ${JSON.stringify(preset)}).`)
    }
    this.preset = preset
    this.appId = options.appId ?? MOCK_APP_ID
    this.appSecret = options.appSecret ?? MOCK_APP_SECRET
    this.#now = options.now ?? Date.now
  }

  /**
   * Records a push of the user: opens (or closes) the customer-service window, and starts the
   * 30 s in which typing may be shown. `at` defaults to now.
   */
  interact(openId: string, interaction: Interaction, at: number = this.#now()): void {
    const user = this.#user(openId)
    if (interaction === 'unsubscribe') {
      delete user.messageWindow
      delete user.eventWindow
      delete user.lastInteraction
      user.typingUntil = 0
      return
    }
    user.lastInteraction = at
    if (interaction === 'message') user.messageWindow = { closesAt: at + MESSAGE_WINDOW.ms, used: 0, limit: MESSAGE_WINDOW.limit }
    else user.eventWindow = { closesAt: at + EVENT_WINDOW.ms, used: 0, limit: EVENT_WINDOW.limit }
  }

  /**
   * Invalidates every token issued so far, at once (the next call with one answers 40001), as
   * when another process force-refreshes the token or the AppSecret is reset.
   */
  invalidateTokens(): void {
    this.#tokens.clear()
    this.#stable = undefined
  }

  /** Calls `listener` with every customer-service message as it is delivered; returns the unsubscribe. */
  onMessage(listener: (message: MockApiMessage) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Calls `listener` when the bot starts (`true`) or cancels (`false`) the typing indicator of a
   * user with an accepted custom/typing call; returns the unsubscribe.
   */
  onTyping(listener: (openId: string, typing: boolean) => void): () => void {
    this.#typingListeners.add(listener)
    return () => this.#typingListeners.delete(listener)
  }

  /** Answers one request the way WeChat's API does. Never throws. */
  handle(request: MockApiRequest): MockApiAnswer {
    const { path } = request
    this.calls[path] = (this.calls[path] ?? 0) + 1
    const call: MockApiCall = { at: this.#now(), method: request.method, path, errcode: 0 }
    let result: MockApiAnswer
    switch (path) {
      case '/cgi-bin/token':
        result = request.method === 'GET' ? this.#classicToken(request.query) : answer(43001)
        break
      case '/cgi-bin/stable_token':
        result = request.method === 'POST' ? this.#stableToken(request.body) : answer(43002)
        break
      case '/cgi-bin/message/custom/send':
        result = request.method === 'POST' ? this.#customSend(request, call) : answer(43002)
        break
      case '/cgi-bin/message/custom/typing':
        result = request.method === 'POST' ? this.#typing(request, call) : answer(43002)
        break
      default:
        result = {
          status: 404,
          json: {
            errcode: -1,
            errmsg: `the mock WeChat API implements /cgi-bin/token, /cgi-bin/stable_token, /cgi-bin/message/custom/send and /cgi-bin/message/custom/typing, not ${path}`,
          },
        }
    }
    call.errcode = typeof result.json['errcode'] === 'number' ? result.json['errcode'] : 0
    this.history.push(call)
    return result
  }

  #user(openId: string): UserState {
    let user = this.#users.get(openId)
    if (!user) {
      user = { typingUntil: 0 }
      this.#users.set(openId, user)
    }
    return user
  }

  #credentials(appid: unknown, secret: unknown): MockApiAnswer | undefined {
    if (!nonEmptyString(appid)) return answer(41002)
    if (!nonEmptyString(secret)) return answer(41004)
    if (appid !== this.appId) return answer(40013, `this mock account is ${this.appId}`)
    if (secret !== this.appSecret) return answer(40125)
    return undefined
  }

  #issue(): string {
    const now = this.#now()
    for (const issued of this.#tokens.values()) issued.validUntil = Math.min(issued.validUntil, now + TOKEN_GRACE_MS)
    const token = randomBytes(64).toString('base64url')
    this.#tokens.set(token, { expiresAt: now + TOKEN_TTL_S * 1000, validUntil: Number.POSITIVE_INFINITY })
    return token
  }

  #tokenAnswer(token: string): MockApiAnswer {
    const issued = this.#tokens.get(token)!
    return { status: 200, json: { access_token: token, expires_in: Math.max(0, Math.floor((issued.expiresAt - this.#now()) / 1000)) } }
  }

  #classicToken(query: URLSearchParams): MockApiAnswer {
    if (query.get('grant_type') !== 'client_credential') return answer(40002)
    const refused = this.#credentials(query.get('appid'), query.get('secret'))
    if (refused) return refused
    this.#stable = this.#issue()
    return this.#tokenAnswer(this.#stable)
  }

  #stableToken(raw: string): MockApiAnswer {
    const body = this.#json(raw)
    if ('errcode' in body) return body.errcode
    if (body.json['grant_type'] !== 'client_credential') return answer(40002)
    const refused = this.#credentials(body.json['appid'], body.json['secret'])
    if (refused) return refused
    const current = this.#stable === undefined ? undefined : this.#tokens.get(this.#stable)
    const usable = current !== undefined && current.expiresAt > this.#now() && current.validUntil > this.#now()
    if (!usable || body.json['force_refresh'] === true) this.#stable = this.#issue()
    return this.#tokenAnswer(this.#stable!)
  }

  #json(raw: string): { json: Record<string, unknown> } | { errcode: MockApiAnswer } {
    if (raw.trim() === '') return { errcode: answer(44002) }
    try {
      const json = record(JSON.parse(raw))
      return json ? { json } : { errcode: answer(47001, 'the body is not a JSON object') }
    } catch {
      return { errcode: answer(47001, 'the body is not valid JSON') }
    }
  }

  /** The token check of every API call: 41001, 40001 or 42001, or `undefined` when valid. */
  #checkToken(query: URLSearchParams): MockApiAnswer | undefined {
    const token = query.get('access_token')
    if (!token) return answer(41001)
    const issued = this.#tokens.get(token)
    const now = this.#now()
    if (!issued || issued.validUntil <= now) return answer(40001)
    if (issued.expiresAt <= now) return answer(42001)
    return undefined
  }

  #customSend(request: MockApiRequest, call: MockApiCall): MockApiAnswer {
    const refused = this.#checkToken(request.query)
    if (refused) return refused
    const body = this.#json(request.body)
    if ('errcode' in body) return body.errcode
    const touser = body.json['touser']
    if (!nonEmptyString(touser) || !openIdShape.test(touser)) return answer(40003, 'touser must be the OpenID of a follower')
    call.openId = touser
    if (!presetRules[this.preset].customService) return answer(48001, 'unverified personal subscription accounts have no customer-service permission')
    const message = readCustomMessage(body.json)
    if (message.errcode !== 0) return answer(message.errcode, message.detail)
    const now = this.#now()
    const user = this.#user(touser)
    const windows = [user.eventWindow, user.messageWindow].filter((w): w is Window => w !== undefined && w.closesAt > now)
    if (this.preset === 'test') {
      // The sandbox keeps the 48 h rule but counts nothing: any interaction opens 48 h.
      if (user.lastInteraction === undefined || user.lastInteraction + MESSAGE_WINDOW.ms <= now) {
        return answer(45015, 'the user has not interacted within 48 h')
      }
    } else {
      if (windows.length === 0) return answer(45015, 'no window is open: the user has not sent a message within 48 h (or clicked/subscribed/scanned within 1 min)')
      const open = windows.find((w) => w.used < w.limit)
      if (!open) return answer(45047, `the user's window allows ${windows.map((w) => w.limit).join(' + ')} messages and they are spent`)
      open.used++
    }
    user.typingUntil = 0
    const delivered: MockApiMessage = { at: now, openId: touser, msgType: String(body.json['msgtype']), text: message.text ?? '', body: body.json }
    this.messages.push(delivered)
    for (const listener of this.#listeners) listener(delivered)
    return answer(0)
  }

  #typing(request: MockApiRequest, call: MockApiCall): MockApiAnswer {
    const refused = this.#checkToken(request.query)
    if (refused) return refused
    const body = this.#json(request.body)
    if ('errcode' in body) return body.errcode
    const touser = body.json['touser']
    if (!nonEmptyString(touser) || !openIdShape.test(touser)) return answer(40003, 'touser must be the OpenID of a follower')
    call.openId = touser
    const command = body.json['command']
    if (command !== 'Typing' && command !== 'CancelTyping') return answer(40097, 'command must be "Typing" or "CancelTyping"')
    call.command = command
    if (!presetRules[this.preset].customService) return answer(48001, 'unverified personal subscription accounts have no customer-service permission')
    const now = this.#now()
    const user = this.#user(touser)
    if (command === 'CancelTyping') {
      user.typingUntil = 0
      for (const listener of this.#typingListeners) listener(touser, false)
      return answer(0)
    }
    if (user.lastInteraction === undefined || now - user.lastInteraction > TYPING_AFTER_MS) {
      return answer(45080, 'typing may be shown only within 30 s of the user’s last message')
    }
    if (user.typingUntil > now) return answer(45081, 'typing is already shown (it lasts 15 s, or until a message is sent)')
    user.typingUntil = now + TYPING_LASTS_MS
    for (const listener of this.#typingListeners) listener(touser, true)
    return answer(0)
  }

  /** Whether the typing indicator is shown to `openId` now. */
  isTyping(openId: string): boolean {
    return (this.#users.get(openId)?.typingUntil ?? 0) > this.#now()
  }
}
