import t from 'tap'
import { isWxMpError } from '../../src/core/errors.js'
import { MemoryTokenStore, WxMpApi, WxMpApiError, isWxMpApiError, redactUrl } from '../../src/api/index.js'
import { harness } from './harness.js'

t.test('missing credentials name the environment variable and the fix', async (t) => {
  const thrown = (fn: () => unknown): unknown => {
    try {
      fn()
    } catch (err) {
      return err
    }
    return undefined
  }
  const noAppId = thrown(() => new WxMpApi({ env: {} }))
  t.ok(isWxMpError(noAppId) && noAppId.code === 'INVALID_CONFIG')
  t.match((noAppId as Error).message, /WX_MP_APPID/)
  const noSecret = thrown(() => new WxMpApi({ env: { WX_MP_APPID: 'wx123' } }))
  t.ok(isWxMpError(noSecret))
  t.match((noSecret as Error).message, /WX_MP_APPSECRET.*appSecret/s)
  t.throws(() => new WxMpApi({ env: { WX_MP_APPID: 'wx123', WX_MP_APPSECRET: '   ' } }), /WX_MP_APPSECRET/)
  const api = new WxMpApi({ env: { WX_MP_APPID: 'wx123', WX_MP_APPSECRET: 's' } })
  t.equal(api.appId, 'wx123')
  t.equal(api.baseUrl, 'https://api.weixin.qq.com')
  t.throws(() => new WxMpApi({ appId: 'a', appSecret: 'b', baseUrl: 'not a url' }), /baseUrl/)
})

t.test('WeChat errors surface with errcode, errmsg, path and hint', async (t) => {
  const cases: Array<[number, RegExp]> = [
    [40164, /IP/],
    [45015, /48-hour/],
    [48001, /unverified/],
    [45009, /quota/],
  ]
  const h = await harness(t)
  for (const [code, hint] of cases) {
    h.server.failNext('/cgi-bin/message/custom/send', code, `fake ${code} rid: 1234`)
    const err = (await h.api.sendCustomMessage('oUser', 'hi').catch((e: unknown) => e)) as WxMpApiError
    t.ok(isWxMpApiError(err), `${code} is a WxMpApiError`)
    t.equal(err.name, 'WxMpApiError')
    t.equal(err.code, 'WECHAT_ERRCODE')
    t.equal(err.errcode, code)
    t.equal(err.errmsg, `fake ${code} rid: 1234`)
    t.equal(err.path, '/cgi-bin/message/custom/send')
    t.match(err.hint, hint)
    t.match(err.message, new RegExp(`errcode ${code}`))
    t.notMatch(err.message, /TOKEN_/, 'no access_token in the message')
  }
  t.equal(h.server.requestsTo('/cgi-bin/message/custom/send').length, cases.length, 'WeChat errors are not retried')
})

t.test('redactUrl removes access_token and secrets', async (t) => {
  t.equal(
    redactUrl('https://x/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=S3CRET&access_token=T0K'),
    'https://x/cgi-bin/token?grant_type=client_credential&appid=wx1&secret=REDACTED&access_token=REDACTED',
  )
})

t.test('network errors on GETs are retried with exponential backoff', async (t) => {
  const h = await harness(t)
  await h.api.getAccessToken()
  let failures = 2
  const api = h.makeApi({
    fetch: async (input, init) => {
      if (input.includes('/cgi-bin/menu/get') && failures-- > 0) {
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) })
      }
      return fetch(input, init)
    },
    retryDelayMs: 100,
    retryMaxDelayMs: 1_000,
  })
  h.server.menu = { button: [{ type: 'click', name: 'A', key: 'a' }] }
  const menu = await api.menu.get()
  t.equal(menu.menu.button[0]?.name, 'A')
  t.same(h.sleeps, [100, 200], 'backoff doubles')
  t.equal(h.server.requestsTo('/cgi-bin/menu/get').length, 1, 'the third attempt reached the server')
})

t.test('retries give up after `retries` extra attempts, with the cause attached', async (t) => {
  const h = await harness(t)
  const cause = Object.assign(new Error('reset'), { code: 'ECONNRESET' })
  const api = h.makeApi({
    retries: 1,
    fetch: async () => {
      throw new TypeError('fetch failed', { cause })
    },
  })
  const err = (await api.getAccessToken().catch((e: unknown) => e)) as WxMpApiError
  t.equal(err.code, 'NETWORK')
  t.equal(err.errcode, -1)
  t.equal(err.attempts, 2)
  t.equal((err.cause as Error).cause, cause)
  t.match(err.message, /ECONNRESET/)
})

t.test('errcode -1 (system busy) is retried for GETs but not for sendCustomMessage', async (t) => {
  const h = await harness(t)
  h.server.users.set('oU', { subscribe: 1, openid: 'oU' })
  h.server.failNext('/cgi-bin/user/info', -1, 'system error')
  t.equal((await h.api.users.info('oU')).openId, 'oU')
  t.equal(h.server.requestsTo('/cgi-bin/user/info').length, 2)

  h.server.failNext('/cgi-bin/message/custom/send', -1, 'system error')
  const err = (await h.api.sendCustomMessage('oU', 'hi').catch((e: unknown) => e)) as WxMpApiError
  t.equal(err.errcode, -1)
  t.equal(h.server.requestsTo('/cgi-bin/message/custom/send').length, 1)
})

t.test('a dropped connection after sending is not retried for sendCustomMessage', async (t) => {
  const h = await harness(t)
  await h.api.getAccessToken()
  h.server.dropNext('/cgi-bin/message/custom/send')
  const err = (await h.api.sendCustomMessage('oU', 'hi').catch((e: unknown) => e)) as WxMpApiError
  t.equal(err.code, 'NETWORK')
  t.equal(h.server.requestsTo('/cgi-bin/message/custom/send').length, 1)
  t.same(h.sleeps, [])
})

t.test('a refused connection is retried even for POSTs (nothing was sent)', async (t) => {
  const h = await harness(t)
  await h.api.getAccessToken()
  let refused = 1
  const api = h.makeApi({
    fetch: async (input, init) => {
      if (input.includes('/custom/send') && refused-- > 0) {
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })
      }
      return fetch(input, init)
    },
  })
  await api.sendCustomMessage('oU', 'hi')
  t.equal(h.server.requestsTo('/cgi-bin/message/custom/send').length, 1)
})

t.test('every request has a timeout', async (t) => {
  const h = await harness(t)
  const tokenStore = new MemoryTokenStore({ now: () => h.clock.now })
  await h.makeApi({ tokenStore }).getAccessToken()
  h.server.delayNext('/cgi-bin/menu/get', 300)
  const api = h.makeApi({ timeoutMs: 30, retries: 0, tokenStore })
  const err = (await api.menu.get().catch((e: unknown) => e)) as WxMpApiError
  t.type(err, WxMpApiError)
  t.equal(err.code, 'TIMEOUT')
  t.match(err.message, /30 ms/)
  t.equal(err.path, '/cgi-bin/menu/get')
})

t.test('a timed-out GET is retried', async (t) => {
  const h = await harness(t)
  const tokenStore = new MemoryTokenStore({ now: () => h.clock.now })
  await h.makeApi({ tokenStore }).getAccessToken()
  h.server.delayNext('/cgi-bin/menu/get', 600)
  h.server.menu = { button: [{ type: 'click', name: 'A', key: 'a' }] }
  const api = h.makeApi({ timeoutMs: 250, retries: 1, tokenStore })
  await api.menu.get()
  t.equal(h.server.requestsTo('/cgi-bin/menu/get').length, 2)
})

t.test('an HTTP 502 without a WeChat body is an HTTP_STATUS error, retried for GETs', async (t) => {
  const h = await harness(t)
  await h.api.getAccessToken()
  h.server.httpErrorNext('/cgi-bin/menu/delete', 502)
  await h.api.menu.delete()
  t.equal(h.server.requestsTo('/cgi-bin/menu/delete').length, 2)
  h.server.httpErrorNext('/cgi-bin/qrcode/create', 502)
  const err = (await h.api.qrcode.create({ scene: 1 }).catch((e: unknown) => e)) as WxMpApiError
  t.equal(err.code, 'HTTP_STATUS')
  t.equal(err.status, 502)
})

t.test('call() reaches any endpoint with the token; auth: false skips it', async (t) => {
  const h = await harness(t)
  const tags = await h.api.call<{ tags: Array<{ name: string }> }>('GET', '/cgi-bin/tags/get', { query: { x: 1, y: undefined } })
  t.equal(tags.tags[0]?.name, '星标组')
  const req = h.server.requestsTo('/cgi-bin/tags/get')[0]
  t.equal(req?.query['x'], '1')
  t.notOk('y' in (req?.query ?? {}))
  t.equal(req?.query['access_token'], h.server.currentStableToken)
  const body = await h.api.call('GET', '/cgi-bin/tags/get', { auth: false }).catch((e: unknown) => e)
  t.equal((body as WxMpApiError).errcode, 41001)
})

t.test('a caller abort is not retried and rejects with the abort reason', async (t) => {
  const h = await harness(t)
  await h.api.getAccessToken()
  const controller = new AbortController()
  const reason = new Error('user cancelled')
  h.server.delayNext('/cgi-bin/tags/get', 200)
  const pending = h.api.call('GET', '/cgi-bin/tags/get', { signal: controller.signal })
  setTimeout(() => controller.abort(reason), 5)
  await t.rejects(pending, reason)
  t.same(h.sleeps, [])
})
