/**
 * Shared helpers of the serverless tests (not a test file): WeChat's requests built with the
 * protocol core's WeChat side (writeMessage, signPushQuery, WxMpCrypto.sealPush/openReply), the
 * recorded platform events of `fixtures/` filled with such a request, and a logger that keeps
 * its lines.
 */
import { readFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { WxMpCrypto, computeSignature, parseReply, signPushQuery, writeMessage, type ParsedReply } from '../../src/core/index.js'
import type { Log } from '../../src/server/handlers.js'
import type { EventResponse } from '../../src/serverless/index.js'

export const TOKEN = 'tokS3cretQ9z'
export const AES_KEY = 'Zq7WxMpSvrTestKey0123456789abcdefghijklmnoP'
export const APP_ID = 'wx1234567890abcdef'
export const ACCOUNT = 'gh_0123456789ab'
export const crypto = new WxMpCrypto({ token: TOKEN, aesKey: AES_KEY, appId: APP_ID })

/** A request as WeChat makes it, before a platform wraps it. */
export interface WireRequest {
  method: string
  query: Record<string, string>
  body?: string
}

let counter = 0
/** A fresh 64-bit-looking MsgId (unique per call). */
export function msgId(): string {
  counter++
  return `2459${Date.now()}${String(counter).padStart(4, '0')}`
}

/** The plaintext XML of a text message. */
export function textXml(content: string, options: { user?: string; id?: string; createTime?: number } = {}): string {
  return writeMessage({
    msgType: 'text',
    toUserName: ACCOUNT,
    fromUserName: options.user ?? 'oUser_A',
    createTime: options.createTime ?? Math.floor(Date.now() / 1000),
    content,
    msgId: options.id ?? msgId(),
  })
}

function stamp(): { timestamp: number; nonce: string } {
  return { timestamp: Math.floor(Date.now() / 1000), nonce: String(randomBytes(4).readUInt32BE()) }
}

/** URL verification (the admin page's 提交). */
export function verifyRequest(echostr: string): WireRequest {
  const { timestamp, nonce } = stamp()
  return { method: 'GET', query: { signature: computeSignature(TOKEN, String(timestamp), nonce), timestamp: String(timestamp), nonce, echostr } }
}

/** A push in plain, compatible or safe mode. */
export function push(xml: string, mode: 'plain' | 'compat' | 'safe'): WireRequest {
  const { timestamp, nonce } = stamp()
  if (mode === 'plain') return { method: 'POST', query: { ...signPushQuery(TOKEN, { timestamp, nonce, openid: 'oUser_A' }) }, body: xml }
  const sealed = crypto.sealPush(xml, { timestamp, nonce, mode })
  return { method: 'POST', query: { ...sealed.query } as Record<string, string>, body: sealed.body }
}

/** The same request with a signature made with another token. */
export function badSignature(request: WireRequest): WireRequest {
  return { ...request, query: { ...request.query, signature: computeSignature('wrongToken', request.query['timestamp']!, request.query['nonce']!) } }
}

/** A reply body read back: decrypted first when it is an encrypted envelope. */
export function readReply(body: string): ParsedReply {
  return parseReply(body.includes('<Encrypt>') ? crypto.openReply(body) : body)
}

/** The text of a text reply. */
export function replyText(body: string): string {
  const { reply } = readReply(body)
  if (reply.msgType !== 'text') throw new Error(`expected a text reply, got ${reply.msgType}`)
  return reply.content
}

// ---------------------------------------------------------------------------------------------
// Platform events

/** A recorded event of `fixtures/` (the doc link is its `_doc`). */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Record<string, unknown>
}

/** How a test hands a request to a platform's event. */
export interface EventShape {
  /** The platform and trigger. */
  name: string
  /** Which adapter takes it. */
  adapter: 'scf' | 'fc' | 'lambda'
  /** The recorded event, filled with the request (path, base64 body on request). */
  event(request: WireRequest, options?: { path?: string; base64?: boolean }): unknown
}

function body(request: WireRequest, base64: boolean | undefined): string {
  const text = request.body ?? ''
  return base64 ? Buffer.from(text, 'utf8').toString('base64') : text
}

export const eventShapes: EventShape[] = [
  {
    name: 'SCF function URL',
    adapter: 'scf',
    event: (r, o = {}) => ({ ...fixture('scf-function-url'), httpMethod: r.method, path: o.path ?? '/', queryString: r.query, body: body(r, o.base64), ...(o.base64 ? { isBase64Encoded: true } : {}) }),
  },
  {
    name: 'SCF API Gateway',
    adapter: 'scf',
    // queryString holds every parameter; queryStringParameters only those declared on the API (none of WeChat's here).
    event: (r, o = {}) => ({ ...fixture('scf-api-gateway'), httpMethod: r.method, path: o.path ?? '/test/value', queryString: r.query, queryStringParameters: { foo: 'bar' }, body: body(r, o.base64), isBase64Encoded: o.base64 === true }),
  },
  {
    name: 'FC 3.0 HTTP trigger (object)',
    adapter: 'fc',
    event: (r, o = {}) => fcEvent(r, o),
  },
  {
    name: 'FC 3.0 HTTP trigger (Buffer of JSON)',
    adapter: 'fc',
    event: (r, o = {}) => Buffer.from(JSON.stringify(fcEvent(r, o)), 'utf8'),
  },
  {
    name: 'Lambda API Gateway v1',
    adapter: 'lambda',
    event: (r, o = {}) => {
      const f = fixture('lambda-apigw-v1')
      const multi = Object.fromEntries(Object.entries(r.query).map(([k, v]) => [k, [v]]))
      return { ...f, httpMethod: r.method, path: o.path ?? '/my/path', queryStringParameters: r.query, multiValueQueryStringParameters: multi, body: body(r, o.base64), isBase64Encoded: o.base64 === true, requestContext: { ...(f['requestContext'] as object), httpMethod: r.method, requestTimeEpoch: Date.now() } }
    },
  },
  {
    name: 'Lambda function URL (v2)',
    adapter: 'lambda',
    event: (r, o = {}) => {
      const f = fixture('lambda-function-url')
      const ctx = f['requestContext'] as Record<string, unknown>
      const path = o.path ?? '/my/path'
      return { ...f, rawPath: path, rawQueryString: new URLSearchParams(r.query).toString(), queryStringParameters: r.query, body: body(r, o.base64), isBase64Encoded: o.base64 === true, requestContext: { ...ctx, http: { ...(ctx['http'] as object), method: r.method, path }, timeEpoch: Date.now() } }
    },
  },
]

function fcEvent(r: WireRequest, o: { path?: string; base64?: boolean }): Record<string, unknown> {
  const f = fixture('fc-http-trigger')
  const ctx = f['requestContext'] as Record<string, unknown>
  const path = o.path ?? '/example'
  return { ...f, rawPath: path, queryParameters: r.query, body: body(r, o.base64), isBase64Encoded: o.base64 === true, requestContext: { ...ctx, http: { ...(ctx['http'] as object), method: r.method, path }, timeEpoch: String(Date.now()) } }
}

/** An event function's answer must be an explicit HTTP response, never an object a platform serialises as JSON. */
export function isEventResponse(value: unknown): value is EventResponse {
  if (value === null || typeof value !== 'object') return false
  const v = value as Record<string, unknown>
  return typeof v['statusCode'] === 'number' && typeof v['body'] === 'string' && typeof (v['headers'] as Record<string, unknown>)?.['content-type'] === 'string'
}

// ---------------------------------------------------------------------------------------------
// Logging

/** A {@link Log} that keeps its lines (objects with `level` and `msg`). */
export function captureLog(): { log: Log; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const make = (bindings: Record<string, unknown>): Log => {
    const at = (level: string) => (obj: unknown, msg?: string) => {
      lines.push(typeof obj === 'string' ? { ...bindings, level, msg: obj } : { ...bindings, ...(obj as object), level, msg })
    }
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => make({ ...bindings, ...b }) }
  }
  return { log: make({}), lines }
}
