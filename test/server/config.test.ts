import t, { type Test } from 'tap'
import { readFileSync } from 'node:fs'
import { createServer, defaults, isWxMpError, resolveConfig, settings, unknownVariables, DEFAULT_SLOW_PLACEHOLDER, type Setting } from '../../src/index.js'
import { settingsMarkdownTable } from '../../src/server/settings.js'
import { AES_KEY, APP_ID, FakeClock, TOKEN, encryptedPush, makeApp, openEncryptedReply, plainPush, textXml, verifyRequest } from './helpers.js'

/** Runs `fn` and returns what it threw or rejected with. */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  return undefined
}

function configErrorNaming(t: Test, err: unknown, variable: string, what: string): void {
  t.ok(isWxMpError(err), `${what}: a WxMpError`)
  t.equal((err as { code?: unknown }).code, 'INVALID_CONFIG', `${what}: INVALID_CONFIG`)
  t.match((err as Error).message, variable, `${what}: the message names ${variable}`)
}

t.test('resolveConfig: defaults, env fallback, explicit options first', async (t) => {
  const c = resolveConfig({}, { WX_MP_TOKEN: 'envtok' })
  t.same(
    c,
    {
      token: 'envtok',
      aesKey: undefined,
      previousAesKeys: [],
      appId: undefined,
      appSecret: undefined,
      path: defaults.path,
      replyTimeoutMs: 4500,
      timestampToleranceS: 300,
      allowPlainPushes: false,
      drainTimeoutMs: 60_000,
      slowReply: 'auto',
      slowReplyPlaceholder: DEFAULT_SLOW_PLACEHOLDER,
      apiBaseUrl: 'https://api.weixin.qq.com',
      redis: undefined,
      redisPrefix: 'wxmp',
    },
    'only the token set: every default',
  )
  const env = {
    WX_MP_TOKEN: 'envtok',
    WX_MP_AES_KEY: AES_KEY,
    WX_MP_APPID: APP_ID,
    WX_MP_APPSECRET: 'envsecret',
    WX_MP_PATH: '/hook',
    WX_MP_REPLY_TIMEOUT_MS: '3000',
    WX_MP_TIMESTAMP_TOLERANCE_S: '0',
  }
  t.match(
    resolveConfig({}, env),
    { token: 'envtok', aesKey: AES_KEY, appId: APP_ID, appSecret: 'envsecret', path: '/hook', replyTimeoutMs: 3000, timestampToleranceS: 0 },
    'every setting from its WX_MP_* variable',
  )
  t.match(
    resolveConfig({ token: 'opt', path: '/opt', replyTimeoutMs: 1000, timestampToleranceS: 60, appSecret: 's2' }, env),
    { token: 'opt', path: '/opt', replyTimeoutMs: 1000, timestampToleranceS: 60, appSecret: 's2' },
    'explicit options beat the environment',
  )
})

t.test('resolveConfig: errors name the variable', async (t) => {
  configErrorNaming(t, await failure(() => resolveConfig({}, {})), 'WX_MP_TOKEN', 'no token')
  configErrorNaming(t, await failure(() => resolveConfig({}, { WX_MP_TOKEN: '  ' })), 'WX_MP_TOKEN', 'blank token')
  configErrorNaming(t, await failure(() => resolveConfig({ token: 'x', aesKey: AES_KEY }, {})), 'WX_MP_APPID', 'aesKey without appId')
  configErrorNaming(t, await failure(() => resolveConfig({ token: 'x', aesKey: 'short' }, {})), 'WX_MP_AES_KEY', 'malformed aesKey')
  configErrorNaming(
    t,
    await failure(() => resolveConfig({}, { WX_MP_TOKEN: 'x', WX_MP_REPLY_TIMEOUT_MS: '5000' })),
    'WX_MP_REPLY_TIMEOUT_MS',
    'timeout 5000',
  )
  configErrorNaming(
    t,
    await failure(() => resolveConfig({}, { WX_MP_TOKEN: 'x', WX_MP_REPLY_TIMEOUT_MS: 'abc' })),
    'WX_MP_REPLY_TIMEOUT_MS',
    'timeout abc',
  )
  configErrorNaming(
    t,
    await failure(() => resolveConfig({}, { WX_MP_TOKEN: 'x', WX_MP_REPLY_TIMEOUT_MS: '0' })),
    'WX_MP_REPLY_TIMEOUT_MS',
    'timeout 0',
  )
  configErrorNaming(
    t,
    await failure(() => resolveConfig({}, { WX_MP_TOKEN: 'x', WX_MP_TIMESTAMP_TOLERANCE_S: '-1' })),
    'WX_MP_TIMESTAMP_TOLERANCE_S',
    'negative tolerance',
  )
  configErrorNaming(t, await failure(() => resolveConfig({}, { WX_MP_TOKEN: 'x', WX_MP_PATH: 'wx' })), 'WX_MP_PATH', 'path without /')
  t.equal(resolveConfig({}, { WX_MP_TOKEN: 'x', WX_MP_REPLY_TIMEOUT_MS: '4999' }).replyTimeoutMs, 4999, '4999 is accepted')
})

t.test('createServer: config errors reject at once, naming the variable', async (t) => {
  configErrorNaming(t, await failure(() => createServer({ env: {}, logger: false })), 'WX_MP_TOKEN', 'createServer without token')
  configErrorNaming(
    t,
    await failure(() => createServer({ env: { WX_MP_TOKEN: 'x', WX_MP_AES_KEY: AES_KEY }, logger: false })),
    'WX_MP_APPID',
    'createServer with a key but no appId',
  )
  configErrorNaming(
    t,
    await failure(() => createServer({ env: { WX_MP_TOKEN: 'x', WX_MP_REPLY_TIMEOUT_MS: '5000' }, logger: false })),
    'WX_MP_REPLY_TIMEOUT_MS',
    'createServer with timeout 5000',
  )
  configErrorNaming(
    t,
    await failure(() => createServer({ env: { WX_MP_TOKEN: 'x', WX_MP_REPLY_TIMEOUT_MS: 'abc' }, logger: false })),
    'WX_MP_REPLY_TIMEOUT_MS',
    'createServer with timeout abc',
  )
})

t.test('createServer reads the environment through the env option: WX_MP_PATH and WX_MP_TOKEN', async (t) => {
  const clock = new FakeClock()
  const { app } = await makeApp(t, { token: undefined, clock, env: { WX_MP_TOKEN: 'envtok', WX_MP_PATH: '/hook' } })
  const ok = await app.inject(verifyRequest('e1', { token: 'envtok', path: '/hook' }))
  t.equal(ok.statusCode, 200, '/hook serves verification')
  t.equal(ok.body, 'e1')
  t.equal((await app.inject(verifyRequest('e1', { token: 'envtok' }))).statusCode, 404, 'the default /wx is not served')
  t.equal((await app.inject(verifyRequest('e1', { token: TOKEN, path: '/hook' }))).statusCode, 401, 'another token is refused')
})

t.test('createServer: explicit options beat the environment', async (t) => {
  let calls = 0
  const { app } = await makeApp(t, {
    token: 'optTok',
    path: '/opt',
    env: { WX_MP_TOKEN: 'envTok', WX_MP_PATH: '/env', WX_MP_TIMESTAMP_TOLERANCE_S: '0' },
    timestampToleranceS: 300,
    onMessage: () => {
      calls++
      return 'hi'
    },
  })
  t.equal((await app.inject(verifyRequest('x', { token: 'optTok', path: '/opt' }))).statusCode, 200, 'option token on option path')
  t.equal((await app.inject(verifyRequest('x', { token: 'envTok', path: '/opt' }))).statusCode, 401, 'the env token is not used')
  t.equal((await app.inject(verifyRequest('x', { token: 'optTok', path: '/env' }))).statusCode, 404, 'the env path is not served')
  const stale = await app.inject(plainPush(textXml(), { token: 'optTok', path: '/opt', timestamp: 1_600_000_000 }))
  t.equal(stale.statusCode, 403, 'the explicit tolerance (300 s) beats WX_MP_TIMESTAMP_TOLERANCE_S=0')
  t.equal(calls, 0)
})

t.test('createServer: the env option also supplies the key and appId (safe mode)', async (t) => {
  const { app } = await makeApp(t, {
    token: undefined,
    env: { WX_MP_TOKEN: TOKEN, WX_MP_AES_KEY: AES_KEY, WX_MP_APPID: APP_ID },
    onMessage: () => 'from env',
  })
  const res = await app.inject(encryptedPush(textXml()))
  t.equal(res.statusCode, 200)
  const opened = openEncryptedReply(res.body)
  t.ok(opened.signatureOk, 'the reply is encrypted and signed with the key and token from env')
  t.match(opened.xml, '<Content><![CDATA[from env]]></Content>')
})

t.test('the new settings: read from the environment, validated, unknown values named', async (t) => {
  const env = {
    WX_MP_TOKEN: 'x',
    WX_MP_SLOW_REPLY: 'next-message',
    WX_MP_SLOW_PLACEHOLDER: '稍等',
    WX_MP_API_BASE_URL: 'http://127.0.0.1:9000',
    WX_MP_REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
    WX_MP_REDIS_PREFIX: 'bot_1-a',
    WX_MP_DRAIN_TIMEOUT_MS: '5000',
  }
  t.match(resolveConfig({}, env), {
    slowReply: 'next-message',
    slowReplyPlaceholder: '稍等',
    apiBaseUrl: 'http://127.0.0.1:9000',
    redis: 'rediss://:pw@redis.internal:6380/2',
    redisPrefix: 'bot_1-a',
    drainTimeoutMs: 5000,
  })
  t.match(resolveConfig({ slowReply: 'success', drainTimeoutMs: 0 }, env), { slowReply: 'success', drainTimeoutMs: 0 }, 'options first')
  const bad: Array<[string, string, RegExp]> = [
    ['WX_MP_SLOW_REPLY', 'sometimes', /one of auto, retry-window, next-message, customer-service, success/],
    ['WX_MP_API_BASE_URL', 'api.weixin.qq.com', /absolute URL/],
    ['WX_MP_REDIS_URL', 'http://redis:6379', /redis:\/\/ or rediss:\/\//],
    ['WX_MP_REDIS_PREFIX', 'wx:mp', /letters, digits/],
    ['WX_MP_DRAIN_TIMEOUT_MS', '1.5', /whole number/],
    ['WX_MP_ALLOW_PLAIN_PUSHES', 'maybe', /1 or 0/],
  ]
  for (const [variable, value, why] of bad) {
    const err = await failure(() => resolveConfig({}, { WX_MP_TOKEN: 'x', [variable]: value }))
    configErrorNaming(t, err, variable, `${variable}=${value}`)
    t.match((err as Error).message, why, `${variable}: says what is expected`)
  }
  const redisErr = await failure(() => resolveConfig({}, { WX_MP_TOKEN: 'x', WX_MP_REDIS_URL: 'http://:hunter2@redis' }))
  t.notMatch((redisErr as Error).message, 'hunter2', 'a Redis URL may hold a password: never echoed')
  configErrorNaming(t, await failure(() => resolveConfig({ token: 'x', slowReply: 'later' as never }, {})), 'WX_MP_SLOW_REPLY', 'slowReply option')
})

t.test('every row of the settings table: a wrong value is an error naming its variable, never echoing a secret', async (t) => {
  const wrong: Record<Setting['kind'], string> = { string: '', list: 'short', integer: 'abc', boolean: 'perhaps', url: 'not a url', enum: 'nope' }
  for (const setting of settings as readonly Setting[]) {
    if (setting.variable === 'WX_MP_TOKEN') continue
    const value = setting.kind === 'string' ? (setting.pattern ? 'bad value ?#' : undefined) : wrong[setting.kind]
    if (value === undefined) continue // a free-form string: nothing is wrong
    const err = await failure(() => resolveConfig({}, { WX_MP_TOKEN: 'x', [setting.variable]: `${value}S3CRET` }))
    configErrorNaming(t, err, setting.variable, setting.variable)
    if (setting.secret) t.notMatch((err as Error).message, 'S3CRET', `${setting.variable}: the value is not echoed`)
  }
  t.same(Object.keys(defaults).sort(), settings.filter((s: Setting) => s.default !== undefined).map((s) => s.option).sort(), 'defaults come from the table')
})

t.test('unknownVariables: a WX_MP_* typo is named with the nearest setting', async (t) => {
  t.same(unknownVariables({ WX_MP_TOKN: 'x', WX_MP_TOKEN: 'y', HOME: '/' }), [{ variable: 'WX_MP_TOKN', suggestion: 'WX_MP_TOKEN' }])
  t.same(unknownVariables({ WX_MP_SOMETHING_ELSE_ENTIRELY: '1' }), [{ variable: 'WX_MP_SOMETHING_ELSE_ENTIRELY', suggestion: undefined }])
})

t.test("the README's configuration table is the settings table", async (t) => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const section = /<!-- settings:begin[^>]*-->\n([\s\S]*?)\n<!-- settings:end -->/.exec(readme)
  t.ok(section, 'the README marks the generated table')
  t.equal(section?.[1], settingsMarkdownTable(), 'README.md between the settings markers equals settingsMarkdownTable() (paste it from there)')
  for (const setting of settings as readonly Setting[]) t.match(readme, setting.variable, `the README names ${setting.variable}`)
})

t.test('every WX_MP_* variable the source code reads is a row of the settings table', async (t) => {
  const { readdirSync } = await import('node:fs')
  const src = new URL('../../src/', import.meta.url)
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('settings.ts'))
  const known = new Set<string>(settings.map((s: Setting) => s.variable))
  const read = new Set<string>()
  for (const file of files) {
    const text = readFileSync(new URL(file, src), 'utf8')
    for (const m of text.matchAll(/env(?:\[['"]|\.)(WX_MP_[A-Z_]+)|'(WX_MP_[A-Z_]+)'/g)) read.add(m[1] ?? m[2]!)
  }
  t.ok(read.size >= 5, `found the variables the code reads (${[...read].join(', ')})`)
  t.same([...read].filter((v) => !known.has(v)), [], 'none is missing from the table')
})
