/**
 * What a bubble draws for each passive reply kind, and the push each button sends.
 */
import t from 'tap'
import { readAction } from '../../src/playground/actions.js'
import { cardOfReply } from '../../src/playground/card.js'

t.test('every passive reply kind has its card', async (t) => {
  t.same(cardOfReply({ msgType: 'text', content: 'hi' }), { kind: 'text', text: 'hi' })
  t.same(cardOfReply({ msgType: 'voice', mediaId: 'V' }), { kind: 'voice', mediaId: 'V' })
  t.same(cardOfReply({ msgType: 'video', mediaId: 'M', title: 'T', description: '' }), { kind: 'video', mediaId: 'M', title: 'T' })
  t.same(cardOfReply({ msgType: 'music', thumbMediaId: 'th', title: 'Song', description: 'D', musicUrl: 'http://m' }), {
    kind: 'music',
    title: 'Song',
    description: 'D',
    musicUrl: 'http://m',
  })
  t.same(cardOfReply({ msgType: 'news', articles: [{ title: 'A', description: 'a', url: 'http://a' }, { title: 'B' }] }), {
    kind: 'news',
    articles: [{ title: 'A', description: 'a', url: 'http://a' }, { title: 'B' }],
  })
  t.same(cardOfReply({ msgType: 'transfer_customer_service', kfAccount: 'kf1@gh' }), { kind: 'transfer', kfAccount: 'kf1@gh' })
})

t.test('each button sends the push WeChat would', async (t) => {
  t.same(readAction({ action: 'follow' }).input, { msgType: 'event', event: 'subscribe' })
  t.same(readAction({ action: 'unfollow' }).input, { msgType: 'event', event: 'unsubscribe' })
  t.same(readAction({ action: 'click', key: ' MENU_HELP ' }), { action: 'click', input: { msgType: 'event', event: 'CLICK', eventKey: 'MENU_HELP' }, label: '[菜单 Menu: MENU_HELP]' })
  const scan = readAction({ action: 'scan', scene: '42' })
  t.match(scan.input, { msgType: 'event', event: 'SCAN', eventKey: '42', ticket: /^[0-9a-f]{24}$/ })
  t.same(readAction({ action: 'location', lat: '-23.5', lng: '113' }).input, { msgType: 'location', locationX: -23.5, locationY: 113, scale: 15, label: '' })
  const image = readAction({ action: 'image' }).input as { mediaId: string; picUrl: string }
  t.match(image.mediaId, /^play_/)
  t.not(readAction({ action: 'image' }).input, image, 'a new MediaId each time')
  t.equal(readAction({ action: 'text', text: '好'.repeat(682) }).label.length, 682, '2046 bytes is within the limit')
})
