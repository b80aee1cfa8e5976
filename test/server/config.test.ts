import t, { type Test } from 'tap'
import { createServer, defaults, isWxMpError, resolveConfig } from '../../src/index.js'
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
