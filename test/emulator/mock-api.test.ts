// The mock WeChat API, driven over HTTP as a bot drives WeChat's, on a fake clock: tokens, the
// three account presets, the customer-service quota (5 per 48 h, 3 per minute after a click),
// typing rules, body validation, and the record of delivered messages.
import t from 'tap'
import { WxMpApi, isWxMpApiError } from '../../src/api/index.js'
import { MOCK_APP_ID, MOCK_APP_SECRET, startMockApi, type MockApi, type MockApiOptions } from '../../src/emulator/index.js'

const HOUR = 3_600_000

interface Tap {
  teardown(fn: () => unknown): void
}

async function mock(t: Tap, options: MockApiOptions = {}): Promise<{ api: MockApi; clock: { ms: number } }> {
  const clock = { ms: Date.UTC(2026, 0, 1) }
  const api = await startMockApi({ now: () => clock.ms, ...options })
  t.teardown(() => api.close())
  return { api, clock }
}

async function call(api: MockApi, method: 'GET' | 'POST', path: string, body?: unknown, query: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const url = new URL(path, api.baseUrl)
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v)
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  })
  return (await res.json()) as Record<string, unknown>
}

async function stableToken(api: MockApi, force = false): Promise<string> {
  const answer = await call(api, 'POST', '/cgi-bin/stable_token', { grant_type: 'client_credential', appid: api.appId, secret: api.appSecret, force_refresh: force })
  if (typeof answer['access_token'] !== 'string') throw new Error(JSON.stringify(answer))
  return answer['access_token']
}

function sender(api: MockApi, token: string) {
  return {
    text: (touser: string, content: string) => call(api, 'POST', '/cgi-bin/message/custom/send', { touser, msgtype: 'text', text: { content } }, { access_token: token }),
    typing: (touser: string, command: string) => call(api, 'POST', '/cgi-bin/message/custom/typing', { touser, command }, { access_token: token }),
  }
}

const errcode = (answer: Record<string, unknown>): unknown => answer['errcode']

t.test('tokens: credentials checked, stable_token shared, classic token replaces, 40001/42001/41001', async (t) => {
  const { api, clock } = await mock(t)
  t.equal(api.appId, MOCK_APP_ID)
  t.equal(api.appSecret, MOCK_APP_SECRET)
  t.match(api.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.equal(errcode(await call(api, 'POST', '/cgi-bin/stable_token', { grant_type: 'client_credential', appid: api.appId, secret: 'wrong' })), 40125)
  t.equal(errcode(await call(api, 'POST', '/cgi-bin/stable_token', { grant_type: 'client_credential', appid: 'wxOther', secret: api.appSecret })), 40013)
  t.equal(errcode(await call(api, 'POST', '/cgi-bin/stable_token', { grant_type: 'password', appid: api.appId, secret: api.appSecret })), 40002)
  t.equal(errcode(await call(api, 'POST', '/cgi-bin/stable_token', 'not json')), 47001)
  t.equal(errcode(await call(api, 'GET', '/cgi-bin/stable_token')), 43002)

  const a = await stableToken(api)
  t.equal(await stableToken(api), a, 'stable_token hands every caller the same token')
  const answer = await call(api, 'POST', '/cgi-bin/stable_token', { grant_type: 'client_credential', appid: api.appId, secret: api.appSecret })
  t.equal(answer['expires_in'], 7200)
  api.interact('oUser', 'message')
  t.equal(errcode(await sender(api, a).text('oUser', 'hi')), 0)
  t.equal(errcode(await sender(api, 'forged').text('oUser', 'hi')), 40001, 'a token it never issued')
  t.equal(errcode(await call(api, 'POST', '/cgi-bin/message/custom/send', { touser: 'oUser', msgtype: 'text', text: { content: 'x' } })), 41001)

  // The classic endpoint issues a new token; the old one keeps working for 5 minutes only.
  const classic = await call(api, 'GET', '/cgi-bin/token', undefined, { grant_type: 'client_credential', appid: api.appId, secret: api.appSecret })
  const b = String(classic['access_token'])
  t.not(b, a)
  clock.ms += 4 * 60_000
  t.equal(errcode(await sender(api, a).text('oUser', 'still fine')), 0)
  clock.ms += 2 * 60_000
  t.equal(errcode(await sender(api, a).text('oUser', 'replaced')), 40001)
  t.equal(errcode(await sender(api, b).text('oUser', 'new one')), 0)
  t.equal(await stableToken(api), b, 'stable_token now hands out the current token')

  // Tests can invalidate every token at once (another process force-refreshed, the secret reset).
  api.invalidateTokens()
  t.equal(errcode(await sender(api, b).text('oUser', 'x')), 40001)
  const c = await stableToken(api)
  t.not(c, b)
  t.equal(errcode(await sender(api, c).text('oUser', 'x')), 0)
  t.not(await stableToken(api, true), c, 'force_refresh issues a new one')

  clock.ms += 7201 * 1000
  const d = await stableToken(api)
  t.not(d, c, 'an expired token is replaced')
  t.equal(errcode(await call(api, 'GET', '/cgi-bin/menu/get', undefined, { access_token: d })), -1, 'unimplemented paths say so')
})

t.test('accepts the bot\'s own AppID and AppSecret', async (t) => {
  const { api } = await mock(t, { appId: 'wxBOT0000000000001', appSecret: 's3cret' })
  const answer = await call(api, 'GET', '/cgi-bin/token', undefined, { grant_type: 'client_credential', appid: 'wxBOT0000000000001', secret: 's3cret' })
  t.type(answer['access_token'], 'string')
})

t.test('preset personal: custom/send and typing answer 48001', async (t) => {
  const { api } = await mock(t, { preset: 'personal' })
  const token = await stableToken(api)
  api.interact('oUser', 'message')
  t.equal(errcode(await sender(api, token).text('oUser', 'hi')), 48001)
  t.equal(errcode(await sender(api, token).typing('oUser', 'Typing')), 48001)
  t.same(api.messages, [], 'nothing delivered')
  t.equal(api.calls['/cgi-bin/message/custom/send'], 1)
  t.equal(api.calls['/cgi-bin/message/custom/typing'], 1)
  t.equal(api.calls['/cgi-bin/stable_token'], 1)
  t.match(api.history.at(-1), { path: '/cgi-bin/message/custom/typing', errcode: 48001, openId: 'oUser', command: 'Typing' })
})

t.test('preset verified: 5 per 48 h after a message, 3 per minute after a click, 45015 and 45047', async (t) => {
  const { api, clock } = await mock(t, { preset: 'verified' })
  let send = sender(api, await stableToken(api))
  t.equal(errcode(await send.text('oNobody', 'hi')), 45015, 'no interaction: no window')
  api.interact('oUser', 'message')
  for (let i = 1; i <= 5; i++) t.equal(errcode(await send.text('oUser', `part ${i}`)), 0, `message ${i}`)
  t.equal(errcode(await send.text('oUser', 'part 6')), 45047, 'the sixth is over the quota')
  t.same(api.messages.map((m) => m.text), ['part 1', 'part 2', 'part 3', 'part 4', 'part 5'])
  t.match(api.messages[0], { openId: 'oUser', msgType: 'text', at: clock.ms, body: { touser: 'oUser', msgtype: 'text', text: { content: 'part 1' } } })

  // A new user message opens a fresh window.
  clock.ms += HOUR
  api.interact('oUser', 'message')
  t.equal(errcode(await send.text('oUser', 'again')), 0)
  clock.ms += 48 * HOUR
  send = sender(api, await stableToken(api)) // the 2 h token expired meanwhile
  t.equal(errcode(await send.text('oUser', 'too late')), 45015, 'the window closes after 48 h')

  // A click opens 3 within one minute.
  api.interact('oClicker', 'event')
  for (let i = 1; i <= 3; i++) t.equal(errcode(await send.text('oClicker', `c${i}`)), 0)
  t.equal(errcode(await send.text('oClicker', 'c4')), 45047)
  api.interact('oLate', 'event')
  clock.ms += 61_000
  t.equal(errcode(await send.text('oLate', 'after a minute')), 45015)

  // Unsubscribing closes every window.
  api.interact('oGone', 'message')
  api.interact('oGone', 'unsubscribe')
  t.equal(errcode(await send.text('oGone', 'bye')), 45015)
  t.equal(api.calls['/cgi-bin/message/custom/send'], 15)
})

t.test('preset test: no quota, the 48 h window still applies', async (t) => {
  const { api, clock } = await mock(t, { preset: 'test' })
  const send = sender(api, await stableToken(api))
  api.interact('oUser', 'event')
  for (let i = 1; i <= 8; i++) t.equal(errcode(await send.text('oUser', `m${i}`)), 0)
  clock.ms += 2 * HOUR + 1000
  t.equal(errcode(await send.text('oUser', 'expired token')), 42001, 'tokens last 7200 s')
  clock.ms += 47 * HOUR
  t.equal(errcode(await sender(api, await stableToken(api)).text('oUser', 'late')), 45015)
})

t.test('typing: within 30 s of the user, not twice while shown, 15 s, ended by a message', async (t) => {
  const { api, clock } = await mock(t, { preset: 'verified' })
  const send = sender(api, await stableToken(api))
  t.equal(errcode(await send.typing('oUser', 'Typing')), 45080, 'the user never wrote')
  api.interact('oUser', 'message')
  t.equal(errcode(await send.typing('oUser', 'Typing')), 0)
  t.equal(api.isTyping('oUser'), true)
  t.equal(errcode(await send.typing('oUser', 'Typing')), 45081, 'already shown')
  clock.ms += 15_001
  t.equal(api.isTyping('oUser'), false, 'lasts 15 s')
  t.equal(errcode(await send.typing('oUser', 'Typing')), 0, 'may be shown again after it lapsed')
  t.equal(errcode(await send.text('oUser', 'the answer')), 0)
  t.equal(api.isTyping('oUser'), false, 'a message ends it')
  clock.ms += 16_000
  t.equal(errcode(await send.typing('oUser', 'Typing')), 45080, 'over 30 s after the user wrote')
  api.interact('oUser', 'message')
  t.equal(errcode(await send.typing('oUser', 'Typing')), 0)
  t.equal(errcode(await send.typing('oUser', 'CancelTyping')), 0)
  t.equal(api.isTyping('oUser'), false)
  t.equal(errcode(await send.typing('oUser', 'typing')), 40097, 'the command is case-sensitive')
})

t.test('custom/send validates the body as WeChat does', async (t) => {
  const { api } = await mock(t, { preset: 'test' })
  const token = await stableToken(api)
  api.interact('oUser', 'message')
  const post = (body: unknown) => call(api, 'POST', '/cgi-bin/message/custom/send', body, { access_token: token })
  t.equal(errcode(await post('')), 44002, 'empty body')
  t.equal(errcode(await post('{oops')), 47001, 'not JSON')
  t.equal(errcode(await post({ msgtype: 'text', text: { content: 'x' } })), 40003, 'no touser')
  t.equal(errcode(await post({ touser: 'o user!', msgtype: 'text', text: { content: 'x' } })), 40003, 'not an OpenID')
  t.equal(errcode(await post({ touser: 'oUser', text: { content: 'x' } })), 40008, 'no msgtype')
  t.equal(errcode(await post({ touser: 'oUser', msgtype: 'markdown', markdown: {} })), 40008, 'unknown msgtype')
  t.equal(errcode(await post({ touser: 'oUser', msgtype: 'text', text: {} })), 44004, 'no content')
  t.equal(errcode(await post({ touser: 'oUser', msgtype: 'text', text: { content: '长'.repeat(683) } })), 45002, '2049 bytes')
  t.equal(errcode(await post({ touser: 'oUser', msgtype: 'text', text: { content: '长'.repeat(682) } })), 0, '2046 bytes')
  t.equal(errcode(await post({ touser: 'oUser', msgtype: 'image', image: {} })), 40007)
  t.equal(errcode(await post({ touser: 'oUser', msgtype: 'news', news: { articles: [{ title: 'a' }, { title: 'b' }] } })), 45008)
  t.equal(errcode(await post({ touser: 'oUser', msgtype: 'image', image: { media_id: 'MEDIA' } })), 0)
  t.same(
    api.messages.map((m) => m.text.slice(0, 22)),
    ['长'.repeat(22), '[image media_id=MEDIA]'],
    'only valid messages are delivered, described as the phone shows them',
  )
})

t.test("the kit's own API client works against the mock, and recovers from an invalidated token", async (t) => {
  const { api } = await mock(t, { preset: 'verified' })
  const client = new WxMpApi({ appId: api.appId, appSecret: api.appSecret, baseUrl: api.baseUrl, env: {}, retryDelayMs: 1 })
  api.interact('oUser', 'message')
  await client.setTyping('oUser', true)
  await client.sendCustomMessage('oUser', '你好')
  api.invalidateTokens()
  await client.sendCustomMessage('oUser', 'after a token reset')
  t.same(api.messages.map((m) => m.text), ['你好', 'after a token reset'])
  t.ok(api.history.some((c) => c.errcode === 40001), 'the stale token was refused once')
  const personal = (await mock(t, { preset: 'personal' })).api
  const denied = new WxMpApi({ appId: personal.appId, appSecret: personal.appSecret, baseUrl: personal.baseUrl, env: {} })
  personal.interact('oUser', 'message')
  const err = await denied.sendCustomMessage('oUser', 'hi').then(
    () => undefined,
    (e: unknown) => e,
  )
  t.ok(isWxMpApiError(err) && err.errcode === 48001, '48001 reaches the bot as a typed error')
})

t.test('a taken port is refused with the listen error', async (t) => {
  const { api } = await mock(t)
  const port = Number(new URL(api.baseUrl).port)
  await t.rejects(startMockApi({ port }), { code: 'EADDRINUSE' })
})

t.test('bad requests get an answer, never a crash: wrong method, oversized body', async (t) => {
  const { api } = await mock(t)
  const token = await stableToken(api)
  t.equal(errcode(await call(api, 'GET', '/cgi-bin/message/custom/send', undefined, { access_token: token })), 43002)
  t.equal(errcode(await call(api, 'POST', '/cgi-bin/token', {})), 43001)
  const res = await fetch(new URL(`/cgi-bin/message/custom/send?access_token=${token}`, api.baseUrl), { method: 'POST', body: 'x'.repeat(1024 * 1024 + 1) })
  t.equal(res.status, 413)
  t.equal(((await res.json()) as { errcode: number }).errcode, 44002)
  t.equal(errcode(await stableToken(api).then(() => ({ errcode: 0 }))), 0, 'still serving')
})
