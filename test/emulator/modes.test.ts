// The emulator against a correct server in plain, compatible and safe mode: the stub checks every
// signature and decrypts, so a reply proves the emulator's requests are what WeChat sends.
import t, { type Test } from 'tap'
import { createEmulator, type PushInput } from '../../src/emulator/index.js'
import type { Message } from '../../src/core/index.js'
import { aesKey, appId, startStub, token, wellBehaved } from './stub.js'

const modes = ['plain', 'compat', 'safe'] as const

for (const mode of modes) {
  t.test(`${mode} mode: a text gets the bot's reply`, async (t) => {
    const messages: Message[] = []
    const stub = await startStub(t, wellBehaved({ mode, messages, reply: (m) => (m.msgType === 'text' ? `echo: ${m.content}` : undefined) }))
    const wechat = createEmulator({ url: stub.url, token, aesKey, appId, mode })
    const result = await wechat.send('你好 ]]> <b>&amp; 👋')
    t.equal(result.ok, true)
    t.equal(result.shown, 'echo: 你好 ]]> <b>&amp; 👋')
    t.same(result.reply, { msgType: 'text', content: 'echo: 你好 ]]> <b>&amp; 👋' })
    t.same(result.warnings, [])
    t.equal(result.attempts.length, 1)
    t.equal(result.attempts[0]?.status, 200)
    t.notOk('error' in result.attempts[0]!)
    const req = stub.received[0]!
    t.equal(req.method, 'POST')
    t.match(req.headers['content-type'], /^text\/xml/)
    const q = req.url.searchParams
    t.ok(q.get('signature') && q.get('timestamp') && q.get('nonce'))
    t.equal(q.get('openid'), wechat.fromUserName)
    t.equal(q.get('encrypt_type'), mode === 'plain' ? null : 'aes')
    t.equal(q.has('msg_signature'), mode !== 'plain')
    const msg = messages[0]!
    t.equal(msg.msgType, 'text')
    t.equal(msg.fromUserName, wechat.fromUserName)
    t.equal(msg.toUserName, wechat.toUserName)
    t.match(String(msg.raw['MsgId']), /^\d{19}$/)
    t.equal(result.msgId, msg.raw['MsgId'])
    t.ok(Math.abs(msg.createTime - Date.now() / 1000) < 5, 'CreateTime in seconds')
  })

  t.test(`${mode} mode: "success" means no reply`, async (t) => {
    const stub = await startStub(t, wellBehaved({ mode }))
    const result = await createEmulator({ url: stub.url, token, aesKey, appId, mode }).send('hi')
    t.equal(result.ok, true)
    t.equal(result.shown, '')
    t.equal(result.reply, null)
    t.same(result.warnings, [])
  })
}

t.test('mode defaults to safe with an AES key, plain without', async (t) => {
  t.equal(createEmulator({ url: 'http://127.0.0.1/', token, aesKey, appId }).mode, 'safe')
  t.equal(createEmulator({ url: 'http://127.0.0.1/', token }).mode, 'plain')
  t.throws(() => createEmulator({ url: 'http://127.0.0.1/', token, mode: 'safe' }), { code: 'INVALID_CONFIG' })
  t.throws(() => createEmulator({ url: 'http://127.0.0.1/', token, aesKey, mode: 'compat' }), { code: 'INVALID_CONFIG', message: /appId/ })
  t.throws(() => createEmulator({ url: 'http://127.0.0.1/', token: '' }), { code: 'INVALID_CONFIG' })
  t.throws(() => createEmulator({ url: 'ftp://x/', token }), { code: 'INVALID_CONFIG' })
  t.throws(() => createEmulator({ url: 'http://127.0.0.1/', token, aesKey: 'short', appId }), { code: 'INVALID_AES_KEY' })
})

// Every inbound kind, parsed by the core on the stub side: the pushes carry what each kind needs.
const kinds: Array<[PushInput, (t: Test, m: Message) => void]> = [
  [{ msgType: 'image', picUrl: 'https://mmbiz.example/pic.jpg' }, (t, m) => t.match(m, { msgType: 'image', picUrl: 'https://mmbiz.example/pic.jpg', mediaId: /.+/ })],
  [{ msgType: 'voice', recognition: '你好' }, (t, m) => t.match(m, { msgType: 'voice', format: 'amr', recognition: '你好' })],
  [{ msgType: 'voice' }, (t, m) => t.notOk('recognition' in m)],
  [{ msgType: 'video' }, (t, m) => t.match(m, { msgType: 'video', mediaId: /.+/, thumbMediaId: /.+/ })],
  [{ msgType: 'shortvideo' }, (t, m) => t.match(m, { msgType: 'shortvideo' })],
  [{ msgType: 'location', locationX: 39.9042, locationY: 116.4074, label: '北京' }, (t, m) => t.match(m, { msgType: 'location', locationX: '39.9042', locationY: '116.4074', scale: '15', label: '北京' })],
  [{ msgType: 'link', url: 'https://example.com/a', title: 'A' }, (t, m) => t.match(m, { msgType: 'link', url: 'https://example.com/a', title: 'A' })],
  [{ msgType: 'event', event: 'subscribe' }, (t, m) => t.match(m, { msgType: 'event', event: 'subscribe' })],
  [{ msgType: 'event', event: 'subscribe', eventKey: 'qrscene_42', ticket: 'T' }, (t, m) => t.match(m, { event: 'subscribe', qrScene: '42', ticket: 'T' })],
  [{ msgType: 'event', event: 'unsubscribe' }, (t, m) => t.match(m, { event: 'unsubscribe' })],
  [{ msgType: 'event', event: 'SCAN', eventKey: '42', ticket: 'T' }, (t, m) => t.match(m, { event: 'SCAN', eventKey: '42', qrScene: '42' })],
  [{ msgType: 'event', event: 'LOCATION', latitude: 23.1, longitude: 113.3 }, (t, m) => t.match(m, { event: 'LOCATION', latitude: '23.1', longitude: '113.3', precision: /\d/ })],
  [{ msgType: 'event', event: 'CLICK', eventKey: 'MENU_HELP' }, (t, m) => t.match(m, { event: 'CLICK', eventKey: 'MENU_HELP' })],
  [{ msgType: 'event', event: 'VIEW', eventKey: 'https://example.com', menuId: '1' }, (t, m) => t.match(m, { event: 'VIEW', eventKey: 'https://example.com', menuId: '1' })],
  [{ msgType: 'event', event: 'scancode_waitmsg', eventKey: 'K', scanResult: 'CODE' }, (t, m) => t.match(m, { event: 'scancode_waitmsg', scanCodeInfo: { scanType: 'qrcode', scanResult: 'CODE' } })],
  [{ msgType: 'event', event: 'pic_weixin', eventKey: 'K', picMd5Sums: ['a', 'b'] }, (t, m) => t.match(m, { event: 'pic_weixin', sendPicsInfo: { count: 2, picList: [{ picMd5Sum: 'a' }, { picMd5Sum: 'b' }] } })],
  [{ msgType: 'event', event: 'location_select', eventKey: 'K', locationX: 1, locationY: 2, poiname: 'P' }, (t, m) => t.match(m, { event: 'location_select', sendLocationInfo: { locationX: '1', locationY: '2', poiname: 'P' } })],
  [{ msgType: 'event', event: 'TEMPLATESENDJOBFINISH' }, (t, m) => t.match(m, { event: 'TEMPLATESENDJOBFINISH', status: 'success', msgId: /^\d+$/ })],
  [{ custom: true, msgType: 'event', event: 'kf_create_session', elements: { KfAccount: 'a@gh' } }, (t, m) => t.match(m, { event: 'kf_create_session', kfAccount: 'a@gh' })],
]

t.test('every inbound kind reaches a safe-mode server with the fields it needs', async (t) => {
  const messages: Message[] = []
  const stub = await startStub(t, wellBehaved({ mode: 'safe', messages }))
  const wechat = createEmulator({ url: stub.url, token, aesKey, appId })
  for (const [input, check] of kinds) {
    const result = await wechat.send(input)
    t.equal(result.ok, true, JSON.stringify(input))
    check(t, messages.at(-1)!)
    const isEvent = typeof input !== 'string' && input.msgType === 'event'
    t.equal(result.msgId === undefined, isEvent, 'MsgId only on ordinary messages')
  }
  t.equal(messages.length, kinds.length)
})

t.test('a required field missing is a config error, not a request', async (t) => {
  const wechat = createEmulator({ url: 'http://127.0.0.1:9/', token })
  await t.rejects(wechat.send({ msgType: 'event', event: 'CLICK', eventKey: '' }), { code: 'INVALID_CONFIG', message: /eventKey/ })
})
