/**
 * The playground's web server: the page, its forms (`application/x-www-form-urlencoded`, parsed by
 * `@fastify/formbody`), the live state over server-sent events and the test download — all on
 * 127.0.0.1 and all behind the session's token.
 *
 * Every request must carry `?token=` (the one printed with the URL, 128 random bits or more),
 * compared in constant time: without it 401, with a wrong one 403. Bad input gets a 4xx whose JSON
 * says what is wrong (`{ error, message }`); nothing a request sends can crash the process.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ServerResponse } from 'node:http'
import formbody from '@fastify/formbody'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { emulatorModes, type EmulatorMode } from '../emulator/envelope.js'
import { mockApiPresets, type MockApiPreset } from '../emulator/mock-api-account.js'
import { slowReplyStrategies, type SlowReplyStrategy } from '../slow-reply/strategy.js'
import { readAction } from './actions.js'
import { exportFileName, renderExportedTest, type ExportContext } from './export-test.js'
import { PlaygroundInputError, statusOf } from './input-error.js'
import { renderPage } from './page.js'
import type { Playground, PlaygroundSettings } from './session.js'

/** Bytes of randomness in a token made by {@link createPageToken}: 24 (192 bits). */
export const TOKEN_BYTES = 24

/** A fresh URL-safe token of {@link TOKEN_BYTES} random bytes. */
export function createPageToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url')
}

/** Options of {@link createPageServer}. */
export interface PageServerOptions {
  playground: Playground
  /** The token every request must present (at least 128 bits of randomness: {@link createPageToken}). */
  token: string
  /** What the exported test needs besides the conversation; the handler path as the project sees it. */
  exportContext: Omit<ExportContext, 'exportedAt'>
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

/** Whether `presented` is the token, in time independent of where they differ. */
function tokenMatches(presented: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(presented), expected)
}

function oneOf<T extends string>(values: readonly T[], value: unknown, name: string, label: string): T | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new PlaygroundInputError('INVALID_FIELD', `${label} (${name}) must be one of ${values.join(', ')} (got ${JSON.stringify(value)}).`)
  }
  return value as T
}

/** Reads a posted change of settings. */
function readSettings(form: Record<string, unknown>): Partial<PlaygroundSettings> {
  const change: Partial<PlaygroundSettings> = {}
  const mode = oneOf<EmulatorMode>(emulatorModes, form['mode'], 'mode', '模式 Mode')
  const account = oneOf<MockApiPreset>(mockApiPresets, form['account'], 'account', '账号 Account')
  const strategy = oneOf<SlowReplyStrategy>(slowReplyStrategies, form['strategy'], 'strategy', '慢回复策略 Strategy')
  if (mode) change.mode = mode
  if (account) change.account = account
  if (strategy) change.strategy = strategy
  if (Object.keys(change).length === 0) {
    throw new PlaygroundInputError('MISSING_FIELD', 'Post at least one of mode, account, strategy.')
  }
  return change
}

function formOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body
  if (body === null || typeof body !== 'object') {
    throw new PlaygroundInputError('MISSING_FIELD', 'Post the form as application/x-www-form-urlencoded (e.g. action=text&text=你好).')
  }
  return body as Record<string, unknown>
}

/**
 * Creates the page server (not listening: call `listen({ host: '127.0.0.1', port })`).
 *
 * Routes: `GET /` the page, `GET /state` the state as JSON, `GET /events` the state on every
 * change (server-sent events), `POST /action` a push (`action=text&text=…`, `follow`, `unfollow`,
 * `click&key=…`, `scan&scene=…`, `location&lat=…&lng=…`, `image`), `POST /settings`
 * (`mode`, `account`, `strategy`), `GET /export` the conversation as a tap test.
 */
export async function createPageServer(options: PageServerOptions): Promise<FastifyInstance> {
  const { playground } = options
  const expected = digest(options.token)
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 }) as unknown as FastifyInstance
  const streams = new Set<ServerResponse>()
  await app.register(formbody)

  app.addHook('onRequest', async (request) => {
    const token = (request.query as Record<string, unknown> | undefined)?.['token']
    if (token === undefined || token === '') {
      throw new PlaygroundInputError('MISSING_TOKEN', 'This page needs the token: open the URL `wx-mp-svr play` printed, with its ?token=….')
    }
    if (typeof token !== 'string' || !tokenMatches(token, expected)) {
      throw new PlaygroundInputError('WRONG_TOKEN', 'Wrong token: open the URL printed by the running `wx-mp-svr play` (each run makes a new token).')
    }
  })
  app.addHook('onSend', async (_request, reply) => {
    // The token is in the URL: never send it on as a Referer, never cache what it opened.
    reply.header('referrer-policy', 'no-referrer')
    reply.header('cache-control', 'no-store')
    reply.header('x-content-type-options', 'nosniff')
  })
  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof PlaygroundInputError) {
      return reply.status(statusOf(err.code)).send({ error: err.code, message: err.message })
    }
    const status = (err as { statusCode?: number }).statusCode
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.status(status).send({ error: (err as { code?: string }).code ?? 'BAD_REQUEST', message: (err as Error).message })
    }
    process.stderr.write(`wx-mp-svr play: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
    return reply.status(500).send({ error: 'INTERNAL', message: 'The playground failed to serve this request; see the terminal.' })
  })
  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: 'NOT_FOUND', message: `No ${request.method} ${request.url.split('?')[0]} here: the page is at /?token=….` })
  })

  app.get('/', async (_request, reply) => {
    const nonce = randomBytes(16).toString('base64')
    reply.header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    )
    return reply.type('text/html; charset=utf-8').send(renderPage({ nonce, handlerFile: options.exportContext.handlerFile }))
  })

  app.get('/state', async () => playground.state())

  app.get('/events', (request, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      connection: 'keep-alive',
    })
    streams.add(res)
    let scheduled = false
    const push = (): void => {
      if (scheduled) return
      scheduled = true
      setImmediate(() => {
        scheduled = false
        if (!res.writableEnded) res.write(`data: ${JSON.stringify(playground.state())}\n\n`)
      })
    }
    const unsubscribe = playground.subscribe(push)
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
    heartbeat.unref()
    const stop = (): void => {
      unsubscribe()
      clearInterval(heartbeat)
      streams.delete(res)
    }
    request.raw.on('close', stop)
    res.on('error', stop)
    push()
  })

  app.post('/action', async (request, reply) => {
    const action = readAction(formOf(request))
    const { id, done } = playground.send(action)
    // The page follows the delivery over /events; a failure there is in the exchange's record.
    done.catch(() => undefined)
    return reply.status(202).send({ id })
  })

  app.post('/settings', async (request) => {
    const change = readSettings(formOf(request))
    return { settings: await playground.configure(change) }
  })

  app.get('/export', async (_request, reply) => {
    const file = renderExportedTest(playground.state(), { ...options.exportContext, exportedAt: new Date() })
    return reply
      .type('text/javascript; charset=utf-8')
      .header('content-disposition', `attachment; filename="${exportFileName(options.exportContext.handlerFile)}"`)
      .send(file)
  })

  app.addHook('preClose', (done) => {
    for (const res of streams) res.end()
    streams.clear()
    done()
  })
  return app
}
