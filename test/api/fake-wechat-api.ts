/**
 * A fake WeChat API server for tests: Fastify on 127.0.0.1 (port 0), with the real request and
 * response shapes of the endpoints WxMpApi uses, token issuing/expiry/invalidation on an injected
 * clock, error codes on demand, and a log of every request.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'

export interface RecordedPart {
  field: string
  filename: string
  contentType: string
  bytes: Buffer
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  body: unknown
  contentType: string | undefined
  parts?: RecordedPart[]
}

export interface FakeWeChatApiOptions {
  appId?: string
  appSecret?: string
  /** Clock shared with the client under test (epoch ms). */
  now?: () => number
  /** Token lifetime in seconds (default 7200). */
  tokenTtlSec?: number
}

interface Injected {
  errcode?: number
  errmsg?: string
  delayMs?: number
  drop?: boolean
  httpStatus?: number
}

interface StoredMedia {
  type: string
  bytes: Buffer
  contentType: string
  filename: string
}

const JSON_TYPE = 'application/json; encoding=utf-8'

export class FakeWeChatApi {
  readonly appId: string
  readonly appSecret: string
  readonly requests: RecordedRequest[] = []
  readonly app: FastifyInstance
  baseUrl = ''
  menu: Record<string, unknown> | undefined
  readonly media = new Map<string, StoredMedia>()
  readonly users = new Map<string, Record<string, unknown>>()

  readonly #now: () => number
  readonly #ttlSec: number
  readonly #tokens = new Map<string, number>() // token → expiresAt (ms)
  readonly #poisoned = new Set<string>()
  readonly #inject = new Map<string, Injected[]>()
  #stable: string | undefined
  #classic: string | undefined
  #serial = 0

  constructor(options: FakeWeChatApiOptions = {}) {
    this.appId = options.appId ?? 'wxfake0000000001'
    this.appSecret = options.appSecret ?? 'fake-secret-0123456789abcdef'
    this.#now = options.now ?? Date.now
    this.#ttlSec = options.tokenTtlSec ?? 7200
    this.app = Fastify({ logger: false })
    this.#routes()
  }

  /** Requests to `path`, in order. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path)
  }

  /** The next `times` requests to `path` answer with `errcode`. */
  failNext(path: string, errcode: number, errmsg = `fake error ${errcode}`, times = 1): void {
    for (let i = 0; i < times; i++) this.#queue(path, { errcode, errmsg })
  }

  /** The next request to `path` waits `ms` before answering. */
  delayNext(path: string, ms: number): void {
    this.#queue(path, { delayMs: ms })
  }

  /** The next request to `path` has its connection destroyed without an answer. */
  dropNext(path: string): void {
    this.#queue(path, { drop: true })
  }

  /** The next request to `path` answers with a bare HTTP status (no WeChat body). */
  httpErrorNext(path: string, status: number): void {
    this.#queue(path, { httpStatus: status })
  }

  /** API calls with `token` fail with 40001, while stable_token keeps returning it (a WeChat-side revocation). */
  poison(token: string): void {
    this.#poisoned.add(token)
  }

  /** As if another process called stable_token with force_refresh: a new token, the old one invalid. */
  rotateStable(): string {
    return this.#issueStable()
  }

  /** The token stable_token currently returns. */
  get currentStableToken(): string | undefined {
    return this.#stable
  }

  async start(): Promise<this> {
    const address = await this.app.listen({ host: '127.0.0.1', port: 0 })
    this.baseUrl = address
    return this
  }

  async close(): Promise<void> {
    await this.app.close()
  }

  #queue(path: string, inj: Injected): void {
    const list = this.#inject.get(path) ?? []
    list.push(inj)
    this.#inject.set(path, list)
  }

  #newToken(): string {
    this.#serial++
    const token = `TOKEN_${this.#serial}_${'x'.repeat(20)}`
    this.#tokens.set(token, this.#now() + this.#ttlSec * 1000)
    return token
  }

  #issueStable(): string {
    if (this.#stable) this.#tokens.delete(this.#stable)
    this.#stable = this.#newToken()
    return this.#stable
  }

  #remainingSec(token: string): number {
    return Math.max(0, Math.ceil(((this.#tokens.get(token) ?? 0) - this.#now()) / 1000))
  }

  /** Checks `access_token`; returns an error body or undefined. */
  #auth(query: Record<string, string>): { errcode: number; errmsg: string } | undefined {
    const token = query['access_token']
    if (!token) return { errcode: 41001, errmsg: 'access_token missing' }
    const expiresAt = this.#tokens.get(token)
    if (expiresAt === undefined || this.#poisoned.has(token)) {
      return { errcode: 40001, errmsg: 'invalid credential, access_token is invalid or not latest' }
    }
    if (this.#now() >= expiresAt) return { errcode: 42001, errmsg: 'access_token expired' }
    return undefined
  }

  #routes(): void {
    const app = this.app
    app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))

    app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      const path = req.url.split('?')[0] ?? req.url
      const record: RecordedRequest = {
        method: req.method,
        path,
        query: { ...(req.query as Record<string, string>) },
        body: Buffer.isBuffer(req.body) ? undefined : req.body,
        contentType: req.headers['content-type'],
      }
      if (Buffer.isBuffer(req.body)) {
        const form = await new Response(req.body, { headers: { 'content-type': String(req.headers['content-type']) } }).formData()
        record.parts = []
        for (const [field, value] of form.entries()) {
          if (typeof value === 'string') continue
          record.parts.push({ field, filename: value.name, contentType: value.type, bytes: Buffer.from(await value.arrayBuffer()) })
        }
      }
      this.requests.push(record)
      const inj = this.#inject.get(path)?.shift()
      if (!inj) return
      if (inj.delayMs) await new Promise((r) => setTimeout(r, inj.delayMs))
      if (inj.drop) {
        reply.hijack()
        req.raw.socket.destroy()
        return
      }
      if (inj.httpStatus) return reply.code(inj.httpStatus).type('text/html').send('<html>bad gateway</html>')
      if (inj.errcode !== undefined) return reply.type(JSON_TYPE).send({ errcode: inj.errcode, errmsg: inj.errmsg })
    })

    const authed =
      (handler: (req: FastifyRequest, reply: FastifyReply) => unknown) => async (req: FastifyRequest, reply: FastifyReply) => {
        const err = this.#auth(req.query as Record<string, string>)
        if (err) return reply.type(JSON_TYPE).send(err)
        return handler(req, reply)
      }
    const ok = { errcode: 0, errmsg: 'ok' }

    app.post('/cgi-bin/stable_token', async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>
      if (b['grant_type'] !== 'client_credential') return reply.type(JSON_TYPE).send({ errcode: 40002, errmsg: 'invalid grant_type' })
      if (b['appid'] !== this.appId) return reply.type(JSON_TYPE).send({ errcode: 40013, errmsg: 'invalid appid' })
      if (b['secret'] !== this.appSecret) return reply.type(JSON_TYPE).send({ errcode: 40125, errmsg: 'invalid appsecret' })
      const current = this.#stable
      const valid = current !== undefined && (this.#tokens.get(current) ?? 0) > this.#now()
      const token = b['force_refresh'] === true || !valid ? this.#issueStable() : current
      return reply.type(JSON_TYPE).send({ access_token: token, expires_in: this.#remainingSec(token) })
    })

    app.get('/cgi-bin/token', async (req, reply) => {
      const q = req.query as Record<string, string>
      if (q['grant_type'] !== 'client_credential') return reply.type(JSON_TYPE).send({ errcode: 40002, errmsg: 'invalid grant_type' })
      if (q['appid'] !== this.appId) return reply.type(JSON_TYPE).send({ errcode: 40013, errmsg: 'invalid appid' })
      if (q['secret'] !== this.appSecret) return reply.type(JSON_TYPE).send({ errcode: 40125, errmsg: 'invalid appsecret' })
      if (this.#classic) this.#tokens.delete(this.#classic)
      this.#classic = this.#newToken()
      return reply.type(JSON_TYPE).send({ access_token: this.#classic, expires_in: this.#ttlSec })
    })

    app.post('/cgi-bin/message/custom/send', authed(async (req, reply) => {
      const b = req.body as Record<string, unknown>
      if (typeof b?.['touser'] !== 'string' || typeof b['msgtype'] !== 'string') {
        return reply.type(JSON_TYPE).send({ errcode: 40003, errmsg: 'invalid openid' })
      }
      return reply.type(JSON_TYPE).send(ok)
    }))

    app.post('/cgi-bin/message/custom/typing', authed(async (req, reply) => {
      const b = req.body as Record<string, unknown>
      if (b?.['command'] !== 'Typing' && b?.['command'] !== 'CancelTyping') {
        return reply.type(JSON_TYPE).send({ errcode: 45072, errmsg: 'invalid command' })
      }
      return reply.type(JSON_TYPE).send(ok)
    }))

    app.post('/cgi-bin/menu/create', authed(async (req, reply) => {
      this.menu = req.body as Record<string, unknown>
      return reply.type(JSON_TYPE).send(ok)
    }))
    app.get('/cgi-bin/menu/get', authed(async (_req, reply) => {
      if (!this.menu) return reply.type(JSON_TYPE).send({ errcode: 46003, errmsg: 'menu no exist' })
      return reply.type(JSON_TYPE).send({ menu: { ...this.menu, menuid: 208396938 } })
    }))
    app.get('/cgi-bin/menu/delete', authed(async (_req, reply) => {
      this.menu = undefined
      return reply.type(JSON_TYPE).send(ok)
    }))

    app.post('/cgi-bin/media/upload', authed(async (req, reply) => {
      const type = (req.query as Record<string, string>)['type'] ?? ''
      if (!['image', 'voice', 'video', 'thumb'].includes(type)) return reply.type(JSON_TYPE).send({ errcode: 40004, errmsg: 'invalid media type' })
      const part = this.requests.at(-1)?.parts?.find((p) => p.field === 'media')
      if (!part) return reply.type(JSON_TYPE).send({ errcode: 41005, errmsg: 'media data missing' })
      const mediaId = `MEDIA_${this.media.size + 1}`
      this.media.set(mediaId, { type, bytes: part.bytes, contentType: part.contentType, filename: part.filename })
      return reply.type(JSON_TYPE).send({ type, media_id: mediaId, created_at: Math.floor(this.#now() / 1000) })
    }))
    app.get('/cgi-bin/media/get', authed(async (req, reply) => {
      const id = (req.query as Record<string, string>)['media_id'] ?? ''
      const m = this.media.get(id)
      if (!m) return reply.type('text/plain').send(JSON.stringify({ errcode: 40007, errmsg: 'invalid media_id' }))
      if (m.type === 'video') return reply.type('text/plain').send(JSON.stringify({ video_url: `http://fake.video/${id}.mp4` }))
      return reply
        .type(m.type === 'voice' ? 'audio/amr' : 'image/jpeg')
        .header('content-disposition', `attachment; filename="${id}.jpg"`)
        .send(m.bytes)
    }))

    app.post('/cgi-bin/message/template/send', authed(async (req, reply) => {
      const b = req.body as Record<string, unknown>
      if (typeof b?.['template_id'] !== 'string') return reply.type(JSON_TYPE).send({ errcode: 40037, errmsg: 'invalid template_id' })
      // A 64-bit msgid, beyond Number.MAX_SAFE_INTEGER, written raw as WeChat does.
      return reply.type(JSON_TYPE).send('{"errcode":0,"errmsg":"ok","msgid":3147483648123456789}')
    }))

    app.get('/cgi-bin/user/info', authed(async (req, reply) => {
      const openid = (req.query as Record<string, string>)['openid'] ?? ''
      const user = this.users.get(openid)
      if (!user) return reply.type(JSON_TYPE).send({ errcode: 40003, errmsg: 'invalid openid' })
      return reply.type(JSON_TYPE).send(user)
    }))
    app.get('/cgi-bin/user/get', authed(async (req, reply) => {
      const next = (req.query as Record<string, string>)['next_openid'] ?? ''
      const all = [...this.users.keys()].sort()
      const start = next ? all.indexOf(next) + 1 : 0
      const page = all.slice(start, start + 2) // tiny pages to exercise paging
      if (page.length === 0) return reply.type(JSON_TYPE).send({ total: all.length, count: 0, next_openid: '' })
      return reply.type(JSON_TYPE).send({ total: all.length, count: page.length, data: { openid: page }, next_openid: page.at(-1) })
    }))

    app.post('/cgi-bin/qrcode/create', authed(async (req, reply) => {
      const b = req.body as Record<string, unknown>
      const ticket = `gQH47joAAAAAAAAAASxodHRwOi8v+/=${this.#serial++}`
      const res: Record<string, unknown> = { ticket, url: 'http://weixin.qq.com/q/kZgfwMTm72WWPkovabbI' }
      if (String(b?.['action_name']).startsWith('QR_') && !String(b?.['action_name']).startsWith('QR_LIMIT')) {
        res['expire_seconds'] = typeof b['expire_seconds'] === 'number' ? b['expire_seconds'] : 60
      }
      return reply.type(JSON_TYPE).send(res)
    }))

    app.get('/cgi-bin/tags/get', authed(async (_req, reply) => reply.type(JSON_TYPE).send({ tags: [{ id: 2, name: '星标组', count: 0 }] })))
  }
}

/** Creates and starts a fake server. */
export async function startFakeWeChatApi(options: FakeWeChatApiOptions = {}): Promise<FakeWeChatApi> {
  return new FakeWeChatApi(options).start()
}
