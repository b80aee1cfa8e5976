/**
 * End to end: the emulator against this project's own server running the demo bot, in plain,
 * compatible and safe mode — every message kind the demo answers, judged as WeChat would.
 */
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { loadHandlers } from '../../src/cli/load-handlers.js'
import { createEmulator, createServer, type EmulatorMode } from '../../src/index.js'

const token = 'ownServerToken'
const aesKey = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const appId = 'wx00ownserver'
const demo = fileURLToPath(new URL('../../demo/demo.ts', import.meta.url))

const modes: EmulatorMode[] = ['plain', 'compat', 'safe']

for (const mode of modes) {
  t.test(`the demo bot in ${mode} mode`, async (t) => {
    const handlers = await loadHandlers(demo)
    // A plain-mode account has no AES key: with one, the server refuses plain pushes.
    const keys = mode === 'plain' ? {} : { aesKey, appId }
    const app = await createServer({ ...handlers, token, ...keys, logger: false, env: {} })
    t.teardown(() => app.close())
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    const wechat = createEmulator({ url: `${address}/wx`, token, aesKey, appId, mode })

    const text = await wechat.send('你好 ]]> <b>&amp;</b> 👋')
    t.equal(text.ok, true)
    t.equal(text.shown, '你好 ]]> <b>&amp;</b> 👋', 'text echoed back unchanged')
    t.same(text.warnings.filter((w) => w.level === 'error'), [], 'no errors in the judgement')
    t.equal(text.attempts.length, 1)
    t.equal(text.attempts[0]!.status, 200)

    const image = await wechat.send({ msgType: 'image', picUrl: 'https://example.com/p.jpg', mediaId: 'MEDIA_42' })
    t.equal(image.reply?.msgType, 'image')
    t.match(image.shown, /MEDIA_42/, 'the same MediaId comes back')

    const voice = await wechat.send({ msgType: 'voice', mediaId: 'V1', recognition: '今天天气怎么样' })
    t.match(voice.shown, /今天天气怎么样/, 'voice answered with the recognition text')

    const subscribe = await wechat.send({ msgType: 'event', event: 'subscribe', eventKey: 'qrscene_2024', ticket: 'TICKET' })
    t.match(subscribe.shown, /欢迎关注/)
    t.match(subscribe.shown, /2024/, 'the QR scene is mentioned')

    const click = await wechat.send({ msgType: 'event', event: 'CLICK', eventKey: 'V1001_TODAY' })
    t.match(click.shown, /V1001_TODAY/)

    const view = await wechat.send({ msgType: 'event', event: 'VIEW', eventKey: 'https://example.com' })
    t.equal(view.reply, null, 'events without an answer get success')
    t.equal(view.shown, '')
    t.equal(view.ok, true)
  })
}
