/**
 * The examples (examples/, type-checked with the project) work: the keyword bot answers from its
 * JSON file, and each example's handler module loads and answers a fake platform event.
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { writeMessage } from '../../src/core/index.js'
import { createScfHandler } from '../../src/serverless/index.js'
import { checkKeywordFile, keywordBot } from '../../examples/scf-keywords/keywords.js'
import { redisSkip, startRedisServer } from '../store/redis-server.js'
import { ACCOUNT, TOKEN, captureLog, eventShapes, push, readReply, replyText, textXml, verifyRequest } from './wechat.js'

const examples = fileURLToPath(new URL('../../examples/', import.meta.url))
const shape = (name: string) => eventShapes.find((s) => s.name === name)!
const keywordsFile = examples + 'scf-keywords/keywords.json'

t.test('the keyword bot answers text, image and voice from keywords.json, and welcomes subscribers', async (t) => {
  const file = checkKeywordFile(JSON.parse(readFileSync(keywordsFile, 'utf8')))
  const handler = createScfHandler({ ...keywordBot(file), token: TOKEN, env: {}, dev: true, log: captureLog().log })
  const scf = shape('SCF function URL')
  const ask = async (xml: string) => (await handler(scf.event(push(xml, 'plain')) as never)).body
  t.match(replyText(await ask(textXml('帮助'))), /价格/)
  t.match(replyText(await ask(textXml('请问价格多少'))), /99 元/, 'contains')
  t.same(readReply(await ask(textXml('二维码'))).reply, { msgType: 'image', mediaId: 'REPLACE_WITH_A_PERMANENT_IMAGE_MEDIA_ID' })
  t.same(readReply(await ask(textXml('语音'))).reply, { msgType: 'voice', mediaId: 'REPLACE_WITH_A_PERMANENT_VOICE_MEDIA_ID' })
  t.equal(replyText(await ask(textXml('随便说点什么'))), file.fallback)
  const subscribe = writeMessage({ msgType: 'event', event: 'subscribe', toUserName: ACCOUNT, fromUserName: 'oNew', createTime: Math.floor(Date.now() / 1000) })
  t.equal(replyText(await ask(subscribe)), file.welcome)
})

t.test('a malformed keywords file fails at start, saying what is wrong', async (t) => {
  t.throws(() => checkKeywordFile({ rules: [] }), /needs "welcome"/)
  t.throws(() => checkKeywordFile({ welcome: 'hi', rules: [{ keyword: 'x', match: 'exact', reply: { type: 'image' } }] }), /rule 1 needs/)
})

t.test('each example module loads and answers its platform', { skip: redisSkip() }, async (t) => {
  const redis = await startRedisServer(t)
  // The examples read their configuration from the environment, as on the platform.
  Object.assign(process.env, { WX_MP_TOKEN: TOKEN, WX_MP_REDIS_URL: redis.url, KEYWORDS_FILE: keywordsFile, LOG_LEVEL: 'silent' })

  const scf = await import('../../examples/scf-keywords/index.js')
  t.teardown(() => scf.main_handler.endpoint.close())
  const scfEvent = shape('SCF function URL').event(push(textXml('帮助'), 'plain'))
  t.match(replyText((await scf.main_handler(scfEvent as never)).body), /价格/, 'SCF keywords')

  const fc = await import('../../examples/fc/index.js')
  t.teardown(() => fc.handler.endpoint.close())
  const fcEvent = shape('FC 3.0 HTTP trigger (Buffer of JSON)').event(push(textXml('hi fc'), 'plain'))
  t.equal(replyText((await fc.handler(fcEvent as Buffer)).body), '你说：hi fc', 'FC')

  const vercel = await import('../../examples/vercel/api/wx.js')
  t.teardown(() => vercel.default.fetch.endpoint.close())
  const verify = verifyRequest('from-vercel')
  const res = await vercel.default.fetch(new Request(`https://bot.example.com/api/wx?${new URLSearchParams(verify.query)}`), { waitUntil: () => undefined })
  t.equal(await res.text(), 'from-vercel', 'Vercel')
})
