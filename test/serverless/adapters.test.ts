/**
 * Each adapter driven with its platform's recorded event shapes (fixtures/, doc links inside):
 * URL verification, plain, compatible and safe pushes, base64-encoded bodies, a bad signature, a
 * body over the limit, the optional path — and always an explicit status with XML or text/plain.
 */
import t from 'tap'
import { createFcHandler, createFetchHandler, createLambdaHandler, createScfHandler, type ServerlessOptions } from '../../src/serverless/index.js'
import { AES_KEY, APP_ID, TOKEN, badSignature, captureLog, eventShapes, isEventResponse, push, replyText, textXml, verifyRequest, type EventShape, type WireRequest } from './wechat.js'

interface Answer {
  status: number
  contentType: string
  body: string
}

type Call = (request: WireRequest, options?: { path?: string; base64?: boolean }) => Promise<Answer>

const echo: ServerlessOptions['onMessage'] = (msg) => (msg.msgType === 'text' ? `echo: ${msg.content}` : undefined)

function eventAdapter(shape: EventShape, options: ServerlessOptions): Call {
  const all = { token: TOKEN, env: {}, dev: true, log: captureLog().log, onMessage: echo, ...options }
  const handler = shape.adapter === 'scf' ? createScfHandler(all) : shape.adapter === 'fc' ? createFcHandler(all) : createLambdaHandler(all)
  return async (request, o) => {
    const res: unknown = await (handler as (event: unknown) => Promise<unknown>)(shape.event(request, o))
    if (!isEventResponse(res)) throw new Error(`not an explicit HTTP response: ${JSON.stringify(res)}`)
    if (res.isBase64Encoded !== false) throw new Error('isBase64Encoded must be false')
    return { status: res.statusCode, contentType: res.headers['content-type']!, body: res.body }
  }
}

function fetchAdapter(options: ServerlessOptions): Call {
  const handler = createFetchHandler({ token: TOKEN, env: {}, log: captureLog().log, onMessage: echo, ...options })
  return async (request, o = {}) => {
    const url = `https://wx.example.com${o.path ?? '/api/wx'}?${new URLSearchParams(request.query)}`
    const body = request.body === undefined ? undefined : o.base64 ? Buffer.from(request.body).toString('base64') : request.body
    const res = await handler(new Request(url, { method: request.method, body, headers: { 'content-type': 'text/xml' } }))
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() }
  }
}

const adapters: Array<{ name: string; make: (options: ServerlessOptions) => Call; base64: boolean }> = [
  ...eventShapes.map((shape) => ({ name: shape.name, make: (o: ServerlessOptions) => eventAdapter(shape, o), base64: true })),
  { name: 'fetch handler', make: fetchAdapter, base64: false },
]

for (const adapter of adapters) {
  t.test(adapter.name, async (t) => {
    const plain = adapter.make({})
    const safe = adapter.make({ aesKey: AES_KEY, appId: APP_ID })

    t.test('URL verification answers echostr exactly, as text/plain', async (t) => {
      const res = await plain(verifyRequest('8327562912893'))
      t.same(res, { status: 200, contentType: 'text/plain; charset=utf-8', body: '8327562912893' })
    })

    t.test('plain push: an XML reply', async (t) => {
      const res = await plain(push(textXml('你好'), 'plain'))
      t.equal(res.status, 200)
      t.equal(res.contentType, 'application/xml; charset=utf-8')
      t.equal(replyText(res.body), 'echo: 你好')
    })

    for (const mode of ['compat', 'safe'] as const) {
      t.test(`${mode} push: an encrypted reply`, async (t) => {
        const res = await safe(push(textXml(`${mode} 🙂`), mode))
        t.equal(res.status, 200)
        t.match(res.body, /<Encrypt>/)
        t.equal(replyText(res.body), `echo: ${mode} 🙂`)
      })
    }

    if (adapter.base64) {
      t.test('a base64-encoded body is decoded', async (t) => {
        const res = await safe(push(textXml('编码的'), 'safe'), { base64: true })
        t.equal(replyText(res.body), 'echo: 编码的')
        const plainRes = await plain(push(textXml('plain b64'), 'plain'), { base64: true })
        t.equal(replyText(plainRes.body), 'echo: plain b64')
      })
    }

    t.test('a bad signature is refused with 401, as text', async (t) => {
      const res = await plain(badSignature(push(textXml('forged'), 'plain')))
      t.equal(res.status, 401)
      t.equal(res.contentType, 'text/plain; charset=utf-8')
      t.match(res.body, /invalid signature/)
      t.equal((await plain(badSignature(verifyRequest('x')))).status, 401, 'verification too')
    })

    t.test('a body over 64 KiB is refused with 413', async (t) => {
      const big = push(textXml('x'.repeat(70 * 1024)), 'plain')
      t.equal((await plain(big)).status, 413)
      if (adapter.base64) t.equal((await plain(big, { base64: true })).status, 413, 'base64-encoded too')
    })

    t.test('answers on any path unless path is given', async (t) => {
      t.equal((await plain(verifyRequest('a'), { path: '/anything/at/all' })).body, 'a')
      const pinned = adapter.make({ path: '/wx' })
      t.equal((await pinned(verifyRequest('b'), { path: '/wx' })).body, 'b')
      t.equal((await pinned(verifyRequest('b'), { path: '/wx/' })).body, 'b', 'a trailing slash is the same path')
      const elsewhere = await pinned(verifyRequest('c'), { path: '/other' })
      t.equal(elsewhere.status, 404)
      t.equal(elsewhere.contentType, 'text/plain; charset=utf-8')
    })

    t.test('another method: 405 as text', async (t) => {
      const res = await plain({ method: 'PUT', query: {}, body: 'x' })
      t.equal(res.status, 405)
      t.equal(res.contentType, 'text/plain; charset=utf-8')
    })
  })
}

t.test('an event that is not an HTTP request gets a 400 as text, never a crash', async (t) => {
  const options = { token: TOKEN, env: {}, dev: true, log: captureLog().log }
  for (const handler of [createScfHandler(options), createFcHandler(options), createLambdaHandler(options)] as Array<(e: unknown) => Promise<unknown>>) {
    for (const event of [null, 'not json', {}, Buffer.from('{oops'), { httpMethod: 5 }]) {
      const res = await handler(event)
      t.ok(isEventResponse(res))
      t.equal((res as { statusCode: number }).statusCode, 400)
    }
  }
})

t.test('the fetch handler refuses a lying Content-Length over the limit before reading', async (t) => {
  const handler = createFetchHandler({ token: TOKEN, env: {}, log: captureLog().log })
  const request = push(textXml('hi'), 'plain')
  const res = await handler(new Request(`https://x.example/wx?${new URLSearchParams(request.query)}`, { method: 'POST', body: request.body, headers: { 'content-length': String(1 << 20) } }))
  t.equal(res.status, 413)
  const head = await handler(new Request(`https://x.example/wx?${new URLSearchParams(verifyRequest('e').query)}`, { method: 'HEAD' }))
  t.equal(head.status, 200)
  t.equal(await head.text(), '', 'HEAD has no body')
})
