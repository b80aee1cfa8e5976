// `verify`: the admin page's GET handshake and the precise reason it fails.
import t from 'tap'
import { createEmulator } from '../../src/emulator/index.js'
import { freePort, startStub, token, wellBehaved } from './stub.js'

const attemptTimeoutMs = 200

t.test('a correct server passes: signature checked, echostr echoed', async (t) => {
  const stub = await startStub(t, wellBehaved({ mode: 'plain' }))
  const result = await createEmulator({ url: stub.url, token }).verify()
  t.equal(result.ok, true)
  t.equal(result.status, 200)
  t.equal(result.body, result.echostr)
  t.same(result.warnings.map((w) => w.code), ['PORT_NOT_ALLOWED'])
  const q = stub.received[0]!.url.searchParams
  t.equal(stub.received[0]!.method, 'GET')
  t.same([...q.keys()].sort(), ['echostr', 'nonce', 'signature', 'timestamp'])
})

t.test('wrong token: the server refuses, the reason shows status and body', async (t) => {
  const stub = await startStub(t, wellBehaved({ mode: 'plain' }))
  const result = await createEmulator({ url: stub.url, token: 'otherToken' }).verify()
  t.equal(result.ok, false)
  t.equal(result.status, 401)
  t.equal(result.error, 'http_status')
  t.equal(result.warnings[0]?.code, 'HTTP_STATUS')
})

t.test('body differs from echostr: both are shown, with the likely cause', async (t) => {
  const stub = await startStub(t, (req) => ({ body: (req.url.searchParams.get('echostr') ?? '') + '\n' }))
  const result = await createEmulator({ url: stub.url, token }).verify()
  t.equal(result.ok, false)
  t.equal(result.warnings[0]?.code, 'ECHOSTR_MISMATCH')
  t.match(result.warnings[0]?.message, result.echostr)
  t.match(result.warnings[0]?.message, /\\n/)
  t.match(result.warnings[0]?.message, /whitespace/)
  const quoted = await startStub(t, (req) => ({ body: JSON.stringify(req.url.searchParams.get('echostr')) }))
  t.match((await createEmulator({ url: quoted.url, token }).verify()).warnings[0]?.message, /JSON string/)
})

t.test('timeout, connection refused, redirect', async (t) => {
  const slow = await startStub(t, () => ({ delayMs: 2000 }))
  const timedOut = await createEmulator({ url: slow.url, token, attemptTimeoutMs }).verify()
  t.same([timedOut.ok, timedOut.status, timedOut.error, timedOut.warnings[0]?.code], [false, 0, 'timeout', 'TIMEOUT'])
  t.equal(slow.received.length, 1, 'verification is not retried')

  const port = await freePort()
  const refused = await createEmulator({ url: `http://127.0.0.1:${port}/`, token }).verify()
  t.same([refused.ok, refused.status, refused.error, refused.warnings[0]?.code], [false, 0, 'refused', 'CONNECTION_REFUSED'])

  const moved = await startStub(t, () => ({ status: 301, headers: { location: 'https://example.com/' } }))
  const redirect = await createEmulator({ url: moved.url, token }).verify()
  t.same([redirect.ok, redirect.status, redirect.error, redirect.warnings[0]?.code], [false, 301, 'redirect', 'REDIRECT'])
})
