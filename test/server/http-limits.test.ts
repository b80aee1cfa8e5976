/**
 * Issue #9, items 4, 5 and 12, from the outside: a real server on 127.0.0.1 and raw `node:net`
 * sockets, the way the problems were found. Slow clients are cut off, the connection count is
 * capped, keep-alive is limited, shutdown does not wait for idle keep-alive clients, and every
 * method but GET/HEAD/POST gets 405. The timeouts are made small through `httpLimits` so the
 * tests take well under a second each; the defaults are asserted on their own.
 */
import t, { type Test } from 'tap'
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import { computeSignature, createServer, defaultHttpLimits, type CreateServerOptions } from '../../src/index.js'
import { TOKEN, deferred, textXml } from './helpers.js'

async function listen(t: Test, options: Partial<CreateServerOptions> = {}): Promise<{ app: FastifyInstance; port: number }> {
  const app = await createServer({ token: TOKEN, env: {}, logger: false, onMessage: () => 'hi', ...options })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { app, port: address.port }
}

interface Raw {
  socket: Socket
  /** Everything received so far. */
  received: () => string
  /** Resolves with the ms from `open` to the socket's close. */
  closed: Promise<number>
}

async function open(port: number): Promise<Raw> {
  const socket = connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let data = ''
  socket.on('data', (d: Buffer) => (data += d.toString('latin1')))
  const start = performance.now()
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - start)))
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  return { socket, received: () => data, closed }
}

/** Waits until `raw` has received `count` complete responses (by status line). */
async function responses(raw: Raw, count: number): Promise<string> {
  for (let i = 0; i < 400; i++) {
    if ((raw.received().match(/HTTP\/1\.1 \d{3}/g) ?? []).length >= count && /\r\n\r\n/.test(raw.received())) {
      await new Promise((r) => setTimeout(r, 20))
      return raw.received()
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error(`no response; got: ${raw.received()}`)
}

function pushRequest(body: string, headers: Record<string, string | number> = {}): string {
  const ts = String(Math.floor(Date.now() / 1000))
  const query = `signature=${computeSignature(TOKEN, ts, '1')}&timestamp=${ts}&nonce=1`
  const all = { host: '127.0.0.1', 'content-type': 'text/xml', 'content-length': Buffer.byteLength(body), ...headers }
  return `POST /wx?${query} HTTP/1.1\r\n${Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n${body}`
}

const small = { headersTimeoutMs: 300, requestTimeoutMs: 400, connectionsCheckingIntervalMs: 50 }

t.test('the defaults fit WeChat: a trickling client is cut within about 11 s', async (t) => {
  const { app } = await listen(t)
  t.equal(app.server.headersTimeout, 10_000, 'headers within 10 s')
  t.equal(app.server.requestTimeout, 10_000, 'the whole request within 10 s')
  t.equal(app.server.timeout, 30_000, 'an idle connection closes after 30 s')
  t.equal(app.server.keepAliveTimeout, 10_000, 'an idle keep-alive connection after 10 s')
  t.equal(app.server.maxRequestsPerSocket, 1_000)
  t.equal(app.server.maxConnections, 1_024)
  t.same(defaultHttpLimits, {
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 10_000,
    connectionsCheckingIntervalMs: 1_000,
    idleTimeoutMs: 30_000,
    keepAliveTimeoutMs: 10_000,
    maxRequestsPerSocket: 1_000,
    maxConnections: 1_024,
  })
})

t.test('a client that trickles its body is cut off at the request timeout', async (t) => {
  const { port } = await listen(t, { httpLimits: small })
  const raw = await open(port)
  const body = textXml()
  const request = pushRequest(body)
  raw.socket.write(request.slice(0, request.length - body.length))
  let i = 0
  const trickle = setInterval(() => {
    if (!raw.socket.destroyed && i < body.length - 1) raw.socket.write(body[i++]!)
  }, 20)
  t.teardown(() => clearInterval(trickle))
  const ms = await raw.closed
  clearInterval(trickle)
  t.ok(ms >= 300 && ms < 3000, `cut off after ${Math.round(ms)} ms (request timeout 400 ms)`)
  t.ok(i < body.length - 1, 'before the body was complete')
  t.match(raw.received(), /^(HTTP\/1\.1 408|)/, 'answered 408 or just closed')
})

t.test('a Content-Length larger than what is sent is cut off likewise', async (t) => {
  const { port } = await listen(t, { httpLimits: small })
  const raw = await open(port)
  const body = textXml()
  raw.socket.write(pushRequest(body, { 'content-length': body.length + 100 }))
  const ms = await raw.closed
  t.ok(ms >= 300 && ms < 3000, `cut off after ${Math.round(ms)} ms`)
})

t.test('a client that trickles its headers is cut off at the headers timeout', async (t) => {
  const { port } = await listen(t, { httpLimits: { ...small, requestTimeoutMs: 5_000 } })
  const raw = await open(port)
  raw.socket.write('POST /wx HTTP/1.1\r\nHost: 127.0.0.1\r\n')
  const trickle = setInterval(() => {
    if (!raw.socket.destroyed) raw.socket.write('X-Slow: 1\r\n')
  }, 20)
  t.teardown(() => clearInterval(trickle))
  const ms = await raw.closed
  clearInterval(trickle)
  t.ok(ms >= 200 && ms < 3000, `cut off after ${Math.round(ms)} ms (headers timeout 300 ms)`)
})

t.test('connections over the cap are refused at once; those within it are served', async (t) => {
  const { port } = await listen(t, { httpLimits: { maxConnections: 2 } })
  const a = await open(port)
  const b = await open(port)
  await new Promise((r) => setTimeout(r, 50))
  const c = await open(port)
  const ms = await c.closed
  t.ok(ms < 1000, `the third connection closed after ${Math.round(ms)} ms`)
  t.equal(c.received(), '', 'without an answer')
  a.socket.write(pushRequest(textXml()))
  t.match(await responses(a, 1), /^HTTP\/1\.1 200/, 'the first is served')
  a.socket.destroy()
  b.socket.destroy()
})

t.test('keep-alive is limited: requests per connection and idle time', async (t) => {
  const { port } = await listen(t, { httpLimits: { maxRequestsPerSocket: 2, keepAliveTimeoutMs: 200 } })
  const raw = await open(port)
  raw.socket.write(pushRequest(textXml({ msgId: '1' })))
  const first = await responses(raw, 1)
  t.match(first, /connection: keep-alive/i, 'the first answer keeps the connection')
  raw.socket.write(pushRequest(textXml({ msgId: '2' })))
  const both = await responses(raw, 2)
  t.match(both.slice(first.length), /connection: close/i, 'the second (the limit) closes it')
  await raw.closed

  const idle = await open(port)
  idle.socket.write(pushRequest(textXml({ msgId: '3' })))
  await responses(idle, 1)
  const ms = await idle.closed
  t.ok(ms < 3000, `an idle keep-alive connection closed after ${Math.round(ms)} ms (keep-alive timeout 200 ms, plus Node's 1 s buffer)`)
})

t.test('shutdown: idle keep-alive clients do not hold it; a request in flight is answered with Connection: close', async (t) => {
  const release = deferred<string>()
  let started = false
  const { app, port } = await listen(t, {
    onMessage: async () => {
      started = true
      return release.promise
    },
  })
  const idle = await open(port)
  idle.socket.write(pushRequest(textXml({ msgId: '10' })).replace('/wx?', '/healthz?').replace('POST', 'GET'))
  await responses(idle, 1)
  const busy = await open(port)
  busy.socket.write(pushRequest(textXml({ msgId: '11' })))
  for (let i = 0; i < 200 && !started; i++) await new Promise((r) => setTimeout(r, 5))
  t.ok(started, 'the handler is running')

  let idleClosedAt = 0
  idle.socket.once('close', () => (idleClosedAt = performance.now()))
  const start = performance.now()
  const closing = app.close()
  await idle.closed
  t.ok(idleClosedAt - start < 1000, `the idle keep-alive connection is closed at once (${Math.round(idleClosedAt - start)} ms), while the push is still running`)
  release.resolve('late but here')
  const answer = await responses(busy, 1)
  t.match(answer, /^HTTP\/1\.1 200/, 'the push in flight is answered')
  t.match(answer, /connection: close/i, 'with Connection: close')
  t.match(answer, /late but here/)
  await closing
  const ms = performance.now() - start
  t.ok(ms < 3000, `close finished ${Math.round(ms)} ms after it began (the keep-alive timeout is 10 s)`)
})

t.test('shutdown is bounded by the drain timeout even with a client stuck mid-request', async (t) => {
  const { app, port } = await listen(t, { drainTimeoutMs: 300, httpLimits: { requestTimeoutMs: 60_000, headersTimeoutMs: 60_000 } })
  const stuck = await open(port)
  const body = textXml()
  stuck.socket.write(pushRequest(body, { 'content-length': body.length + 10 }))
  await new Promise((r) => setTimeout(r, 50))
  const start = performance.now()
  await app.close()
  const ms = performance.now() - start
  t.ok(ms >= 250 && ms < 3000, `close gave up on the stuck connection after ${Math.round(ms)} ms (drain timeout 300 ms)`)
  await stuck.closed
})

t.test('every method but GET, HEAD and POST on the callback path: 405 with Allow: GET, POST', async (t) => {
  const { port } = await listen(t)
  const methods = ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'REPORT', 'PURGE', 'QUERY']
  for (const method of methods) {
    const raw = await open(port)
    raw.socket.write(`${method} /wx HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
    const res = await responses(raw, 1)
    t.match(res, /^HTTP\/1\.1 405 /, `${method}: 405`)
    t.match(res, /\r\nallow: GET, POST\r\n/i, `${method}: Allow: GET, POST`)
    raw.socket.destroy()
  }
  const other = await open(port)
  other.socket.write('PROPFIND /elsewhere HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')
  t.match(await responses(other, 1), /^HTTP\/1\.1 404 /, 'other paths keep their 404')
})
