// Stub servers for the emulator tests: a correct WeChat server (it verifies every signature and
// decrypts, so it proves the emulator's requests right) and raw handlers for misbehaving ones.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  WxMpCrypto,
  checkSignature,
  parseMessage,
  parseXmlDocument,
  renderReply,
  type Message,
  type Reply,
} from '../../src/core/index.js'

export const token = 'emulatorToken123'
export const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
export const appId = 'wx1234567890abcdef'

export interface Received {
  method: string
  url: URL
  headers: IncomingMessage['headers']
  body: string
  /** The client's port: a different one for every new connection. */
  remotePort: number
}

export interface StubAnswer {
  status?: number
  body?: string
  headers?: Record<string, string>
  /** Answer after this many milliseconds. */
  delayMs?: number
}

export type Handler = (req: Received) => StubAnswer | Promise<StubAnswer>

export interface Stub {
  url: string
  received: Received[]
  close(): Promise<void>
}

interface Tap {
  teardown(fn: () => unknown): void
}

/** Starts a server on 127.0.0.1:0 that answers with `handler`; closed at teardown. */
export async function startStub(t: Tap, handler: Handler): Promise<Stub> {
  const received: Received[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: new URL(req.url ?? '/', 'http://127.0.0.1'),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort ?? 0,
      }
      received.push(r)
      void Promise.resolve(handler(r)).then((answer) => {
        const write = (): void => {
          if (res.destroyed) return
          res.writeHead(answer.status ?? 200, { 'content-type': 'text/plain', ...answer.headers })
          res.end(answer.body ?? '')
        }
        if (answer.delayMs) {
          const timer = setTimeout(() => {
            timers.delete(timer)
            write()
          }, answer.delayMs)
          timers.add(timer)
        } else write()
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const stub: Stub = {
    url: `http://127.0.0.1:${port}/wechat`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  t.teardown(() => stub.close())
  return stub
}

/** A port nothing listens on. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export interface WellBehavedOptions {
  mode: 'plain' | 'compat' | 'safe'
  /** What the bot answers; `undefined` → "success". */
  reply?: (msg: Message) => Reply | undefined
  /** Sign/encrypt replies with this appId instead (a misbehaving server). */
  replyAppId?: string
  /** Corrupt the reply's MsgSignature. */
  badSignature?: boolean
  /** Reply in plaintext even in safe mode. */
  plaintextReply?: boolean
  /** Post-process the rendered plaintext reply XML. */
  mutateReply?: (xml: string) => string
  /** Seen messages, for the tests. */
  messages?: Message[]
}

/**
 * A correct WeChat server: checks `signature` on every request; in compat/safe mode checks
 * `msg_signature` over `<Encrypt>` and decrypts (which checks the appId); parses the push;
 * answers the reply rendered by the core, encrypted in compat/safe mode.
 */
export function wellBehaved(options: WellBehavedOptions): Handler {
  const crypto = new WxMpCrypto({ token, aesKey, appId })
  const replyCrypto = options.replyAppId ? new WxMpCrypto({ token, aesKey, appId: options.replyAppId }) : crypto
  return (req) => {
    const q = (name: string): string => req.url.searchParams.get(name) ?? ''
    if (!checkSignature(token, q('signature'), q('timestamp'), q('nonce'))) return { status: 401, body: 'bad signature' }
    if (req.method === 'GET') return { body: q('echostr') }
    if (!String(req.headers['content-type']).startsWith('text/xml')) return { status: 415, body: 'not text/xml' }
    let xml = req.body
    const encrypted = q('encrypt_type') === 'aes'
    if (encrypted !== (options.mode !== 'plain')) return { status: 400, body: `encrypt_type=${q('encrypt_type')} in ${options.mode} mode` }
    if (encrypted) {
      const envelope = parseXmlDocument(req.body)
      const tags = Object.keys(envelope).sort().join(',')
      if (options.mode === 'safe' && tags !== 'Encrypt,ToUserName') return { status: 400, body: `safe envelope has ${tags}` }
      if (options.mode === 'compat' && !('MsgType' in envelope && 'Encrypt' in envelope)) return { status: 400, body: `compat body has ${tags}` }
      try {
        xml = crypto.decryptMessage(req.body, { msgSignature: q('msg_signature'), timestamp: q('timestamp'), nonce: q('nonce') })
      } catch (err) {
        return { status: 403, body: (err as Error).message }
      }
    }
    const msg = parseMessage(xml)
    if (q('openid') !== msg.fromUserName) return { status: 400, body: 'openid differs from FromUserName' }
    options.messages?.push(msg)
    const answer = options.reply?.(msg)
    if (answer === undefined) return { body: 'success' }
    let replyXml = renderReply(answer, msg)
    if (options.mutateReply) replyXml = options.mutateReply(replyXml)
    if (!encrypted || options.plaintextReply) return { body: replyXml, headers: { 'content-type': 'text/xml' } }
    let envelope = replyCrypto.encryptMessage(replyXml, { timestamp: Math.floor(Date.now() / 1000), nonce: '12345' })
    if (options.badSignature) envelope = envelope.replace(/<MsgSignature><!\[CDATA\[([0-9a-f])/, (_m, c: string) => `<MsgSignature><![CDATA[${c === '0' ? '1' : '0'}`)
    return { body: envelope, headers: { 'content-type': 'text/xml' } }
  }
}
