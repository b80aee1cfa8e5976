/**
 * A playground session on the demo bot, without the page: cards, the failure notice, and a slow
 * answer delivered as a 客服 message after the delivery ended.
 */
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { loadHandlers } from '../../src/cli/load-handlers.js'
import { readAction } from '../../src/playground/actions.js'
import { cardOfCustomMessage } from '../../src/playground/card.js'
import { startPlayground } from '../../src/playground/session.js'

const root = fileURLToPath(new URL('../../', import.meta.url))

t.test('an image comes back as an image card with its MediaId; a location as text', async (t) => {
  const playground = await startPlayground({
    handlerFile: 'demo/demo.ts',
    handlers: await loadHandlers('demo/demo.ts', root),
    settings: { mode: 'safe', account: 'test', strategy: 'auto' },
  })
  t.teardown(() => playground.close())
  const image = readAction({ action: 'image' })
  const sent = await playground.send(image).done
  t.equal(sent.ok, true)
  const mediaId = (image.input as { mediaId: string }).mediaId
  const reply = playground.state().bubbles.find((b) => b.exchangeId === sent.id && b.from === 'bot')
  t.same(reply?.card, { kind: 'image', mediaId })
  t.equal(reply?.text, `[image media_id=${mediaId}]`)
  const located = await playground.send(readAction({ action: 'location', lat: '23.1', lng: '113.3' })).done
  t.match(playground.state().bubbles.find((b) => b.exchangeId === located.id && b.from === 'bot')?.text, '收到一条 location 消息')
  t.equal(located.attempts[0]?.state, 'answered')
})

t.test('a bot that throws on every attempt: the failure notice, and its runs are drawn with the error', async (t) => {
  const playground = await startPlayground({
    handlerFile: 'broken.ts',
    handlers: {
      onMessage: () => {
        throw new Error('boom')
      },
      onError: () => {
        throw new Error('onError too')
      },
    },
    settings: { mode: 'plain', account: 'test', strategy: 'auto' },
  })
  t.teardown(() => playground.close())
  const record = await playground.send(readAction({ action: 'text', text: 'hi' })).done
  t.equal(record.handlerRuns[0]?.error, 'Error: boom')
  // The kit answers success when the handler throws: the user sees nothing, no notice.
  t.equal(record.ok, true)
  t.same(playground.state().bubbles.filter((b) => b.exchangeId === record.id).map((b) => b.from), ['user'])
})

t.test('customer-service: the slow answer arrives later as a 客服 bubble of its exchange', async (t) => {
  const playground = await startPlayground({
    handlerFile: 'demo/demo.ts',
    handlers: await loadHandlers('demo/demo.ts', root),
    settings: { mode: 'plain', account: 'verified', strategy: 'customer-service' },
  })
  t.teardown(() => playground.close())
  const arrived = new Promise<void>((resolve) => {
    const stop = playground.subscribe(() => {
      if (playground.state().bubbles.some((b) => b.from === 'kefu')) {
        stop()
        resolve()
      }
    })
  })
  const record = await playground.send(readAction({ action: 'text', text: '/slow 5' })).done
  t.equal(record.attempts.length, 1, 'answered at the deadline')
  await arrived
  const kefu = playground.state().bubbles.find((b) => b.from === 'kefu')!
  t.equal(kefu.exchangeId, record.id)
  t.same(kefu.card, { kind: 'text', text: '（5 秒后的回答）慢慢想好了。' })
  t.ok(kefu.at - record.sentAt >= 5000, 'after the handler')
})

t.test('the cards of customer-service messages', async (t) => {
  t.same(cardOfCustomMessage({ msgtype: 'image', image: { media_id: 'M' } }, '[image]'), { kind: 'image', mediaId: 'M' })
  t.same(cardOfCustomMessage({ msgtype: 'video', video: { media_id: 'V', title: 'T' } }, ''), { kind: 'video', mediaId: 'V', title: 'T' })
  t.same(cardOfCustomMessage({ msgtype: 'music', music: { title: 'S', musicurl: 'http://m' } }, ''), { kind: 'music', title: 'S', musicUrl: 'http://m' })
  t.same(cardOfCustomMessage({ msgtype: 'news', news: { articles: [{ title: 'A', url: 'http://a' }] } }, ''), { kind: 'news', articles: [{ title: 'A', url: 'http://a' }] })
  t.same(cardOfCustomMessage({ msgtype: 'mpnews', mpnews: { media_id: 'X' } }, '[mpnews X]'), { kind: 'other', text: '[mpnews X]' })
  t.same(cardOfCustomMessage({ msgtype: 'text' }, ''), { kind: 'text', text: '' }, 'a malformed body draws an empty text, never throws')
})
