// The reference peer of the benchmark: a careful echo bot written directly on Fastify,
// fast-xml-parser and node:crypto, with none of the kit's machinery (no dedup, no reply deadline,
// no slow-reply strategy, no log line). What a competent hand-written server pays per push, so the
// kit's overhead over "doing it yourself" can be read off.
//
// Careful means: the signature (and in safe mode msg_signature) is checked in constant time, the
// timestamp must be within 300 s, the XML is parsed with entities and DOCTYPEs off, the AES
// envelope's padding, length and AppID are checked, and the reply escapes CDATA.
//
// Env: PORT, WX_MP_TOKEN, and for 安全模式 WX_MP_AES_KEY and WX_MP_APPID.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import { XMLParser } from 'fast-xml-parser'

const token = process.env.WX_MP_TOKEN ?? ''
const aesKey = process.env.WX_MP_AES_KEY ? Buffer.from(process.env.WX_MP_AES_KEY + '=', 'base64') : undefined
const appId = process.env.WX_MP_APPID ?? ''
if (!token) throw new Error('WX_MP_TOKEN is required')
if (aesKey && aesKey.length !== 32) throw new Error('WX_MP_AES_KEY must be the 43-character EncodingAESKey')
const iv = aesKey?.subarray(0, 16)
const appIdBytes = Buffer.from(appId)
const BLOCK = 32

const parser = new XMLParser({ processEntities: false, parseTagValue: false, ignoreDeclaration: true, ignoreAttributes: true, trimValues: false })

function sha1(parts) {
  return createHash('sha1').update(parts.sort().join('')).digest()
}

function sameHex(expected, given) {
  if (typeof given !== 'string' || given.length !== 40) return false
  return timingSafeEqual(expected, Buffer.from(given, 'hex'))
}

function freshTimestamp(timestamp) {
  const t = Number(timestamp)
  return Number.isInteger(t) && Math.abs(Date.now() / 1000 - t) <= 300
}

function cdata(text) {
  return '<![CDATA[' + String(text).replaceAll(']]>', ']]]]><![CDATA[>') + ']]>'
}

function open(encrypted) {
  const data = Buffer.from(encrypted, 'base64')
  if (data.length === 0 || data.length % BLOCK !== 0) return undefined
  const decipher = createDecipheriv('aes-256-cbc', aesKey, iv).setAutoPadding(false)
  const plain = Buffer.concat([decipher.update(data), decipher.final()])
  const pad = plain[plain.length - 1]
  if (pad < 1 || pad > BLOCK) return undefined
  for (let i = plain.length - pad; i < plain.length; i++) if (plain[i] !== pad) return undefined
  const end = plain.length - pad
  if (end < 20) return undefined
  const length = plain.readUInt32BE(16)
  if (20 + length > end) return undefined
  const from = plain.subarray(20 + length, end)
  if (from.length !== appIdBytes.length || !timingSafeEqual(from, appIdBytes)) return undefined
  return plain.toString('utf8', 20, 20 + length)
}

function seal(xml) {
  const body = Buffer.from(xml)
  const head = randomBytes(20)
  head.writeUInt32BE(body.length, 16)
  const size = 20 + body.length + appIdBytes.length
  const pad = BLOCK - (size % BLOCK)
  const cipher = createCipheriv('aes-256-cbc', aesKey, iv).setAutoPadding(false)
  const encrypted = Buffer.concat([cipher.update(Buffer.concat([head, body, appIdBytes, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64')
  const timestamp = String(Math.floor(Date.now() / 1000))
  const nonce = String(randomBytes(4).readUInt32BE(0))
  const signature = sha1([token, timestamp, nonce, encrypted]).toString('hex')
  return `<xml><Encrypt>${cdata(encrypted)}</Encrypt><MsgSignature>${cdata(signature)}</MsgSignature><TimeStamp>${timestamp}</TimeStamp><Nonce>${cdata(nonce)}</Nonce></xml>`
}

function textReply(message, content) {
  return (
    `<xml><ToUserName>${cdata(message.FromUserName)}</ToUserName><FromUserName>${cdata(message.ToUserName)}</FromUserName>` +
    `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>${cdata(content)}</Content></xml>`
  )
}

function parse(xml) {
  if (xml.includes('<!DOCTYPE') || xml.includes('<!ENTITY')) return undefined
  const root = parser.parse(xml)?.xml
  return root && typeof root === 'object' ? root : undefined
}

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })
app.removeAllContentTypeParsers()
app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))
app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'))
app.post('/wx', async (request, reply) => {
  const { signature, timestamp, nonce, msg_signature: msgSignature } = request.query
  const body = request.body
  if (typeof body !== 'string' || typeof timestamp !== 'string' || typeof nonce !== 'string') return reply.code(400).send('bad request')
  if (!freshTimestamp(timestamp)) return reply.code(401).send('stale timestamp')
  let xml = body
  if (aesKey) {
    const envelope = parse(body)
    const encrypted = envelope?.Encrypt
    if (typeof encrypted !== 'string') return reply.code(400).send('bad request')
    if (!sameHex(sha1([token, timestamp, nonce, encrypted]), msgSignature)) return reply.code(401).send('bad signature')
    xml = open(encrypted)
    if (xml === undefined) return reply.code(400).send('bad envelope')
  } else if (!sameHex(sha1([token, timestamp, nonce]), signature)) {
    return reply.code(401).send('bad signature')
  }
  const message = parse(xml)
  if (!message || typeof message.FromUserName !== 'string' || typeof message.ToUserName !== 'string') return reply.code(400).send('bad request')
  if (message.MsgType !== 'text' || typeof message.Content !== 'string') return reply.type('text/plain').send('success')
  const answer = textReply(message, message.Content)
  return reply.type('application/xml; charset=utf-8').send(aesKey ? seal(answer) : answer)
})

await app.listen({ port: Number(process.env.PORT ?? 5100), host: '127.0.0.1' })
const stop = () => app.close().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
