/**
 * End to end: the emulator (WeChat's side, over real HTTP) talks to a fetch handler served by a
 * tiny node:http shim — the shape of Deno.serve, Bun.serve or a Node server around the handler.
 */
import t from 'tap'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createEmulator } from '../../src/emulator/index.js'
import { createFetchHandler, type FetchHandler } from '../../src/serverless/index.js'
import { AES_KEY, APP_ID, TOKEN, captureLog } from './wechat.js'

/** Serves a fetch handler on a loopback port: request → Request, Response → response. */
async function serve(t: { teardown(fn: () => unknown): void }, handler: FetchHandler): Promise<string> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const method = req.method ?? 'GET'
      const body = method === 'GET' || method === 'HEAD' ? undefined : Buffer.concat(chunks)
      void handler(new Request(`http://127.0.0.1${req.url ?? '/'}`, { method, body, headers: { 'content-type': String(req.headers['content-type'] ?? 'text/xml') } })).then(
        async (response) => {
          res.writeHead(response.status, Object.fromEntries(response.headers))
          res.end(Buffer.from(await response.arrayBuffer()))
        },
        () => {
          res.writeHead(500)
          res.end()
        },
      )
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/wx`
}

for (const mode of ['plain', 'safe'] as const) {
  t.test(`the emulator and a fetch handler, ${mode} mode`, async (t) => {
    const handler = createFetchHandler({
      token: TOKEN,
      ...(mode === 'safe' ? { aesKey: AES_KEY, appId: APP_ID } : {}),
      env: {},
      log: captureLog().log,
      onMessage: (msg) => (msg.msgType === 'text' ? `你说：${msg.content}` : undefined),
      onSubscribe: () => ({ msgType: 'text', content: '欢迎关注！' }),
    })
    const url = await serve(t, handler)
    const wechat = createEmulator({ url, token: TOKEN, ...(mode === 'safe' ? { aesKey: AES_KEY, appId: APP_ID } : {}) })
    const verified = await wechat.verify()
    t.ok(verified.ok, `URL verification: ${verified.error ?? 'ok'}`)
    const result = await wechat.send('你好 🙂')
    t.ok(result.ok, JSON.stringify(result.warnings))
    t.equal(result.attempts.length, 1, 'one attempt')
    t.same(result.reply, { msgType: 'text', content: '你说：你好 🙂' })
    const welcome = await wechat.send({ msgType: 'event', event: 'subscribe' })
    t.same(welcome.reply, { msgType: 'text', content: '欢迎关注！' })
  })
}
